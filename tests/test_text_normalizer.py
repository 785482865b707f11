"""The text normaliser: script, width and whitespace unified, offsets kept."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.text_normalizer import (
    TextNormalizer,
    clean_whitespace,
    normalize,
    shorten,
    to_half_width,
    to_simplified,
)


def test_full_width_digits_letters_and_punctuation_become_ascii() -> None:
    assert to_half_width("订单３０９１，ｒｅｆｕｎｄ！１２９ＲＭＢ。") == "订单3091,refund!129RMB。"


def test_ideographic_space_becomes_a_space() -> None:
    assert to_half_width("退款\u3000谢谢") == "退款 谢谢"


def test_traditional_becomes_simplified() -> None:
    assert to_simplified("我要退貨，這個品質太差了") == "我要退货，这个品质太差了"


def test_simplified_text_is_unchanged() -> None:
    assert to_simplified("七天无理由退货") == "七天无理由退货"


def test_control_and_zero_width_characters_become_spaces() -> None:
    assert clean_whitespace("退\u200b款\t\n了\x07") == "退 款  了 "


def test_lone_surrogates_are_replaced_not_fatal() -> None:
    assert normalize("退款\ud800了", 1000) == "退款\ufffd了"


def test_shorten_keeps_head_and_tail() -> None:
    text = "开头" + "啊" * 5000 + "我要退款"
    short = shorten(text, 100)
    assert len(short) == 100
    assert short.startswith("开头") and short.endswith("我要退款")


def test_normalize_combines_every_step() -> None:
    assert normalize("  我要換貨！ＸＬ換Ｌ\u3000 ", 1000) == "我要换货!XL换L"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_offsets_are_kept_for_any_text_under_the_limit(text: str) -> None:
    # stripping only removes leading/trailing characters, so compare unstripped steps
    kept = to_simplified(clean_whitespace(to_half_width(text)))
    assert len(kept) == len(text)


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=0, max_size=30_000))
def test_normalize_never_raises_and_respects_the_limit(text: str) -> None:
    assert len(normalize(text, 1000)) <= 1000


def test_component_normalizes_training_examples_and_messages(tmp_path) -> None:
    storage = LocalModelStorage(tmp_path)
    component = TextNormalizer.create(
        {**TextNormalizer.get_default_config()},
        storage,
        Resource("normalizer"),
        ExecutionContext(graph_schema=None),  # type: ignore[arg-type]
    )
    training = TrainingData([Message(data={"text": "退貨", "intent": "request_return"})])
    component.process_training_data(training)
    assert training.training_examples[0].get("text") == "退货"
    live = Message(data={"text": "ｈｉ 在嗎"})
    component.process([live])
    assert live.get("text") == "hi 在吗"
