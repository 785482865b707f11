"""``bot.conversation`` below Rasa: channel metadata, cues, the desk and the replies.

The desk tests run against a real SQLite database holding the project's rule
base and demo orders, loaded at the fixed ``NOW`` of ``tests/utils/rules_db.py``
with the desk's clock fixed at the same moment, so every demo order sits on the
POLICY.md branch its comment in ``data/demo/orders.yml`` names.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import pathlib
import re
from typing import Any, Dict, Iterable, List, Optional, Sequence

import pytest
import yaml

from bot.conversation import handoffs
from bot.conversation.channel_metadata import evidence_urls, identity, image_urls
from bot.conversation.cues import asks_about_another_order, corrects_order_number
from bot.conversation.desk import AfterSalesDesk, Handoff, Outcome
from bot.conversation.replies import (
    Reply,
    citation,
    decision_replies,
    evidence_request,
    handoff_reply,
    logistics_reply,
    policy_reply,
    when,
)
from bot.rules import db
from bot.rules.decide import decide as decide_policy
from bot.rules.model import AfterSalesRequest
from bot.rules.schema import HandoffRow
from utils.rules_db import DATA_DIR, NOW, SHANGHAI, load_demo_database, order_row, private_copy

DEMO_ORDERS: Dict[str, Dict[str, Any]] = {
    row["order_id"]: row
    for row in yaml.safe_load((DATA_DIR / "demo" / "orders.yml").read_text(encoding="utf-8"))["orders"]
}
CHEN_ONLY_RECENT = "3398127465503318820"  # buyer_tm_chen's only order of the last 60 days
PHOTO = ("https://img.example.invalid/defect.jpg",)
SINGAPORE = dt.timezone(dt.timedelta(hours=8))

# An order in the shop whose goodwill cap is 30 yuan: compensation up to the cap is
# the only route to ``utter_approve_refund_keep``.
CHEAP_ORDER = order_row(
    order_id="4012873300000000001",
    buyer_id="buyer_tg_cheap",
    shop_id="demo_tmall_global",
    platform="tmall_global",
    category="发圈",
    amount=25.0,
)


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="session")
def loaded_db(tmp_path_factory) -> pathlib.Path:
    """The rule base and demo orders loaded once at NOW, plus a cheap order."""
    return load_demo_database(tmp_path_factory.mktemp("conversation_db"), [CHEAP_ORDER])


@pytest.fixture
def url(loaded_db, tmp_path, monkeypatch) -> str:
    """A private copy of the loaded database (tests write decisions and handoffs)."""
    return private_copy(loaded_db, tmp_path, monkeypatch)


@pytest.fixture
def desk(url) -> AfterSalesDesk:
    """The desk on the test database, with its clock stopped at NOW."""
    return AfterSalesDesk(url, clock=lambda: NOW)


def decide(
    desk: AfterSalesDesk,
    order_id: Optional[str],
    request: str,
    reason: str = "no_reason",
    *,
    evidence: Sequence[str] = (),
    escalation: bool = False,
    buyer_id: Optional[str] = None,
    conversation_id: str = "conv-1",
    **said,
) -> Outcome:
    """Decide a request on a demo order as its own buyer (unless ``buyer_id`` is given)."""
    if buyer_id is None and order_id in DEMO_ORDERS:
        buyer_id = DEMO_ORDERS[order_id]["buyer_id"]
    return desk.decide(
        conversation_id=conversation_id,
        message="我要退货",
        intent="request_return",
        confidence=0.93,
        request_type=request,
        reason=reason,
        order_id=order_id,
        buyer_id=buyer_id,
        shop_id=None,
        platform="tmall",
        evidence=evidence,
        escalation=escalation,
        **said,
    )


# Placeholders are ``{name}``; ``{{`` / ``}}`` are escaped braces (button payloads).
PLACEHOLDER = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


def response_texts(domain: dict, name: str) -> List[str]:
    """The text variations of a ``domain.yml`` response (fails when it does not exist)."""
    assert name in domain["responses"], f"{name} is not a response in domain.yml"
    return [variation["text"] for variation in domain["responses"][name]]


def assert_fillable(domain: dict, replies: Iterable[Reply]) -> None:
    """Every reply names a domain response whose placeholders it fills.

    A placeholder may be filled by the reply's params or by a slot (Rasa fills
    slot names itself); params are strings so no ``None`` ever reaches the buyer.
    """
    slots = set(domain["slots"])
    for reply in replies:
        for text in response_texts(domain, reply.response):
            missing = set(PLACEHOLDER.findall(text)) - set(reply.params) - slots
            assert not missing, f"{reply.response} needs {sorted(missing)}; params {reply.params}"
        assert all(isinstance(value, str) for value in reply.params.values()), reply


def render(domain: dict, reply: Reply) -> str:
    """The reply's first text variation with its params filled in (as the buyer reads it)."""
    text = response_texts(domain, reply.response)[0]
    return PLACEHOLDER.sub(lambda match: reply.params.get(match.group(1), match.group(0)), text)


# ------------------------------------------------------------------ channel metadata


def test_identity_takes_valid_fields_and_strips_them() -> None:
    metadata = {"buyer_id": " buyer_tm_chen ", "shop_id": "demo_tmall", "platform": "tmall", "x": 1}
    assert identity(metadata) == {"buyer_id": "buyer_tm_chen", "shop_id": "demo_tmall", "platform": "tmall"}


@pytest.mark.parametrize("metadata", [None, "buyer_tm_chen", ["buyer_id"], 42, True])
def test_identity_of_a_non_mapping_is_empty(metadata) -> None:
    assert identity(metadata) == {}
    assert image_urls(metadata) == []


@pytest.mark.parametrize(
    "value",
    [
        12345,  # not a string
        None,
        ["buyer"],
        "",
        "b" * 65,  # oversize
        "buyer tm",  # space inside
        "买家一号",  # outside [A-Za-z0-9_.:@-]
        "<script>",
        "a/b",
    ],
)
def test_identity_drops_bad_ids(value) -> None:
    metadata = {"buyer_id": value, "shop_id": value, "platform": "taobao"}
    assert identity(metadata) == {"platform": "taobao"}


def test_identity_keeps_ids_up_to_64_characters() -> None:
    longest = "b" * 64
    assert identity({"buyer_id": longest, "shop_id": "u:shop@x.y-1"}) == {
        "buyer_id": longest,
        "shop_id": "u:shop@x.y-1",
    }


@pytest.mark.parametrize("platform", ["amazon", "TMALL", "tmall_global2", "", 3, None])
def test_identity_drops_a_bogus_platform(platform) -> None:
    assert identity({"buyer_id": "buyer_1", "platform": platform}) == {"buyer_id": "buyer_1"}


def image(url: Any, kind: str = "image") -> Dict[str, Any]:
    """One attachment as the channels send it."""
    return {"type": kind, "url": url}


def test_image_urls_keep_order_and_drop_duplicates() -> None:
    attachments = [
        image("https://img.example/a.jpg"),
        image("/uploads/b.png"),
        image(" https://img.example/a.jpg "),  # the same URL once stripped
        image("http://img.example/c.jpg"),
    ]
    assert image_urls({"attachments": attachments}) == [
        "https://img.example/a.jpg",
        "/uploads/b.png",
        "http://img.example/c.jpg",
    ]


@pytest.mark.parametrize(
    "attachment",
    [
        image("https://img.example/clip.mp4", kind="video"),
        image("https://img.example/doc.pdf", kind="file"),
        {"url": "https://img.example/no-type.jpg"},
        image("ftp://img.example/a.jpg"),
        image("javascript:alert(1)"),
        image("data:image/png;base64,AAAA"),
        image("img.example/a.jpg"),
        image("https://img.example/a b.jpg"),
        image("https://"),
        image("/"),
        image("//evil.example/a.jpg"),  # protocol-relative: another host, not site-relative
        image("/\\evil.example/a.jpg"),  # read as "//evil.example" by browsers
        image(["https://img.example/a.jpg"]),
        image(None),
        "https://img.example/a.jpg",  # not an attachment object
        None,
    ],
)
def test_image_urls_ignore_non_images_and_bad_urls(attachment) -> None:
    good = image("https://img.example/ok.jpg")
    assert image_urls({"attachments": [attachment, good]}) == ["https://img.example/ok.jpg"]


@pytest.mark.parametrize("attachments", [None, "https://img.example/a.jpg", {"type": "image"}, 3])
def test_image_urls_need_a_list_of_attachments(attachments) -> None:
    assert image_urls({"attachments": attachments}) == []


def test_image_urls_are_capped_at_nine() -> None:
    attachments = [image(f"https://img.example/{n}.jpg") for n in range(12)]
    assert image_urls({"attachments": attachments}) == [
        f"https://img.example/{n}.jpg" for n in range(9)
    ]


def test_duplicates_do_not_count_towards_the_cap() -> None:
    attachments = [image("https://img.example/same.jpg")] * 20 + [image("https://img.example/other.jpg")]
    assert image_urls({"attachments": attachments}) == [
        "https://img.example/same.jpg",
        "https://img.example/other.jpg",
    ]


# ------------------------------------------------------------------ cues


@pytest.mark.parametrize(
    "text",
    ["订单号发错了", "訂單號發錯了", "不好意思 订单号 发错 了", "不是這單", "ＢＴＷ，单号写错了"],
)
def test_order_number_corrections(text) -> None:
    assert corrects_order_number(text)
    assert not asks_about_another_order(text)


@pytest.mark.parametrize("text", ["还有一个订单也想退", "還有一個訂單也要退", "另外一单也有问题"])
def test_questions_about_another_order(text) -> None:
    assert asks_about_another_order(text)
    assert not corrects_order_number(text)


@pytest.mark.parametrize("text", ["我要退货", "订单号是3398127465503318820", "", None])
def test_ordinary_messages_are_no_cue(text) -> None:
    assert not asks_about_another_order(text)
    assert not corrects_order_number(text)


# ------------------------------------------------------------------ desk: orders and rules


def test_find_order_returns_the_buyers_order_with_its_shop(desk) -> None:
    view = desk.find_order(CHEN_ONLY_RECENT, "buyer_tm_chen")
    assert view is not None
    order = view.order
    assert (order.order_id, order.status, order.category) == (CHEN_ONLY_RECENT, "signed", "连衣裙")
    assert (view.shop_id, view.shop_name, view.platform) == ("demo_tmall", "安心生活天猫旗舰店", "tmall")
    assert view.return_address.startswith("浙江省杭州市余杭区")
    assert desk.find_order(f"  {CHEN_ONLY_RECENT} ", "buyer_tm_chen") == view


@pytest.mark.parametrize(
    "order_id, buyer_id",
    [
        (CHEN_ONLY_RECENT, "buyer_tm_liu"),  # another buyer's order
        (CHEN_ONLY_RECENT, ""),  # an empty buyer id is not "no buyer id"
        ("0000000000000000000", "buyer_tm_chen"),  # unknown number
    ],
)
def test_find_order_refuses_other_buyers_and_unknown_numbers(desk, order_id, buyer_id) -> None:
    assert desk.find_order(order_id, buyer_id) is None


def test_find_order_without_a_buyer_id_uses_the_number_alone(desk) -> None:
    assert desk.find_order(CHEN_ONLY_RECENT, None).order.order_id == CHEN_ONLY_RECENT


def test_recent_orders_of_a_buyer_with_one_recent_order(desk) -> None:
    assert [v.order.order_id for v in desk.recent_orders("buyer_tm_chen", None)] == [CHEN_ONLY_RECENT]
    assert [v.order.order_id for v in desk.recent_orders("buyer_tm_chen", "demo_tmall")] == [CHEN_ONLY_RECENT]
    assert desk.recent_orders("buyer_tm_chen", "demo_taobao") == []


def test_recent_orders_are_newest_first(desk) -> None:
    views = desk.recent_orders("buyer_tg_lin", "demo_tmall_global")
    assert len(views) == 6
    assert views[0].order.order_id == "4012873365920117371"  # placed 6 hours ago
    created = [view.created_at for view in views]
    assert created == sorted(created, reverse=True)


def test_rules_for_prefers_the_shop_then_the_platform(desk) -> None:
    assert desk.rules_for("demo_tmall_global", "tmall_global")["no_reason_window"].value == 15
    assert desk.rules_for("no_such_shop", "tmall_global")["no_reason_window"].value == 7
    assert desk.rules_for(None, "lazada").platform == "lazada"
    assert desk.rules_for(None, None).platform == "tmall"
    assert desk.rules_for(None, "amazon").platform == "tmall"


def test_shop_name(desk) -> None:
    assert desk.shop_name("demo_taobao") == "安心小铺（淘宝）"
    assert desk.shop_name("no_such_shop") is None
    assert desk.shop_name(None) is None


@pytest.mark.parametrize(
    "request_type, order_id, matters",
    [
        ("refund", "4012873365920117371", False),  # paid_unshipped: cancel and refund anyway
        ("refund", "4012873365920117370", False),  # shipped: intercept anyway
        ("return", "3398127465503318827", False),  # closed: already refunded anyway
        ("return", CHEN_ONLY_RECENT, True),  # signed, in window: who pays postage differs
        ("exchange", "3398127465503318829", True),  # window over: only a defect helps
        ("return", "4012873365920117365", True),  # seal broken: only a defect helps
    ],
)
def test_reason_matters_only_when_it_can_change_the_answer(desk, request_type, order_id, matters) -> None:
    view = desk.find_order(order_id, None)
    assert desk.reason_matters(request_type, view) is matters


def test_reason_does_not_matter_without_an_order(desk) -> None:
    assert desk.reason_matters("return", None) is False


# ------------------------------------------------------------------ desk: decision log


def test_decide_logs_exactly_one_row_with_the_decision(desk) -> None:
    outcome = decide(desk, CHEN_ONLY_RECENT, "return", conversation_id="conv-log")
    assert outcome.decision.verdict == "approve"
    assert outcome.decision.shipping_payer == "insurance"
    assert outcome.now == NOW and outcome.order.order.order_id == CHEN_ONLY_RECENT
    [row] = desk.decisions("conv-log")
    # Times are stored in UTC: compare them as moments, everything else as given.
    deadline = NOW + dt.timedelta(hours=24)  # the shop's promised seller response
    assert dt.datetime.fromisoformat(row["deadline"]) == outcome.decision.deadline == deadline
    assert row == {
        **outcome.decision.as_json(),
        "conversation_id": "conv-log",
        "created_at": row["created_at"],
        "deadline": row["deadline"],
        "message": "我要退货",
        "intent": "request_return",
        "confidence": 0.93,
        "order_id": CHEN_ONLY_RECENT,
        # what was decided on: the request as the dialogue understood it
        "request": "return",
        "reason": "no_reason",
        "remedy": None,
        "stated_condition": None,
        "requested_amount": None,
    }
    assert dt.datetime.fromisoformat(row["created_at"]) == NOW
    assert desk.decisions("another-conversation") == []


def test_decision_ids_count_up_and_the_log_is_oldest_first(desk) -> None:
    first = decide(desk, CHEN_ONLY_RECENT, "return", conversation_id="conv-2")
    second = decide(desk, CHEN_ONLY_RECENT, "refund", conversation_id="conv-2", remedy="refund_only")
    assert second.decision_id == first.decision_id + 1
    assert [row["verdict"] for row in desk.decisions("conv-2")] == ["approve", "decline"]


def test_an_order_of_another_buyer_is_decided_as_unknown(desk) -> None:
    outcome = decide(desk, CHEN_ONLY_RECENT, "return", buyer_id="buyer_tm_liu", conversation_id="c")
    assert (outcome.decision.verdict, outcome.decision.handoff_reason) == ("handoff", "unknown_order")
    assert outcome.order is None
    [row] = desk.decisions("c")
    assert row["order_id"] is None


def test_an_unknown_order_is_decided_with_the_channels_platform(desk) -> None:
    outcome = desk.decide(
        conversation_id="c", message=None, intent=None, confidence=None,
        request_type="return", reason="no_reason", order_id=None, buyer_id="b",
        shop_id=None, platform="lazada",
    )
    assert outcome.rules.platform == "lazada" and outcome.request.platform == "lazada"
    assert outcome.decision.handoff_reason == "unknown_order"


# ------------------------------------------------------------------ desk: handoffs


def open_rows(url: str) -> List[HandoffRow]:
    """The open handoffs as the agents' queue reads them."""
    with db.session_scope(url) as session:
        rows = handoffs.open_handoffs(session)
        session.expunge_all()
        return rows


@pytest.mark.parametrize(
    "shop_id, platform, answer_by",
    [
        ("demo_tmall", "tmall", NOW + dt.timedelta(hours=24)),  # shop promise: 24 h
        ("demo_taobao", "taobao", NOW + dt.timedelta(hours=36)),  # platform default
        (None, "jd_international", NOW + dt.timedelta(hours=24)),
        # Lazada: 2 working days; NOW is a Friday, so the answer is due on Tuesday.
        ("demo_lazada", "lazada", dt.datetime(2026, 12, 1, 10, 0, tzinfo=SINGAPORE)),
    ],
)
def test_hand_off_promises_the_shops_seller_response_timer(desk, url, shop_id, platform, answer_by) -> None:
    handoff = desk.hand_off(
        conversation_id="conv-h", reason="buyer_asked", decision_id=None,
        channel="rest", shop_id=shop_id, platform=platform,
    )
    assert handoff.answer_by == answer_by
    assert (handoff.reason, handoff.priority) == ("buyer_asked", "normal")
    [row] = open_rows(url)
    assert (row.id, row.conversation_id, row.channel) == (handoff.handoff_id, "conv-h", "rest")
    assert row.reason == "buyer_asked"
    assert row.answer_by == answer_by and row.created_at == NOW and row.resumed_at is None


@pytest.mark.parametrize(
    "reason, priority",
    [
        ("health_safety", "high"),
        ("escalation_threat", "high"),
        ("counterfeit_claim", "high"),
        ("buyer_asked", "normal"),
        ("unknown_order", "normal"),
        ("partial_refund", "normal"),
    ],
)
def test_hand_off_priority(desk, reason, priority) -> None:
    handoff = desk.hand_off(
        conversation_id="c", reason=reason, decision_id=None, channel=None,
        shop_id="demo_tmall", platform="tmall",
    )
    assert handoff.priority == priority


@pytest.mark.parametrize("reason", ["health_safety", "escalation_threat"])
@pytest.mark.parametrize("shop_id, platform", [("demo_tmall", "tmall"), ("demo_lazada", "lazada")])
def test_urgent_handoffs_promise_the_urgent_time_not_the_seller_timer(desk, reason, shop_id, platform) -> None:
    """POLICY v2 §2: health and threats are answered within urgent_response (2 h)."""
    handoff = desk.hand_off(conversation_id="c", reason=reason, decision_id=None, channel=None,
                            shop_id=shop_id, platform=platform)
    assert handoff.answer_by == NOW + dt.timedelta(hours=2)


@pytest.mark.parametrize("reason, escalation", [("health_safety", False), ("no_reason", True)])
def test_a_handoff_from_a_decision_keeps_the_decisions_deadline(desk, reason, escalation) -> None:
    """One decision, one set of dates: the handoff quotes the deadline the decision holds."""
    outcome = decide(desk, "3398127465503318829", "return", reason, escalation=escalation, conversation_id="c")
    assert outcome.decision.handoff_reason == ("health_safety" if reason == "health_safety" else "escalation_threat")
    assert outcome.decision.deadline == NOW + dt.timedelta(hours=2)
    handoff = desk.hand_off(conversation_id="c", reason=outcome.decision.handoff_reason,
                            decision_id=outcome.decision_id, channel="rest", shop_id=None, platform=None)
    assert (handoff.answer_by, handoff.priority) == (outcome.decision.deadline, "high")


def test_hand_off_links_the_decision(desk, url) -> None:
    outcome = decide(desk, "4012873365920117369", "quality_complaint", "quality", conversation_id="c")
    assert outcome.decision.handoff_reason == "beyond_quality_window"
    desk.hand_off(conversation_id="c", reason="beyond_quality_window", decision_id=outcome.decision_id,
                  channel="rest", shop_id=None, platform=None)
    [row] = open_rows(url)
    assert row.decision_id == outcome.decision_id
    assert row.priority == "normal"


def test_a_threat_makes_any_handoff_urgent_but_keeps_its_reason(desk, url) -> None:
    outcome = decide(desk, "4012873365920117369", "quality_complaint", "quality",
                     escalation=True, conversation_id="c")
    assert outcome.decision.handoff_reason == "beyond_quality_window"
    desk.hand_off(conversation_id="c", reason="beyond_quality_window", decision_id=outcome.decision_id,
                  channel="rest", shop_id=None, platform=None)
    [row] = open_rows(url)
    assert (row.reason, row.priority) == ("beyond_quality_window", "high")


def test_open_handoffs_put_high_priority_first(desk, url) -> None:
    for conversation, reason in (("c1", "buyer_asked"), ("c2", "health_safety"), ("c3", "unknown_order")):
        desk.hand_off(conversation_id=conversation, reason=reason, decision_id=None, channel=None,
                      shop_id="demo_tmall", platform="tmall")
    assert [row.conversation_id for row in open_rows(url)] == ["c2", "c1", "c3"]


def test_resume_closes_only_that_conversations_handoffs(desk, url) -> None:
    for conversation in ("mine", "mine", "theirs"):
        desk.hand_off(conversation_id=conversation, reason="buyer_asked", decision_id=None,
                      channel=None, shop_id="demo_tmall", platform="tmall")
    assert desk.resume("mine", agent="agent-7") == 2
    assert [row.conversation_id for row in open_rows(url)] == ["theirs"]
    assert desk.resume("mine", agent="agent-7") == 0
    with db.session_scope(url) as session:
        closed = session.query(HandoffRow).filter(HandoffRow.conversation_id == "mine").all()
        assert {(row.resumed_at, row.resumed_by) for row in closed} == {(NOW, "agent-7")}


# ------------------------------------------------------------------ replies for decisions


@pytest.mark.parametrize(
    "order_id, request_type, reason, evidence, responses",
    [
        (CHEN_ONLY_RECENT, "return", "no_reason", (), ["utter_approve_return"]),
        (CHEN_ONLY_RECENT, "exchange", "no_reason", (), ["utter_approve_exchange"]),
        (CHEN_ONLY_RECENT, "return", "quality", PHOTO, ["utter_approve_quality"]),
        # 退款 of a delivered item, the buyer not saying they keep it: a return.
        (CHEN_ONLY_RECENT, "refund", "quality", PHOTO, ["utter_approve_quality"]),
        (CHEN_ONLY_RECENT, "refund", "no_reason", (), ["utter_approve_return"]),
        (CHEN_ONLY_RECENT, "return", "not_received", (), ["utter_handoff_delivery_dispute"]),
        (CHEN_ONLY_RECENT, "return", "counterfeit_suspected", (), ["utter_handoff_counterfeit_claim"]),
        (CHEN_ONLY_RECENT, "return", "health_safety", (), ["utter_handoff_health_safety"]),
        (CHEN_ONLY_RECENT, "quality_complaint", "quality", (), []),  # the evidence form asks
        ("3398127465503318829", "return", "no_reason", (), ["utter_decline_window_expired"]),
        ("3398127465503318823", "return", "no_reason", (), ["utter_decline_not_intact"]),
        ("3398127465503318824", "return", "no_reason", (), ["utter_decline_statutory_excluded"]),
        ("3398127465503318825", "return", "no_reason", (), ["utter_decline_confirmed_excluded"]),
        ("4012873365920117366", "return", "no_reason", (), ["utter_decline_no_seven_day_label"]),
        ("3398127465503318827", "refund", "no_reason", (), ["utter_decline_already_refunded"]),
        ("3398127465503318828", "refund", "no_reason", (), ["utter_approve_cancel_unpaid"]),
        ("4012873365920117371", "refund", "no_reason", (), ["utter_approve_cancel_refund"]),
        ("4012873365920117370", "refund", "no_reason", (), ["utter_approve_intercept"]),
        ("4012873365920117371", "exchange", "no_reason", (), ["utter_handoff_change_before_shipping"]),
        ("4012873365920117370", "exchange", "no_reason", (), ["utter_handoff_wait_for_delivery"]),
        ("4012873365920117369", "return", "quality", PHOTO, ["utter_handoff_beyond_quality_window"]),
        ("4012873300000000001", "refund", "quality", PHOTO, ["utter_approve_quality"]),
        ("0000000000000000000", "return", "no_reason", (), ["utter_handoff_unknown_order"]),
    ],
)
def test_decision_replies_pick_the_response_and_fill_it(
    desk, domain, order_id, request_type, reason, evidence, responses
) -> None:
    replies = decision_replies(decide(desk, order_id, request_type, reason, evidence=evidence))
    assert [reply.response for reply in replies] == responses
    assert_fillable(domain, replies)


@pytest.mark.parametrize("order_id, reason, evidence, response", [
    (CHEN_ONLY_RECENT, "quality", PHOTO, "utter_handoff_partial_refund"),
    (CHEN_ONLY_RECENT, "no_reason", (), "utter_decline_needs_return"),
    ("4012873300000000001", "quality", PHOTO, "utter_handoff_partial_refund"),
])
def test_a_refund_keeping_the_item_is_a_refund(desk, domain, order_id, reason, evidence, response) -> None:
    """仅退款 (keep the item) stays a refund: a person for a defect, a decline without one."""
    outcome = decide(desk, order_id, "refund", reason, evidence=evidence, remedy="refund_only")
    assert outcome.request.request == "refund"
    assert [reply.response for reply in decision_replies(outcome)] == [response]


def test_compensation_under_the_cap_is_the_amount_asked_not_the_order(desk, domain) -> None:
    outcome = decide(desk, "4012873300000000001", "refund", "quality", evidence=PHOTO,
                     remedy="compensation", requested_amount=15.0)
    [reply] = decision_replies(outcome)
    assert reply.response == "utter_approve_refund_keep" and reply.params["amount"] == "15"
    assert_fillable(domain, [reply])


# What a buyer may add to a request (POLICY v2): nothing, a compensation amount, the
# item's condition, a named remedy.
SAID = ({}, {"remedy": "compensation", "requested_amount": 20.0}, {"stated_condition": "used"},
        {"remedy": "reship"}, {"remedy": "repair"})


def test_every_reply_to_every_demo_order_can_be_filled(desk, domain) -> None:
    """All demo orders x requests x reasons x escalation: the domain can say each outcome.

    ``decide`` is called directly on the desk's order views (``desk.decide`` would
    only add a log row per case, which makes the sweep slow).
    """
    seen = set()
    cases = [("no_reason", ()), ("quality", ()), ("quality", PHOTO), ("missing_parts", ()),
             ("not_received", ()), ("counterfeit_suspected", ()), ("health_safety", ())]
    for order_id in [*DEMO_ORDERS, CHEAP_ORDER["order_id"], "0000000000000000000"]:
        view = desk.find_order(order_id, None)
        rules = desk.rules_for(view.shop_id, view.platform) if view else desk.rules_for(None, "tmall")
        for request_type, (reason, evidence), escalation, said in itertools.product(
            ("refund", "return", "exchange", "quality_complaint"), cases, (False, True), SAID
        ):
            request = AfterSalesRequest(rules.platform, request_type, reason, evidence, escalation, **said)
            decision = decide_policy(request, view.order if view else None, rules, NOW)
            replies = decision_replies(Outcome(decision, request, view, rules, 1, NOW))
            assert_fillable(domain, replies)
            seen.update(reply.response for reply in replies)
    # The sweep reached every decision response of domain.yml that decide can produce.
    decision_responses = {
        name for name in domain["responses"]
        if name.startswith(("utter_approve_", "utter_decline_", "utter_handoff_"))
    }
    not_for_decisions = {"utter_handoff_low_confidence", "utter_handoff_priority"}
    assert seen >= decision_responses - not_for_decisions
    assert "utter_deescalate_calm" in seen


def test_approve_return_states_window_address_payer_and_timer(desk, domain) -> None:
    [reply] = decision_replies(decide(desk, CHEN_ONLY_RECENT, "return"))
    # Signed 24 Nov 12:40: the 7 x 24 h run from 25 Nov 00:00 to 2 Dec 00:00.
    assert reply.params["window_end"] == "12月2日 00:00"
    assert reply.params["order_id"] == CHEN_ONLY_RECENT
    assert reply.params["payer"].startswith("这单买了运费险")
    assert "自动理赔" not in reply.params["payer"]  # 运费险 can pay the claim; nobody promises it
    assert reply.params["confirm"] == "我们签收退货后会在48小时内确认并为您退款。"
    assert reply.params["customs"] == ""  # domestic order
    assert reply.params["return_address"].startswith("浙江省杭州市余杭区")
    text = render(domain, reply)
    assert "{" not in text and "《消费者权益保护法》第二十五条" in text


def test_buyer_pays_outbound_when_the_order_was_not_free_shipping(desk) -> None:
    [reply] = decision_replies(decide(desk, "3398127465503318822", "return"))
    assert reply.params["payer"] == "寄回的运费需要您承担。这单不是包邮，原来的发货运费不在退款范围内。"


def test_decline_window_expired_says_when_it_ended_and_the_quality_route(desk, domain) -> None:
    [reply] = decision_replies(decide(desk, "3398127465503318829", "return"))
    # Signed 15 Nov 13:30: window ended 23 Nov 00:00; quality window: 15 days from
    # completion (17 Nov 13:30) → 2 Dec 13:30.
    assert reply.params["window_end"] == "11月23日 00:00"
    assert reply.params["quality_route"] == (
        "如果商品有质量问题，在12月2日 13:30前都可以按质量问题申请售后，经核实属于质量问题的，来回运费由我们承担。"
    )
    assert "{" not in render(domain, reply)


def test_decline_not_intact_names_the_condition(desk) -> None:
    [reply] = decision_replies(decide(desk, "3398127465503318823", "return"))
    assert reply.params["condition_said"] == "我们这边记录的是吊牌已经剪掉"


def test_decline_not_intact_on_the_buyers_word_says_so(desk) -> None:
    """v2: "我穿过一次" counts; the reply says the buyer said it, not that we recorded it."""
    [reply] = decision_replies(decide(desk, CHEN_ONLY_RECENT, "return", stated_condition="used"))
    assert reply.response == "utter_decline_not_intact"
    assert reply.params["condition_said"] == "您提到商品已经使用过"


def test_escalation_adds_calm_wording_before_the_verdict(desk) -> None:
    replies = decision_replies(decide(desk, "3398127465503318829", "return", escalation=True))
    assert [reply.response for reply in replies] == ["utter_deescalate_calm", "utter_decline_window_expired"]
    approved = decision_replies(decide(desk, CHEN_ONLY_RECENT, "return", escalation=True))
    assert [reply.response for reply in approved] == ["utter_deescalate_calm", "utter_approve_return"]


# ------------------------------------------------------------------ citations and customs


def test_citation_quotes_the_law_and_the_platform(desk) -> None:
    outcome = decide(desk, CHEN_ONLY_RECENT, "return")
    assert citation(outcome.rules, outcome.decision.rule_ids) == (
        "《消费者权益保护法》第二十五条、《天猫七天无理由退换货规范》第六条"
    )


def test_a_lazada_citation_is_lazadas_own_policy(desk) -> None:
    outcome = decide(desk, "LZSG24A7K3M9Q1", "return")
    assert outcome.decision.verdict == "approve"
    assert citation(outcome.rules, outcome.decision.rule_ids) == "《Lazada 退货政策》、《Lazada 逆向物流政策》"


def test_citation_names_a_shop_promise(desk) -> None:
    # Signed 10 days ago: outside the platform's 7 days, inside the shop's promised 15.
    outcome = decide(desk, "4012873365920117368", "return")
    assert outcome.decision.verdict == "approve"
    assert "SHOP.demo_tmall_global.NO_REASON_WINDOW" in outcome.decision.rule_ids
    assert citation(outcome.rules, outcome.decision.rule_ids) == "《消费者权益保护法》第二十五条、本店承诺"


def test_citation_of_law_rows_keeps_the_article(desk) -> None:
    rules = desk.rules_for("demo_tmall", "tmall")
    assert citation(rules, ["LAW.SAMR.INTACT"]) == "《网络购买商品七日无理由退货暂行办法》第八、九条"
    assert citation(rules, ["LAW.SAMR.18"]) == "《网络购买商品七日无理由退货暂行办法》第十八条"
    for rule_id in ("LAW.CRPL.25", "LAW.CRPL.24", "LAW.ECL.20", "LAW.HEALTH_SAFETY"):
        assert re.fullmatch(r"《[^》]+》(第.+条)?", citation(rules, [rule_id])), rule_id


def test_citation_skips_bookkeeping_rules_and_unknown_ids(desk) -> None:
    rules = desk.rules_for("demo_tmall", "tmall")
    bookkeeping = [rules[key].rule_id for key in ("timezone", "seller_response", "return_confirm")]
    assert citation(rules, bookkeeping + ["NO.SUCH.RULE", "PROC.PARTIAL_REFUND"]) == "本店售后规范"
    assert citation(rules, []) == "本店售后规范"


def test_citation_quotes_at_most_two_rules_without_repeats(desk) -> None:
    rules = desk.rules_for("demo_tmall", "tmall")
    ids = ["LAW.CRPL.25", "LAW.CRPL.25.EXCLUDED", "LAW.CRPL.24", "LAW.ECL.20"]
    assert citation(rules, ids) == "《消费者权益保护法》第二十五条、《消费者权益保护法》第二十四条"


@pytest.mark.parametrize(
    "order_id, request_type, reason, evidence, response, apply_by, arrive_by",
    [
        # Bonded, customs released 20 Nov 09:30: apply by +30 days, back by +45 days.
        ("4012873365920117364", "return", "no_reason", (), "utter_approve_return",
         "12月20日 09:30", "1月4日 09:30"),
        # Direct mail, released 21 Nov 08:45; a quality return.
        ("4012873365920117366", "return", "quality", PHOTO, "utter_approve_quality",
         "12月21日 08:45", "1月5日 08:45"),
        # JD International bonded formula, released 21 Nov 11:00.
        ("301456789012", "return", "no_reason", (), "utter_approve_return", "12月21日 11:00", "1月5日 11:00"),
    ],
)
def test_cross_border_approvals_carry_the_customs_window(
    desk, domain, order_id, request_type, reason, evidence, response, apply_by, arrive_by
) -> None:
    [reply] = decision_replies(decide(desk, order_id, request_type, reason, evidence=evidence))
    assert reply.response == response
    # Conditions for the tax, not a return window; no promise that tax is refunded.
    assert reply.params["customs"] == (
        f"这单是跨境商品：在{apply_by}前申请退货、商品在{arrive_by}前运回海关监管场所的，"
        "按规定不征收跨境税款；这是税款的条件，不是退货期限。"
    )
    assert reply.params["customs"] in render(domain, reply)


def test_after_the_apply_by_date_no_tax_promise_is_made(desk) -> None:
    # Released 13 days ago (4012873365920117368); 30 days later, the date has passed.
    outcome = decide(desk, "4012873365920117368", "return")
    late = dataclasses.replace(outcome, now=outcome.now + dt.timedelta(days=20))
    [reply] = decision_replies(late)
    assert reply.params["customs"] == (
        "这单是跨境商品，清关放行已超过30天，已缴跨境税款怎么处理以海关规定为准，我们这边不作承诺。"
    )


def test_approve_quality_on_a_bonded_order_sends_to_the_domestic_hub(desk, domain) -> None:
    [reply] = decision_replies(decide(desk, "4012873365920117364", "exchange", "quality", evidence=PHOTO))
    assert reply.response == "utter_approve_quality_exchange"
    assert reply.params["shipping"].startswith("来回运费由我们承担，您先垫付的寄回运费我们会补给您。")
    assert "保税物流中心" in reply.params["shipping"]
    text = render(domain, reply)
    assert "换货" in text and "退款" not in text  # an exchange never speaks of a refund


@pytest.mark.parametrize(
    "remedy, response, words",
    [("return_refund", "utter_approve_quality", "退货退款"), ("exchange", "utter_approve_quality_exchange", "换货"),
     ("reship", "utter_approve_quality_reship", "补发"), ("repair", "utter_approve_quality_repair", "维修")],
)
def test_the_reply_names_the_remedy_the_buyer_asked_for(desk, domain, remedy, response, words) -> None:
    outcome = decide(desk, CHEN_ONLY_RECENT, "quality_complaint", "quality", evidence=PHOTO, remedy=remedy)
    [reply] = decision_replies(outcome)
    assert reply.response == response and words in render(domain, reply)


def test_a_wrong_item_is_not_called_a_quality_problem(desk, domain) -> None:
    outcome = decide(desk, CHEN_ONLY_RECENT, "return", "wrong_item", evidence=("https://v.example/unbox.mp4",))
    text = render(domain, decision_replies(outcome)[0])
    assert "发错" in text and "质量问题" not in text


# ------------------------------------------------------------------ other replies


@pytest.mark.parametrize(
    "platform, reason, response, cited",
    [("tmall", "quality", "utter_ask_evidence", "《淘宝平台争议处理规则》第六十五条"),
     ("tmall", None, "utter_ask_evidence", "《淘宝平台争议处理规则》第六十五条"),
     ("tmall", "missing_parts", "utter_ask_evidence_video", "《淘宝平台争议处理规则》第六十五条"),
     ("taobao", "damaged_in_transit", "utter_ask_evidence_video", "《淘宝平台争议处理规则》第六十五条"),
     ("jd_international", "quality", "utter_ask_evidence", "《京东开放平台商品类问题纠纷处理标准》第十八条"),
     # No Lazada document states it: the shop's own rules, never Taobao's.
     ("lazada", "quality", "utter_ask_evidence", "本店售后规范")],
)
def test_evidence_request(desk, domain, platform, reason, response, cited) -> None:
    reply = evidence_request(reason, desk.rules_for(None, platform))
    assert reply == Reply(response, {"citation": cited})
    assert_fillable(domain, [reply])


@pytest.mark.parametrize(
    "priority, response", [("high", "utter_handoff_priority"), ("normal", "utter_handoff")]
)
def test_handoff_reply_says_by_when(desk, domain, priority, response) -> None:
    handoff = Handoff(1, "buyer_asked", priority, dt.datetime(2026, 11, 28, 2, 0, tzinfo=dt.timezone.utc))
    reply = handoff_reply(handoff, desk.rules_for("demo_tmall", "tmall"))
    assert reply == Reply(response, {"answer_by": "11月28日 10:00"})  # shown in Shanghai time
    assert_fillable(domain, [reply])


def test_policy_reply_shows_the_shops_better_promise(desk, domain) -> None:
    rules = desk.rules_for("demo_tmall_global", "tmall_global")
    reply = policy_reply(rules, desk.shop_name("demo_tmall_global"))
    assert reply.params["shop"] == "安心海外旗舰店"
    assert reply.params["window"] == "签收次日零点起15天内"
    assert reply.params["timer"] == "24小时"
    assert "清关放行后30天内" in reply.params["customs"]
    assert "本店承诺" in reply.params["citation"]
    assert_fillable(domain, [reply])


def test_policy_reply_of_a_platform_without_a_shop(desk, domain) -> None:
    reply = policy_reply(desk.rules_for(None, "lazada"), None)
    assert reply.params["shop"] == "Lazada店铺"
    assert reply.params["window"] == "签收后7天内"
    assert reply.params["timer"] == "2个工作日"
    assert reply.params["customs"] == ""
    assert_fillable(domain, [reply])


@pytest.mark.parametrize(
    "order_id, response, signed",
    [
        ("3398127465503318828", "utter_logistics_unpaid", None),
        ("4012873365920117371", "utter_logistics_paid_unshipped", None),
        ("4012873365920117370", "utter_logistics_shipped", None),
        (CHEN_ONLY_RECENT, "utter_logistics_signed", "11月24日 12:40"),
        ("3398127465503318829", "utter_logistics_completed", "11月15日 13:30"),
        ("3398127465503318827", "utter_logistics_closed", None),
        ("LZSG24A7K3M9Q1", "utter_logistics_signed", "11月24日 14:00"),  # Singapore time
    ],
)
def test_logistics_reply_follows_the_order_status(desk, domain, order_id, response, signed) -> None:
    view = desk.find_order(order_id, None)
    reply = logistics_reply(view, desk.rules_for(view.shop_id, view.platform))
    assert reply.response == response
    assert reply.params["order_id"] == order_id
    assert reply.params.get("signed") == signed
    assert_fillable(domain, [reply])


def test_when_formats_in_the_platforms_time_zone(desk) -> None:
    moment = dt.datetime(2026, 11, 27, 16, 30, tzinfo=dt.timezone.utc)
    assert when(moment, desk.rules_for(None, "tmall")) == "11月28日 00:30"
    assert when(moment.astimezone(SHANGHAI), desk.rules_for(None, "lazada")) == "11月28日 00:30"
    assert when(None, desk.rules_for(None, "tmall")) == "尽快"


def test_photos_and_videos_are_both_evidence_and_only_photos_are_images() -> None:
    attachments = [{"type": "video", "url": "https://img.example/unboxing.mp4"},
                   {"type": "image", "url": "https://img.example/crack.jpg"},
                   {"type": "file", "url": "https://img.example/x.pdf"}]
    assert evidence_urls({"attachments": attachments}) == [
        "https://img.example/unboxing.mp4", "https://img.example/crack.jpg"]
    assert image_urls({"attachments": attachments}) == ["https://img.example/crack.jpg"]
