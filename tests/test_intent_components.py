"""The voting classifier and the unknown-text guard, trained on tiny data."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.jieba_tokenizer import CleanJiebaTokenizer
from bot.nlu.unknown_text_guard import UnknownTextGuard
from bot.nlu.voting_classifier import CharNgramVotingClassifier

CONTEXT = ExecutionContext(graph_schema=None)  # type: ignore[arg-type]
EXAMPLES = {
    "request_refund": ["我要退款", "申请退款", "退款吧", "钱退给我", "麻烦退款谢谢"],
    "ask_logistics": ["快递到哪了", "什么时候发货", "物流不动了", "查一下快递", "发货了吗"],
}


@pytest.fixture()
def storage(tmp_path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def training_data() -> TrainingData:
    return TrainingData(
        [Message(data={"text": text, "intent": intent}) for intent, texts in EXAMPLES.items() for text in texts],
        regex_features=[{"name": "long_number", "pattern": r"\d{9,19}"}],
    )


def tokenizer() -> CleanJiebaTokenizer:
    return CleanJiebaTokenizer.create(
        CleanJiebaTokenizer.get_default_config(), None, Resource("tok"), CONTEXT  # type: ignore[arg-type]
    )


def diet_says(text: str, ranking: dict) -> Message:
    """A message as DIET leaves it: intent plus ranking."""
    top = max(ranking, key=ranking.get)
    return Message(
        data={
            "text": text,
            "intent": {"name": top, "confidence": ranking[top]},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking.items()],
        }
    )


def test_vote_averages_with_the_previous_ranking_and_survives_reload(storage) -> None:
    resource = Resource("vote")
    config = {**CharNgramVotingClassifier.get_default_config(), "weight": 0.5}
    trained = CharNgramVotingClassifier.create(config, storage, resource, CONTEXT)
    trained.train(training_data())
    loaded = CharNgramVotingClassifier.load(config, storage, resource, CONTEXT)

    # DIET is unsure and slightly wrong; the n-gram model knows "快递" well.
    message = diet_says("我的快递到哪了", {"request_refund": 0.55, "ask_logistics": 0.45})
    [voted] = loaded.process([message])
    ranking = {e["name"]: e["confidence"] for e in voted.get("intent_ranking")}
    assert voted.get("intent")["name"] == "ask_logistics"
    assert ranking["ask_logistics"] > 0.5 > ranking["request_refund"]
    assert sum(ranking.values()) == pytest.approx(1.0)


def test_weight_zero_keeps_the_previous_classifier(storage) -> None:
    config = {**CharNgramVotingClassifier.get_default_config(), "weight": 0.0}
    component = CharNgramVotingClassifier.create(config, storage, Resource("vote0"), CONTEXT)
    component.train(training_data())
    [message] = component.process([diet_says("快递", {"request_refund": 0.7, "ask_logistics": 0.3})])
    assert message.get("intent") == {"name": "request_refund", "confidence": pytest.approx(0.7)}


def test_guard_clears_messages_without_known_tokens(storage) -> None:
    resource = Resource("guard")
    UnknownTextGuard.create({}, storage, resource, CONTEXT).train(
        tokenizer().process_training_data(training_data())
    )
    guard = UnknownTextGuard.load({}, storage, resource, CONTEXT)
    messages = tokenizer().process(
        [diet_says(text, {"request_refund": 0.9, "ask_logistics": 0.1})
         for text in ("qwxz zzkv", "qwxz 退款", "3091102086046928447")]
    )
    cleared, kept, order_number = guard.process(messages)
    assert cleared.get("intent") == {"name": None, "confidence": 0.0}
    assert cleared.get("intent_ranking") == []
    assert kept.get("intent")["name"] == "request_refund"
    assert order_number.get("intent")["name"] == "request_refund"  # shape known from the regex
