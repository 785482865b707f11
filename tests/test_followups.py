"""Follow-up questions after a decision, answered from the stored decision (bot.conversation.followups).

Also the desk's side of it: a request that would only repeat the last decision
logs nothing and keeps the stored deadline; ``recall`` rebuilds a logged decision.
"""

from __future__ import annotations

import datetime as dt
import pathlib
from typing import Any

import pytest
import yaml

from bot.conversation.desk import AfterSalesDesk, Outcome
from bot.conversation.followups import followup_reply, followup_topic, followup_topics
from utils.rules_db import DATA_DIR, NOW, load_demo_database, private_copy

CHEN_SIGNED = "3398127465503318820"  # tmall, signed, 运费险
LIN_UNSHIPPED = "4012873365920117371"
LIN_SHIPPED = "4012873365920117370"
LIN_BONDED = "4012873365920117364"  # tmall_global, bonded, signed
TAN_LAZADA = "LZSG24A7K3M9Q1"  # lazada, signed 3 days ago
PHOTO = ("https://img.example.invalid/p.jpg",)
BUYERS = {row["order_id"]: row["buyer_id"] for row in yaml.safe_load(
    (DATA_DIR / "demo" / "orders.yml").read_text(encoding="utf-8"))["orders"]}
DOMAIN = yaml.safe_load((DATA_DIR.parent / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory) -> pathlib.Path:
    return load_demo_database(tmp_path_factory.mktemp("followups_db"))


@pytest.fixture
def desk(loaded_db, tmp_path, monkeypatch) -> AfterSalesDesk:
    return AfterSalesDesk(private_copy(loaded_db, tmp_path, monkeypatch), clock=lambda: NOW)


def decide(desk: AfterSalesDesk, order_id: str, request: str, reason: str = "no_reason", **said: Any) -> Outcome:
    return desk.decide(
        conversation_id="conv-f", message="我要退货", intent="request_return", confidence=0.9,
        request_type=request, reason=reason, order_id=order_id, buyer_id=BUYERS[order_id],
        shop_id=None, platform=None, **said,
    )


def answer(topic_text: str, outcome: Outcome) -> str:
    response, params = followup_reply(followup_topic(topic_text), outcome)
    text = DOMAIN["responses"][response][0]["text"]
    filled = text.format(**params)
    assert "{" not in filled, f"{response} left a placeholder: {filled}"
    return filled


@pytest.mark.parametrize("text, topic", [
    ("多久到账啊", "refund"), ("钱几天能退回来", "refund"), ("快递来了我直接拒收可以吗", "refuse"),
    ("运费险怎么赔", "insurance"), ("上门取件吗", "pickup"), ("寄到哪里", "address"),
    ("寄回去是寄到国外吗", "address"), ("运费谁出", "postage"), ("税费会退吗", "tax"),
    ("要多久", "timing"), ("谢谢", None), ("我要退货", None),
])
def test_follow_up_topics(text, topic) -> None:
    assert followup_topic(text) == topic


def test_answers_about_a_return_come_from_its_decision(desk) -> None:
    outcome = decide(desk, CHEN_SIGNED, "return")
    assert "48小时" in answer("多久到账", outcome)  # the platform's return-confirm timer
    assert "运费险" in answer("运费险怎么赔", outcome) and "自动" not in answer("运费险怎么赔", outcome)
    assert "上门取件" in answer("上门取件吗", outcome)
    assert "寄回到" in answer("寄到哪", outcome)


def test_nothing_to_send_back_is_said_so(desk) -> None:
    cancelled = decide(desk, LIN_UNSHIPPED, "refund")
    assert "还没发货" in answer("多久到账", cancelled)
    assert "不需要寄回" in answer("寄到哪", cancelled)
    intercepted = decide(desk, LIN_SHIPPED, "refund")
    assert "拒收" in answer("快递来了我直接拒收可以吗", intercepted)


def test_an_exchange_speaks_of_no_refund(desk) -> None:
    outcome = decide(desk, CHEN_SIGNED, "exchange", "quality", evidence=PHOTO, remedy="exchange")
    reply = answer("多久到账", outcome)
    assert "换货" in reply and "退款" not in reply


def test_lazada_returns_free_without_insurance_words(desk) -> None:
    outcome = decide(desk, TAN_LAZADA, "return")
    for question in ("运费谁出", "运费险怎么赔"):
        reply = answer(question, outcome)
        assert "不用您出" in reply and "运费险" not in reply
    assert "平台" in answer("上门取件吗", outcome)


def test_the_deadline_quoted_is_the_stored_one(desk) -> None:
    first = decide(desk, CHEN_SIGNED, "return")
    later = AfterSalesDesk(desk.url, clock=lambda: NOW + dt.timedelta(hours=5))
    again = later.decide(
        conversation_id="conv-f", message="我要退货", intent="request_return", confidence=0.9,
        request_type="return", reason="no_reason", order_id=CHEN_SIGNED, buyer_id=BUYERS[CHEN_SIGNED],
        shop_id=None, platform=None, previous_id=first.decision_id,
    )
    assert again.repeated and again.decision_id == first.decision_id
    assert again.decision.deadline == first.decision.deadline  # not five hours later
    assert len(desk.decisions("conv-f")) == 1  # nothing new logged
    assert answer("要多久", again) == answer("要多久", first)


def test_a_changed_fact_is_a_new_decision(desk) -> None:
    first = decide(desk, CHEN_SIGNED, "return")
    quality = decide(desk, CHEN_SIGNED, "return", "quality", previous_id=first.decision_id)
    assert not quality.repeated and quality.decision.verdict == "need_evidence"
    assert [row["verdict"] for row in desk.decisions("conv-f")] == ["approve", "need_evidence"]


def test_recall_rebuilds_a_logged_decision(desk) -> None:
    outcome = decide(desk, LIN_BONDED, "return", stated_condition="unopened")
    recalled = desk.recall(outcome.decision_id)
    assert recalled.decision == outcome.decision
    assert recalled.request.stated_condition == "unopened" and recalled.order.order.order_id == LIN_BONDED
    assert desk.recall(None) is None and desk.recall(999) is None


def test_a_decision_still_open_is_answered_with_where_it_stands(desk) -> None:
    waiting = decide(desk, CHEN_SIGNED, "return", "quality")
    assert "照片" in answer("多久到账", waiting)


@pytest.mark.parametrize("text, topics", [
    ("退款多久到账", ["refund"]),  # the "多久" of "多久到账" is not a second, vaguer question
    ("寄到哪个地址 运费谁出", ["address", "postage"]),
    ("多久能处理好", ["timing"]),
])
def test_each_question_is_counted_once(text, topics) -> None:
    assert followup_topics(text) == topics
