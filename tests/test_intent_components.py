"""The custom intent and reason components, on tiny data.

The voting classifier, the unknown-text guard, the intent resolver and the reason
classifier.
"""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.intent_resolver import IntentResolver
from bot.nlu.jieba_tokenizer import CleanJiebaTokenizer
from bot.nlu.reason_classifier import ReasonClassifier, ReasonExamplesError
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


# --- the intent a message's own words settle (bot.nlu.intent_resolver) ------------


def resolved(text: str, intent: str, entities=(), metadata=None) -> str:
    others = [name for name in ("request_return", "ask_policy", "greet") if name != intent][:2]
    message = diet_says(text, {intent: 0.6, others[0]: 0.3, others[1]: 0.1})
    message.set("entities", [{"entity": name, "value": value} for name, value in entities])
    message.set("metadata", metadata or {})
    [out] = IntentResolver().process([message])
    return out.get("intent")["name"]


@pytest.mark.parametrize("text, intent, entities, metadata, expected", [
    # a withdrawal is deny, whatever the classifiers said; a remedy named is none
    ("算了 还能用 不退了", "request_return", [], None, "deny"),
    ("不退了 给我补偿20块就行", "request_refund", [("remedy", "compensation")], None, "request_refund"),
    # a photo under a caption is the evidence, a photo under a request stays the request
    ("拍好了", "affirm", [], {"attachments": [{"type": "image", "url": "https://x.example/p.jpg"}]},
     "inform_order"),
    ("", "nlu_fallback", [], {"attachments": [{"type": "video", "url": "https://x.example/v.mp4"}]},
     "inform_order"),
    ("衣服破了", "complain_quality", [], {"attachments": [{"type": "image", "url": "https://x.example/p.jpg"}]},
     "complain_quality"),
    # a remedy with an order number is the request it makes
    ("3301000000000000041 能退吗", "inform_order", [("order_id", "3301000000000000041"),
                                                  ("remedy", "return_refund")], None, "request_return"),
    ("3301000000000000041", "inform_order", [("order_id", "3301000000000000041")], None, "inform_order"),
    ("订单3301000000000000041 裤子有个洞", "inform_order", [("order_id", "3301000000000000041"),
                                                       ("reason", "quality")], None, "complain_quality"),
    # facts and hints without a clear intent, and corrections under deny
    ("第二个", "nlu_fallback", [], None, "inform_order"),
    ("9月份买的", "nlu_fallback", [], None, "inform_order"),
    ("更早的订单", "nlu_fallback", [], None, "inform_order"),
    ("不是质量问题 就是尺码大了", "deny", [("reason", "no_reason")], None, "inform_order"),
    ("不是这单", "deny", [], None, "inform_order"),
    ("不是", "deny", [], None, "deny"),
    ("qwxz", "nlu_fallback", [], None, "nlu_fallback"),
])
def test_the_words_settle_the_intent(text, intent, entities, metadata, expected) -> None:
    assert resolved(text, intent, entities, metadata) == expected


# --- the reason in the buyer's own words (bot.nlu.reason_classifier) --------------


REASON_EXAMPLES = """
examples:
  no_reason: [买大了 穿着晃荡, 尺码偏大, 颜色不喜欢, 买重复了, 不想要了 不喜欢]
  quality: [一边响一边不响, 连不上蓝牙, 开机就黑屏, 用两天就坏, 充不进电]
  damaged_in_transit: [箱子被压扁了 杯子碎了, 快递摔坏了, 外箱破了里面碎了, 快递压烂了, 运输途中摔碎]
none: [我要退货, 能退吗, 怎么退, 订单号多少, 在吗, 你好]
"""


@pytest.fixture()
def reasons(storage, tmp_path) -> ReasonClassifier:
    path = tmp_path / "reason_examples.yml"
    path.write_text(REASON_EXAMPLES, encoding="utf-8")
    config = {**ReasonClassifier.get_default_config(), "examples_path": str(path)}
    ReasonClassifier.create(config, storage, Resource("reasons"), CONTEXT).train(TrainingData())
    return ReasonClassifier.load(config, storage, Resource("reasons"), CONTEXT)


def reason_of(component: ReasonClassifier, text: str, lexicon=()) -> list:
    message = Message(data={"text": text, "entities": [
        {"entity": "reason", "value": value, "extractor": "SpacyRuleEntityExtractor"} for value in lexicon]})
    [out] = component.process([message])
    return [(e["value"], e["extractor"]) for e in out.get("entities") or [] if e["entity"] == "reason"]


def test_the_classifier_sets_a_reason_the_lexicon_missed_and_survives_reload(reasons) -> None:
    assert reason_of(reasons, "耳机一边响一边不响") == [("quality", "ReasonClassifier")]
    assert reason_of(reasons, "你好") == []  # no reason stated: nothing set


def test_request_words_do_not_hide_the_reason(reasons) -> None:
    """"能退吗" pulls towards "no reason stated"; the reason said beside it still counts."""
    assert reason_of(reasons, "尺码偏大 能退吗")[0][0] == "no_reason"


def test_a_lexicon_reason_wins_and_a_generic_defect_is_made_specific(reasons) -> None:
    assert reason_of(reasons, "买大了 穿着晃荡", lexicon=["quality"])[0] == ("quality", "SpacyRuleEntityExtractor")
    refined = reason_of(reasons, "快递压烂了 箱子被压扁了", lexicon=["quality"])
    assert refined[0] == ("damaged_in_transit", "ReasonClassifier")


def test_missing_examples_fail_training_with_the_path(storage, tmp_path) -> None:
    config = {**ReasonClassifier.get_default_config(), "examples_path": str(tmp_path / "none.yml")}
    with pytest.raises(ReasonExamplesError, match="none.yml"):
        ReasonClassifier.create(config, storage, Resource("r"), CONTEXT).train(TrainingData())


@pytest.mark.parametrize("text, intent, entities, expected", [
    ("我等下拍给你", "threaten_escalation", [], "affirm"),
    ("行李箱轮子掉了 补偿50吧 图等下发", "complain_quality", [("reason", "quality"), ("remedy", "compensation")],
     "complain_quality"),  # facts beside "图等下发": the complaint stands, not a bare "ok"
    ("好的 上门取件吗", "affirm", [], "ask_policy"),
    ("谢谢 多久到账啊", "thank", [], "ask_policy"),
])
def test_a_photo_later_and_a_procedure_question_under_small_talk(text, intent, entities, expected) -> None:
    assert resolved(text, intent, entities) == expected
