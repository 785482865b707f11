"""``decide`` walks POLICY.md section 3 step by step, boundaries included."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.rules.decide import decide
from bot.rules.model import AfterSalesRequest, Order
from bot.rules.vocabulary import (
    CATEGORY_CLASSES,
    CONDITIONS,
    FULFILLMENTS,
    PLATFORMS,
    QUALITY_REASONS,
    REASONS,
    REMEDIES,
    REQUESTS,
    STATUSES,
)
from rule_sets import PREFIX, rule_set

SHANGHAI = ZoneInfo("Asia/Shanghai")
SIGNED = datetime(2026, 11, 20, 15, 0, tzinfo=SHANGHAI)
PHOTO = ({"type": "image", "url": "https://example.invalid/p.jpg"},)


def order(**fields) -> Order:
    base = dict(order_id="3091102086046928447", status="signed", signed_at=SIGNED)
    return Order(**{**base, **fields})


def ask(request="return", reason="no_reason", platform="tmall", evidence=(), **said) -> AfterSalesRequest:
    return AfterSalesRequest(platform=platform, request=request, reason=reason, evidence=evidence, **said)


def run(req: AfterSalesRequest, the_order, now: datetime, **overrides):
    return decide(req, the_order, rule_set(req.platform, **overrides), now)


NOW = datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


# Step 1-2 ------------------------------------------------------------------

def test_unknown_order_is_handed_off() -> None:
    decision = run(ask(), None, NOW)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "unknown_order")
    assert decision.rule_ids == ("PROC.UNKNOWN_ORDER",)


def test_closed_order_is_declined_as_already_refunded() -> None:
    decision = run(ask("refund", "quality", evidence=PHOTO), order(status="closed"), NOW)
    assert (decision.verdict, decision.decline_reason) == ("decline", "already_refunded")


# Step 3-4 ------------------------------------------------------------------

@pytest.mark.parametrize("status", ["paid_unshipped", "shipped", "signed", "completed"])
def test_counterfeit_claims_always_go_to_a_human(status: str) -> None:
    decision = run(ask("refund", "counterfeit_suspected", evidence=PHOTO), order(status=status), NOW)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "counterfeit_claim")
    assert "documents_to_platform" in decision.notes


def test_health_and_safety_go_to_a_human_with_high_priority() -> None:
    decision = run(ask("refund", "health_safety"), order(category_class="one_time_seal"), NOW)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "health_safety")
    assert "priority_high" in decision.notes


# Step 5-6 ------------------------------------------------------------------

def test_unshipped_refund_is_approved_under_the_unshipped_timer() -> None:
    decision = run(ask("refund", "no_reason"), order(status="paid_unshipped", signed_at=None), NOW)
    assert decision.verdict == "approve" and "cancel_and_refund" in decision.notes
    assert decision.deadline == NOW + timedelta(hours=24)
    assert decision.rule_ids == ("TM.REFUND_BEFORE_DELIVERY", "TM.UNSHIPPED_REFUND_RESPONSE")


@pytest.mark.parametrize("request_type", ["refund", "return"])
def test_shipped_order_can_be_intercepted(request_type: str) -> None:
    decision = run(ask(request_type, "no_reason"), order(status="shipped", signed_at=None), NOW)
    assert decision.verdict == "approve" and "intercept_or_refuse" in decision.notes
    assert decision.deadline == NOW + timedelta(hours=36)


@pytest.mark.parametrize("request_type", ["refund", "return"])
def test_a_custom_made_item_in_transit_is_for_a_person(request_type: str) -> None:
    the_order = order(status="shipped", signed_at=None, category_class="statutory_excluded")
    decision = run(ask(request_type), the_order, NOW)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "excluded_item")


@pytest.mark.parametrize("status", ["signed", "completed"])
def test_not_received_after_signing_is_a_delivery_dispute(status: str) -> None:
    decision = run(ask("refund", "not_received"), order(status=status), NOW)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "delivery_dispute")


# Step 7 --------------------------------------------------------------------

def test_quality_without_evidence_asks_for_photos() -> None:
    decision = run(ask("return", "quality"), order(), NOW)
    assert decision.verdict == "need_evidence"
    assert "photos_and_waybill" in decision.notes and "unboxing_video" not in decision.notes


@pytest.mark.parametrize("reason", ["missing_parts", "damaged_in_transit"])
def test_missing_parts_and_transit_damage_need_an_unboxing_video(reason: str) -> None:
    assert "unboxing_video" in run(ask("return", reason), order(), NOW).notes


@pytest.mark.parametrize("request_type,remedy,note", [
    ("return", None, "remedy_return_refund"), ("exchange", None, "remedy_exchange"),
    ("quality_complaint", None, "offer_return_exchange_reship"),
    ("quality_complaint", "exchange", "remedy_exchange"), ("quality_complaint", "repair", "remedy_repair"),
])
def test_the_remedy_named_is_the_remedy_approved(request_type, remedy, note) -> None:
    decision = run(ask(request_type, "quality", evidence=PHOTO, remedy=remedy), order(), NOW)
    assert (decision.verdict, decision.shipping_payer) == ("approve", "seller")
    assert note in decision.notes
    assert sum(n.startswith("remedy_") or n == "offer_return_exchange_reship" for n in decision.notes) == 1


@pytest.mark.parametrize("remedy", [None, "reship"])
def test_a_missing_part_is_reshipped_without_sending_the_item_back(remedy) -> None:
    decision = run(ask("quality_complaint", "missing_parts", evidence=PHOTO, remedy=remedy), order(), NOW)
    assert (decision.verdict, decision.shipping_payer) == ("approve", "none")
    assert "remedy_reship" in decision.notes


@pytest.mark.parametrize("request_type", ["return", "exchange", "quality_complaint"])
def test_quality_with_evidence_is_approved_and_the_seller_pays(request_type: str) -> None:
    decision = run(ask(request_type, "quality", evidence=PHOTO),
                   order(condition="used", category_class="confirm_excluded",
                         buyer_confirmed_exclusion=True), NOW)
    assert (decision.verdict, decision.shipping_payer) == ("approve", "seller")
    assert ("offer_return_exchange_reship" in decision.notes) == (request_type == "quality_complaint")


def test_refund_keeping_the_item_is_a_partial_refund_for_a_human() -> None:
    decision = run(ask("refund", "quality", evidence=PHOTO), order(amount=129.0), NOW)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "partial_refund")


def test_compensation_up_to_the_goodwill_cap_is_approved() -> None:
    decision = run(ask("refund", "quality", evidence=PHOTO, remedy="compensation", requested_amount=20.0),
                   order(amount=899.0), NOW, goodwill_refund_cap=30)
    assert decision.verdict == "approve" and "refund_keep_item" in decision.notes
    assert decision.shipping_payer == "none"
    assert "TM.GOODWILL_REFUND_CAP" in decision.rule_ids


@pytest.mark.parametrize("requested,amount", [(None, 25.0), (31.0, 899.0), (25.0, 25.0), (0.0, 899.0)])
def test_the_goodwill_cap_is_never_a_whole_refund_nor_more_than_the_cap(requested, amount) -> None:
    """v2: the cap is compared with the amount asked for, and never pays out the whole order."""
    decision = run(ask("refund", "quality", evidence=PHOTO, requested_amount=requested),
                   order(amount=amount), NOW, goodwill_refund_cap=30)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "partial_refund")


def test_tmall_quality_window_runs_15_days_from_trade_success() -> None:
    completed = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
    the_order = order(status="completed", completed_at=completed)
    inside = run(ask("return", "quality", evidence=PHOTO), the_order, completed + timedelta(days=15, seconds=-1))
    outside = run(ask("return", "quality", evidence=PHOTO), the_order, completed + timedelta(days=15))
    assert inside.verdict == "approve"
    assert (outside.verdict, outside.handoff_reason) == ("handoff", "beyond_quality_window")


def test_tmall_quality_window_falls_back_to_signing() -> None:
    the_order = order(completed_at=None)
    assert run(ask("return", "quality", evidence=PHOTO), the_order, SIGNED + timedelta(days=15)).verdict == "handoff"
    assert run(ask("return", "quality", evidence=PHOTO), the_order, SIGNED + timedelta(days=14)).verdict == "approve"


def test_jd_quality_window_starts_the_day_after_signing() -> None:
    req = ask("return", "quality", platform="jd_international", evidence=PHOTO)
    ends = datetime(2026, 12, 6, 0, 0, tzinfo=SHANGHAI)  # 21st 00:00 + 15 days
    assert run(req, order(), ends - timedelta(minutes=1)).verdict == "approve"
    assert run(req, order(), ends).handoff_reason == "beyond_quality_window"


def test_lazada_quality_window_is_seven_days_from_delivery() -> None:
    singapore = ZoneInfo("Asia/Singapore")
    delivered = datetime(2026, 11, 20, 15, 0, tzinfo=singapore)
    req = ask("return", "damaged_in_transit", platform="lazada", evidence=PHOTO)
    assert run(req, order(signed_at=delivered), delivered + timedelta(days=7, seconds=-1)).verdict == "approve"
    assert run(req, order(signed_at=delivered), delivered + timedelta(days=7)).verdict == "handoff"


# Step 8 --------------------------------------------------------------------

def test_window_boundary_from_policy_example() -> None:
    """Signed 2026-11-20 15:00 → window ends 2026-11-28 00:00 (exclusive)."""
    inside = run(ask(), order(), datetime(2026, 11, 27, 23, 59, tzinfo=SHANGHAI))
    outside = run(ask(), order(), datetime(2026, 11, 28, 0, 0, tzinfo=SHANGHAI))
    assert inside.verdict == "approve"
    assert (outside.verdict, outside.decline_reason) == ("decline", "window_expired")


def test_utc_inputs_are_judged_in_shanghai_time() -> None:
    # 17:00 UTC on the 20th is 01:00 on the 21st in Shanghai: the window ends 29th 00:00.
    the_order = order(signed_at=datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc))
    at = datetime(2026, 11, 28, 12, 0, tzinfo=timezone.utc)  # 20:00 on the 28th in Shanghai
    assert run(ask(), the_order, at).verdict == "approve"
    assert run(ask(), the_order, datetime(2026, 11, 28, 16, 0, tzinfo=timezone.utc)).decline_reason == "window_expired"


def test_lazada_no_reason_window_counts_from_the_delivery_moment() -> None:
    singapore = ZoneInfo("Asia/Singapore")
    delivered = datetime(2026, 11, 20, 15, 0, tzinfo=singapore)
    req = ask(platform="lazada")
    assert run(req, order(signed_at=delivered), delivered + timedelta(days=7, seconds=-1)).verdict == "approve"
    assert run(req, order(signed_at=delivered), delivered + timedelta(days=7)).decline_reason == "window_expired"


def test_statutory_exclusions_are_declined() -> None:
    decision = run(ask(), order(category="鲜花", category_class="statutory_excluded"), NOW)
    assert (decision.verdict, decision.decline_reason) == ("decline", "statutory_excluded")
    assert "offer_quality_route" in decision.notes


def test_confirm_exclusions_need_the_buyers_confirmation() -> None:
    confirmed = order(category="内衣", category_class="confirm_excluded", buyer_confirmed_exclusion=True)
    unconfirmed = dataclasses.replace(confirmed, buyer_confirmed_exclusion=False)
    assert run(ask(), confirmed, NOW).decline_reason == "confirmed_excluded"
    assert run(ask(), unconfirmed, NOW).verdict == "approve"


def test_tmall_global_needs_the_seven_day_label() -> None:
    req = ask(platform="tmall_global")
    assert run(req, order(seven_day_label=False), NOW).decline_reason == "no_seven_day_label"
    assert run(req, order(seven_day_label=True), NOW).verdict == "approve"


def test_an_unknown_tmall_global_label_is_checked_by_a_person() -> None:
    """v2: nobody tells a buyer a label is absent without knowing it."""
    decision = run(ask(platform="tmall_global"), order(seven_day_label=None), NOW)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "missing_facts")
    assert "PROC.MISSING_FACTS" in decision.rule_ids


def test_a_shop_that_labels_unmarked_items_answers_itself() -> None:
    decision = run(ask(platform="tmall_global"), order(seven_day_label=None), NOW, seven_day_label_default=True)
    assert decision.verdict == "approve" and "TG.SEVEN_DAY_LABEL_DEFAULT" in decision.rule_ids


def test_an_unknown_signing_time_is_never_a_window_quoted_from_nothing() -> None:
    decision = run(ask(), order(signed_at=None), NOW)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "missing_facts")
    assert decision.decline_reason is None


def test_tmall_label_is_on_by_default() -> None:
    assert run(ask(), order(seven_day_label=None), NOW).verdict == "approve"


@pytest.mark.parametrize("condition", ["used", "tags_removed", "seal_broken", "activated"])
def test_items_that_are_not_intact_are_declined(condition: str) -> None:
    assert run(ask(), order(condition=condition), NOW).decline_reason == "not_intact"


@pytest.mark.parametrize("stated", ["used", "tags_removed", "activated"])
def test_what_the_buyer_says_of_the_item_counts(stated: str) -> None:
    decision = run(ask(stated_condition=stated), order(condition="unopened"), NOW)
    assert decision.decline_reason == "not_intact" and "buyer_stated_condition" in decision.notes


def test_saying_unused_never_overrides_a_recorded_not_intact_item() -> None:
    assert run(ask(stated_condition="unopened"), order(condition="tags_removed"), NOW).decline_reason == "not_intact"


@pytest.mark.parametrize("category_class,declined", [("one_time_seal", True), (None, False)])
def test_an_opened_seal_counts_only_on_a_one_time_seal_item(category_class, declined) -> None:
    decision = run(ask(stated_condition="seal_broken"), order(category_class=category_class), NOW)
    assert (decision.decline_reason == "not_intact") == declined


@pytest.mark.parametrize("condition", ["unopened", "opened_inspected"])
def test_opening_to_inspect_keeps_an_item_intact(condition: str) -> None:
    decision = run(ask(), order(condition=condition, category_class="one_time_seal"), NOW)
    assert decision.verdict == "approve"


def test_lazada_returns_go_back_free_through_the_platform() -> None:
    decision = run(ask(platform="lazada"), order(shipping_insurance=True, free_shipping=False), NOW)
    assert (decision.verdict, decision.shipping_payer) == ("approve", "none")
    assert "LZ.NO_REASON_RETURN_LEG" in decision.rule_ids and "platform_pickup" in decision.notes
    assert "buyer_pays_outbound" not in decision.notes


@pytest.mark.parametrize("remedy", [None, "return_refund", "exchange", "repair"])
def test_lazada_quality_returns_go_back_free_too(remedy) -> None:
    """The platform collects a defective item for free: no return leg for anyone to pay."""
    req = ask("quality_complaint", "quality", platform="lazada", evidence=PHOTO, remedy=remedy)
    decision = run(req, order(), NOW)
    assert (decision.verdict, decision.shipping_payer) == ("approve", "none")
    assert "platform_pickup" in decision.notes
    assert run(ask("quality_complaint", "quality", evidence=PHOTO, remedy=remedy), order(), NOW).shipping_payer == (
        "seller")  # elsewhere the seller pays both ways


def test_no_reason_return_shipping_payers() -> None:
    assert run(ask(), order(), NOW).shipping_payer == "buyer"
    assert run(ask(), order(shipping_insurance=True), NOW).shipping_payer == "insurance"
    not_free = run(ask(), order(free_shipping=False), NOW)
    assert "buyer_pays_outbound" in not_free.notes
    exchange = run(ask("exchange"), order(shipping_insurance=True), NOW)
    assert exchange.shipping_payer == "buyer" and "buyer_pays_both_legs" in exchange.notes


@pytest.mark.parametrize("fulfillment,noted", [("bonded", True), ("direct_mail", True), ("domestic", False)])
def test_customs_note_for_cross_border_returns(fulfillment: str, noted: bool) -> None:
    decision = run(ask(platform="tmall_global"), order(seven_day_label=True, fulfillment=fulfillment), NOW)
    assert ("customs_tax_window" in decision.notes) == noted


def test_shop_promise_of_a_longer_window_is_honoured() -> None:
    late = datetime(2026, 12, 3, 12, 0, tzinfo=SHANGHAI)
    assert run(ask(), order(), late).decline_reason == "window_expired"
    assert run(ask(), order(), late, no_reason_window=15).verdict == "approve"


# Step 9 and timers -----------------------------------------------------------

def test_no_reason_refund_after_signing_needs_the_item_back() -> None:
    decision = run(ask("refund", "no_reason"), order(), NOW)
    assert (decision.verdict, decision.decline_reason) == ("decline", "needs_return")
    assert "offer_return_path" in decision.notes


def test_lazada_timer_counts_working_days() -> None:
    friday = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Singapore"))
    decision = run(ask("return", "quality", platform="lazada"), order(signed_at=friday), friday)
    assert decision.deadline == datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Singapore"))


def test_jd_seller_answers_within_24_hours() -> None:
    decision = run(ask(platform="jd_international"), order(), NOW)
    assert decision.deadline == NOW + timedelta(hours=24)


def test_every_decision_cites_rules() -> None:
    for status in STATUSES:
        assert run(ask("return", "quality"), order(status=status), NOW).rule_ids


# Properties ------------------------------------------------------------------

times = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31),
                     timezones=st.sampled_from([SHANGHAI, timezone.utc, ZoneInfo("Asia/Singapore")]))


@settings(max_examples=400, deadline=None)
@given(
    platform=st.sampled_from(PLATFORMS),
    request_type=st.sampled_from(["return", "exchange"]),
    signed=times,
    elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=6, hours=23)),
    condition=st.sampled_from(["unopened", "opened_inspected"]),
    category_class=st.sampled_from([None, "one_time_seal", "confirm_excluded"]),
    fulfillment=st.sampled_from(FULFILLMENTS),
    insured=st.booleans(),
    free=st.booleans(),
)
def test_no_reason_inside_window_for_intact_allowed_items_is_never_declined(
    platform, request_type, signed, elapsed, condition, category_class, fulfillment, insured, free
) -> None:
    the_order = order(signed_at=signed, status="signed", condition=condition, category_class=category_class,
                      buyer_confirmed_exclusion=False, seven_day_label=True, fulfillment=fulfillment,
                      shipping_insurance=insured, free_shipping=free)
    decision = run(ask(request_type, "no_reason", platform=platform), the_order, signed + elapsed)
    assert decision.verdict == "approve"


@settings(max_examples=400, deadline=None)
@given(
    platform=st.sampled_from(PLATFORMS),
    request_type=st.sampled_from(REQUESTS),
    reason=st.sampled_from(QUALITY_REASONS),
    status=st.sampled_from([s for s in STATUSES if s != "closed"]),
    condition=st.sampled_from(CONDITIONS),
    category_class=st.sampled_from((None,) + CATEGORY_CLASSES),
    confirmed=st.booleans(),
    label=st.sampled_from([None, True, False]),
    evidence=st.booleans(),
    signed=times,
    elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)),
)
def test_quality_reasons_are_never_declined(
    platform, request_type, reason, status, condition, category_class, confirmed, label, evidence, signed, elapsed
) -> None:
    the_order = order(status=status, signed_at=signed, condition=condition, category_class=category_class,
                      buyer_confirmed_exclusion=confirmed, seven_day_label=label)
    decision = run(ask(request_type, reason, platform=platform, evidence=PHOTO if evidence else ()),
                   the_order, signed + elapsed)
    assert decision.verdict != "decline"
    assert decision.rule_ids


# Escalation ------------------------------------------------------------------

def test_a_threat_never_changes_a_decline_but_brings_in_a_person() -> None:
    late = NOW + timedelta(days=30)
    calm = run(ask(), order(), late)
    angry = run(dataclasses.replace(ask(), escalation=True), order(), late)
    assert (calm.verdict, calm.decline_reason, calm.handoff_reason) == (
        "decline", "window_expired", None)
    assert (angry.verdict, angry.decline_reason, angry.handoff_reason) == (
        "decline", "window_expired", "escalation_threat")
    assert "PROC.ESCALATION_THREAT" in angry.rule_ids and "deescalate" in angry.notes


def test_a_threat_on_an_approved_request_changes_nothing() -> None:
    calm = run(ask(), order(), NOW)
    angry = run(dataclasses.replace(ask(), escalation=True), order(), NOW)
    assert angry == calm and angry.verdict == "approve"


def test_a_threat_keeps_the_original_handoff_reason() -> None:
    angry = run(dataclasses.replace(ask(reason="counterfeit_suspected"), escalation=True), order(), NOW)
    assert (angry.verdict, angry.handoff_reason) == ("handoff", "counterfeit_claim")


# POLICY v2 additions ------------------------------------------------------------

URGENT = timedelta(hours=2)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_health_and_safety_are_answered_within_the_urgent_time(platform) -> None:
    decision = run(ask("refund", "health_safety", platform=platform), order(), NOW)
    assert decision.deadline == NOW + URGENT
    assert f"{PREFIX[platform]}.URGENT_RESPONSE" in decision.rule_ids
    assert f"{PREFIX[platform]}.SELLER_RESPONSE" not in decision.rule_ids


def test_a_threat_brings_a_person_within_the_urgent_time_not_the_seller_timer() -> None:
    late = NOW + timedelta(days=30)
    angry = run(dataclasses.replace(ask(), escalation=True), order(), late)
    assert angry.deadline == late + URGENT and "TM.URGENT_RESPONSE" in angry.rule_ids
    assert "TM.SELLER_RESPONSE" not in angry.rule_ids


def test_a_shops_faster_urgent_promise_is_kept() -> None:
    decision = run(ask("refund", "health_safety"), order(), NOW, urgent_response=1)
    assert decision.deadline == NOW + timedelta(hours=1)


@pytest.mark.parametrize("free, noted", [(True, False), (False, True)])
def test_in_transit_nothing_is_posted_back_and_unrefunded_postage_is_said(free, noted) -> None:
    decision = run(ask("refund", "no_reason"), order(status="shipped", signed_at=None, free_shipping=free), NOW)
    assert (decision.verdict, decision.shipping_payer) == ("approve", "none")
    assert ("buyer_pays_outbound" in decision.notes) == noted


def test_a_perishable_item_in_transit_is_for_a_person_on_lazada_too() -> None:
    the_order = order(status="shipped", signed_at=None, category_class="statutory_excluded")
    decision = run(ask("refund", platform="lazada"), the_order, NOW)
    assert (decision.verdict, decision.handoff_reason) == ("handoff", "excluded_item")
    assert decision.rule_ids[0] == "LZ.STATUTORY_EXCLUSIONS"


def test_return_and_refund_named_with_a_refund_request_is_a_return_not_a_partial_refund() -> None:
    decision = run(ask("refund", "quality", evidence=PHOTO, remedy="return_refund"), order(amount=99.0), NOW)
    assert (decision.verdict, decision.shipping_payer) == ("approve", "seller")
    assert "remedy_return_refund" in decision.notes


@pytest.mark.parametrize("request_type", ["return", "quality_complaint"])
def test_compensation_named_is_the_keep_the_item_path_whatever_the_intent(request_type) -> None:
    decision = run(ask(request_type, "quality", evidence=PHOTO, remedy="compensation", requested_amount=10.0),
                   order(amount=99.0), NOW, goodwill_refund_cap=30)
    assert decision.verdict == "approve" and "refund_keep_item" in decision.notes


def test_exchange_named_after_signing_is_a_no_reason_exchange() -> None:
    decision = run(ask("return", "no_reason", remedy="exchange"), order(shipping_insurance=True), NOW)
    assert (decision.verdict, decision.shipping_payer) == ("approve", "buyer")
    assert {"remedy_exchange", "buyer_pays_both_legs"} <= set(decision.notes)


@pytest.mark.parametrize("remedy, noted", [("return_refund", True), (None, True), ("exchange", False),
                                           ("repair", False), ("reship", False)])
def test_the_customs_note_is_for_items_going_back_for_a_refund(remedy, noted) -> None:
    the_order = order(seven_day_label=True, fulfillment="bonded")
    decision = run(ask("quality_complaint", "quality", platform="tmall_global", evidence=PHOTO, remedy=remedy),
                   the_order, NOW)
    assert ("customs_tax_window" in decision.notes) == noted


def test_lazada_has_no_customs_note_and_no_prc_shipping_law() -> None:
    decision = run(ask(platform="lazada"), order(fulfillment="direct_mail"), NOW)
    assert decision.verdict == "approve" and "customs_tax_window" not in decision.notes
    assert not any(rule_id.startswith("LAW.") for rule_id in decision.rule_ids)


def test_a_video_is_evidence_as_much_as_a_photo() -> None:
    video = ({"type": "video", "url": "https://example.invalid/unboxing.mp4"},)
    assert run(ask("return", "missing_parts", evidence=video), order(), NOW).verdict == "approve"


# Properties of version 2 -------------------------------------------------------------

any_request = dict(
    request_type=st.sampled_from(REQUESTS),
    reason=st.sampled_from(REASONS),
    status=st.sampled_from(STATUSES),
    condition=st.sampled_from(CONDITIONS),
    stated=st.sampled_from((None,) + CONDITIONS),
    category_class=st.sampled_from((None,) + CATEGORY_CLASSES),
    confirmed=st.booleans(),
    label=st.sampled_from([None, True, False]),
    evidence=st.booleans(),
    remedy=st.sampled_from((None,) + REMEDIES),
    amount=st.sampled_from([None, 5.0, 30.0, 500.0]),
    threat=st.booleans(),
    signed=st.one_of(st.none(), times),
    elapsed=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)),
    fulfillment=st.sampled_from(FULFILLMENTS),
    insured=st.booleans(),
    free=st.booleans(),
)


def _any_decision(platform, request_type, reason, status, condition, stated, category_class, confirmed, label,
                  evidence, remedy, amount, threat, signed, elapsed, fulfillment, insured, free, cap=0):
    the_order = order(status=status, signed_at=signed, condition=condition, category_class=category_class,
                      buyer_confirmed_exclusion=confirmed, seven_day_label=label, fulfillment=fulfillment,
                      shipping_insurance=insured, free_shipping=free, amount=99.0)
    request = ask(request_type, reason, platform=platform, evidence=PHOTO if evidence else (),
                  stated_condition=stated, remedy=remedy, requested_amount=amount, escalation=threat)
    now = (signed or NOW) + elapsed
    return the_order, decide(request, the_order, rule_set(platform, goodwill_refund_cap=cap), now), now


@settings(max_examples=500, deadline=None)
@given(cap=st.sampled_from([0, 20]), **any_request)
def test_no_lazada_decision_carries_a_prc_rule(cap, **fields) -> None:
    """POLICY v2 §1: a Lazada buyer's decision rests on Lazada's policy and the shop's own rules."""
    _, decision, _ = _any_decision("lazada", cap=cap, **fields)
    lazada = rule_set("lazada")
    assert not lazada.under_prc_law
    assert decision.rule_ids and all(rule_id.startswith(("LZ.", "PROC.")) for rule_id in decision.rule_ids)
    assert decision.shipping_payer in ("none", "seller")  # never the buyer, never 运费险


@settings(max_examples=500, deadline=None)
@given(platform=st.sampled_from(PLATFORMS), **any_request)
def test_no_decline_rests_on_an_unknown_fact(platform, **fields) -> None:
    """A decline needs every fact it names to be known (v2: unknown label or signing time → a person)."""
    the_order, decision, _ = _any_decision(platform, **fields)
    if decision.verdict != "decline":
        return
    facts = {
        "window_expired": the_order.signed_at is not None,
        "no_seven_day_label": the_order.seven_day_label is False,
        "statutory_excluded": the_order.category_class == "statutory_excluded",
        "confirmed_excluded": the_order.buyer_confirmed_exclusion and the_order.category_class == "confirm_excluded",
        "already_refunded": the_order.status == "closed",
        "not_intact": True,  # the recorded or stated condition, both given
        "needs_return": the_order.status in ("signed", "completed"),
    }
    assert facts[decision.decline_reason], (decision, the_order)


@settings(max_examples=500, deadline=None)
@given(platform=st.sampled_from(PLATFORMS), **any_request)
def test_urgent_handoffs_are_never_on_the_seller_timer(platform, **fields) -> None:
    _, decision, now = _any_decision(platform, **fields)
    if decision.handoff_reason in ("health_safety", "escalation_threat") or (
        fields["threat"] and decision.verdict != "approve" and decision.handoff_reason
    ):
        assert decision.deadline == now + URGENT, decision


@settings(max_examples=300, deadline=None)
@given(platform=st.sampled_from(PLATFORMS), **any_request)
def test_in_transit_requests_never_send_a_parcel_back(platform, **fields) -> None:
    fields["status"] = "shipped"
    _, decision, _ = _any_decision(platform, **fields)
    if fields["request_type"] in ("refund", "return") and fields["reason"] not in (
        "counterfeit_suspected", "health_safety"
    ):
        assert decision.shipping_payer == "none"
