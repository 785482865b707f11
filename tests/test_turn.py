"""What one message changes about the request (bot.conversation.turn), cues included."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from bot.conversation.cues import requested_by_words, withdraws
from bot.conversation.turn import Known, read_turn, reason_for_order, request_for_order

PHOTO = "https://img.example.invalid/p.jpg"


def entity(name: str, value: Any, extractor: str = "SpacyRuleEntityExtractor", **extra: Any) -> Dict[str, Any]:
    return {"entity": name, "value": value, "extractor": extractor, **extra}


def turn(text: str, intent: str, entities: List[Dict[str, Any]] = (), known: Known = Known(),
         evidence=(), confidence: float = 0.95) -> Dict[str, Any]:
    return read_turn(intent=intent, text=text, entities=list(entities), evidence=list(evidence),
                     known=known, confidence=confidence)


def test_one_message_with_everything_sets_everything() -> None:
    changes = turn("奶粉还没拆封 七天无理由退了", "threaten_escalation", [
        entity("condition", "unopened"), entity("remedy", "return_refund"), entity("reason", "no_reason")])
    assert changes == {"reason": "no_reason", "request_type": "return", "stated_condition": "unopened",
                       "remedy": "return_refund"}


def test_the_remedy_named_makes_the_request_whatever_the_intent() -> None:
    assert turn("给我换一双", "complain_quality", [entity("remedy", "exchange")])["request_type"] == "exchange"
    compensation = turn("给我补偿20块就行", "request_refund",
                        [entity("remedy", "compensation"), entity("amount", 20.0)])
    assert compensation["request_type"] == "refund" and compensation["requested_amount"] == 20.0
    assert turn("少个零件 补发一个", "inform_order", [entity("remedy", "reship")])["request_type"] == (
        "quality_complaint")


def test_a_change_of_mind_under_a_quality_intent_is_no_quality_complaint() -> None:
    assert turn("裙子买大了", "complain_quality", [entity("reason", "no_reason")]) == {"reason": "no_reason"}
    corrected = turn("不是质量问题 就是尺码大了", "inform_order", [entity("reason", "no_reason")],
                     Known(request_type="quality_complaint", reason="quality"))
    assert corrected == {"reason": "no_reason", "request_type": None}  # the form asks: return or exchange?


def test_a_defect_told_for_a_return_explains_it() -> None:
    assert turn("衣服有个洞", "complain_quality", [entity("reason", "quality")],
                Known(request_type="return")) == {"reason": "quality"}


def test_a_known_request_changes_only_on_a_remedy_or_a_confident_intent() -> None:
    known = Known(request_type="exchange", reason="quality")
    assert turn("地址不变 还是寄到原来那个地址就行", "request_return", known=known, confidence=0.37) == {}
    assert turn("还是退货吧", "request_return", known=known, confidence=0.9) == {"request_type": "return"}


def test_the_classifier_fills_an_empty_reason_but_never_overwrites_the_buyers_words() -> None:
    guess = entity("reason", "missing_parts", extractor="ReasonClassifier", confidence=0.9)
    assert turn("就那根8块9的数据线", "inform_order", [guess]) == {"reason": "missing_parts"}
    assert turn("就那根8块9的数据线", "inform_order", [guess], Known(reason="no_reason")) == {}
    lexicon = entity("reason", "quality")
    assert turn("其实有杂音", "inform_order", [lexicon], Known(reason="no_reason")) == {"reason": "quality"}


def test_the_worst_condition_said_so_far_stands() -> None:
    known = Known(stated_condition="used")
    assert turn("吊牌还在", "inform_order", [entity("condition", "opened_inspected")], known) == {}
    assert turn("其实激活了", "inform_order", [entity("condition", "activated")], known) == {
        "stated_condition": "activated"}


def test_every_photo_or_video_is_added_once() -> None:
    known = Known(evidence=(PHOTO,))
    video = "https://img.example.invalid/v.mp4"
    assert turn("", "inform_order", evidence=[PHOTO, video], known=known) == {"evidence": [PHOTO, video]}


def test_money_asked_with_a_photo_while_keeping_the_item_is_a_defect() -> None:
    changes = turn("轮子有点歪 不想退了 给我补偿20块钱就行", "request_refund",
                   [entity("remedy", "compensation"), entity("amount", 20.0)], evidence=[PHOTO])
    assert changes["reason"] == "quality" and changes["request_type"] == "refund"


def test_not_received_without_a_request_word_is_a_refund_request() -> None:
    assert turn("显示签收了 可我根本没收到", "ask_logistics", [entity("reason", "not_received")])[
        "request_type"] == "refund"


@pytest.mark.parametrize("text, keeps_item, withdrawn", [
    ("算了 还能用 不退了", False, True),
    ("算了", False, True),
    ("帮我撤销吧 不申请了", False, True),
    ("不是质量问题 就是尺码大了", False, False),
    ("算了 给我补偿20块就行", False, False),
    ("不要了", False, False),  # "I don't want the item": a reason, not a withdrawal
    ("音箱本身没问题 不用退", True, False),  # keeps the item on purpose (reship asked)
    ("不用退了", False, True),
])
def test_only_the_buyers_own_words_withdraw(text, keeps_item, withdrawn) -> None:
    assert withdraws(text, keeps_item=keeps_item) is withdrawn


def test_a_withdrawal_changes_nothing_else_and_a_remedy_is_no_withdrawal() -> None:
    assert turn("算了 还能用 不退了", "deny", [entity("reason", "quality")]) == {"withdrawn": True}
    assert "withdrawn" not in turn("不想退了 给我补偿点就行", "request_refund", [entity("remedy", "compensation")])


def test_request_words_name_the_request() -> None:
    assert requested_by_words("都没有 给我退款") == "refund"
    assert requested_by_words("能换货吗") == "exchange"
    assert requested_by_words("在吗") is None


@pytest.mark.parametrize("request_type, remedy, status, reason, expected", [
    ("refund", None, "signed", "no_reason", "return"),  # 退了 a delivered item: send it back
    ("refund", "refund_only", "signed", "quality", "refund"),  # keeps it: stays a refund
    ("refund", "compensation", "completed", "quality", "refund"),
    ("refund", None, "signed", "not_received", "refund"),  # never came: nothing to send back
    ("return", None, "paid_unshipped", "no_reason", "refund"),  # before delivery: the refund
    ("return", None, "shipped", "no_reason", "refund"),
    ("exchange", None, "signed", "quality", "exchange"),
])
def test_the_request_as_policy_means_it_once_the_order_is_known(request_type, remedy, status, reason,
                                                                 expected) -> None:
    assert request_for_order(request_type, remedy, status, reason) == expected


def test_not_received_before_delivery_is_no_reason() -> None:
    assert reason_for_order("not_received", "shipped") == "no_reason"
    assert reason_for_order("not_received", "signed") == "not_received"
    assert reason_for_order("quality", "shipped") == "quality"
