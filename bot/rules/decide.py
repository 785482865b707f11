"""``decide``: POLICY.md section 3, in order, as a pure function.

No I/O, no clock, no globals: the request, the order, the rule set (legal floor
+ platform defaults + the shop's better promises) and ``now`` go in; a
``Decision`` naming every rule row it applied comes out. The first matching step
wins, exactly as the policy lists them, so a reader can hold the code against
the specification line by line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.rules.model import AfterSalesRequest, Decision, Order, Rule, RuleSet
from bot.rules.vocabulary import INTACT_CONDITIONS, QUALITY_REASONS

SIGNED_STATUSES = ("signed", "completed")
UNBOXING_VIDEO_REASONS = ("missing_parts", "damaged_in_transit")
# Remedies that approve a quality problem as named (POLICY §3 step 7); a
# `quality_complaint` without one is offered the choice.
NAMED_REMEDIES = ("return_refund", "exchange", "reship", "repair")
REMEDY_OF_REQUEST = {"return": "return_refund", "exchange": "exchange"}


class _Trace:
    """Collects the rule ids applied and the reply hints while deciding."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.rule_ids: List[str] = []
        self.notes: List[str] = []

    def cite(self, key: str) -> Rule:
        rule = self.rules[key]
        if rule.rule_id not in self.rule_ids:
            self.rule_ids.append(rule.rule_id)
        return rule

    def note(self, *notes: str) -> None:
        self.notes.extend(n for n in notes if n not in self.notes)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    """The moment in the platform's zone; a naive time is taken as local time."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def window_end(rule: Rule, order: Order, zone: ZoneInfo) -> Optional[datetime]:
    """When a window rule closes for this order (exclusive), or None if unknown.

    ``day_after_signing``: 00:00 local time on the day after signing, plus the
    window (signed 20th 15:00, 7 days → closes 28th 00:00). ``delivery_time``:
    the signing moment plus the window. ``completed_else_signed``: trade success
    if known, else signing, plus the window.
    """
    if rule.counted_from == "completed_else_signed":
        base = order.completed_at or order.signed_at
    else:
        base = order.signed_at
    if base is None:
        return None
    start = _local(base, zone)
    if rule.counted_from == "day_after_signing":
        start = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return start + timedelta(days=float(rule.value))


def add_timer(now: datetime, rule: Rule, zone: ZoneInfo) -> datetime:
    """``now`` plus a seller timer; working days skip Saturdays and Sundays."""
    local = _local(now, zone)
    if rule.unit == "hours":
        return local + timedelta(hours=float(rule.value))
    remaining = int(rule.value)
    moment = local
    while remaining > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            remaining -= 1
    return moment


def _inside(end: Optional[datetime], now: datetime) -> bool:
    """Unknown windows count as open: a wrong "no" is the costlier mistake."""
    return end is None or now < end


def _seven_day_label(order: Order, trace: _Trace) -> Optional[bool]:
    """The item's 7-day label: the order's, else a shop's stated default, else unknown.

    The platform row ``seven_day_label_default: false`` means "not stated", so the
    label stays unknown (None); a shop that promises its unmarked items carry the
    label (``true``) makes it known.
    """
    if order.seven_day_label is not None:
        return order.seven_day_label
    default = trace.rules["seven_day_label_default"]
    if default.value:
        trace.cite("seven_day_label_default")
        return True
    return None


def decide(
    request: AfterSalesRequest,
    order: Optional[Order],
    rules: RuleSet,
    now: datetime,
) -> Decision:
    """Decide one after-sales request under POLICY.md section 3.

    Args:
        request: platform, request type, reason and evidence given so far.
        order: the buyer's order, or None when it could not be found.
        rules: the rule set of the order's platform (and shop).
        now: the current time, timezone-aware.

    Returns:
        The decision with its rule ids, the seller's deadline and reply hints.
    """
    trace = _Trace(rules)
    zone = ZoneInfo(str(rules["timezone"].value))
    now = _local(now, zone)
    verdict, payer, decline, handoff, timer_key = _procedure(request, order, now, zone, trace)
    if request.escalation and verdict != "approve":
        # A threat never changes the verdict; it brings a person in, with priority.
        trace.cite("proc_escalation_threat")
        trace.note("deescalate")
        handoff = handoff or "escalation_threat"
        timer_key = timer_key or "seller_response"
    deadline = None
    if timer_key is not None:
        deadline = add_timer(now, trace.cite(timer_key), zone)
    return Decision(
        verdict=verdict,
        shipping_payer=payer,
        decline_reason=decline,
        handoff_reason=handoff,
        rule_ids=tuple(trace.rule_ids),
        deadline=deadline,
        notes=tuple(trace.notes),
    )


Outcome = Tuple[str, str, Optional[str], Optional[str], Optional[str]]


def _procedure(
    request: AfterSalesRequest,
    order: Optional[Order],
    now: datetime,
    zone: ZoneInfo,
    trace: _Trace,
) -> Outcome:
    """Steps 1-9; returns (verdict, payer, decline, handoff, seller timer key)."""
    reason = request.reason
    if request.request == "quality_complaint" and reason == "no_reason":
        reason = "quality"  # a reported defect is a quality matter whatever was guessed
    # 1. Unknown order.
    if order is None:
        trace.cite("proc_unknown_order")
        return "handoff", "none", None, "unknown_order", None
    # 2. Already refunded or closed.
    if order.status == "closed":
        trace.cite("proc_closed_order")
        return "decline", "none", "already_refunded", None, None
    if order.status == "unpaid":
        trace.cite("law_refund_before_delivery")
        trace.note("cancel_unpaid")
        return "approve", "none", None, None, None
    # 3. Counterfeit claims: never concede or deny authenticity.
    if reason == "counterfeit_suspected":
        trace.cite("law_counterfeit_evidence")
        trace.note("seller_documents")
        return "handoff", "none", None, "counterfeit_claim", "seller_response"
    # 4. Health and safety.
    if reason == "health_safety":
        trace.cite("law_health_safety")
        trace.note("priority_high")
        return "handoff", "none", None, "health_safety", "seller_response"
    # 5. Nothing shipped yet: cancel and refund.
    if order.status == "paid_unshipped":
        if request.request in ("refund", "return"):
            trace.cite("law_refund_before_delivery")
            trace.note("cancel_and_refund")
            return "approve", "none", None, None, "unshipped_refund_response"
        trace.note("change_before_shipping")
        return "handoff", "none", None, "buyer_asked", "seller_response"
    # 6. On its way: intercept or refuse delivery. Not received after signing: check.
    if order.status == "shipped":
        if request.request in ("refund", "return") and order.category_class == "statutory_excluded":
            trace.cite("law_statutory_exclusions")
            trace.note("excluded_item_shipped")
            return "handoff", "none", None, "excluded_item", "seller_response"
        if request.request in ("refund", "return"):
            trace.cite("law_refund_before_delivery")
            trace.cite("law_transit_risk")
            trace.note("intercept_or_refuse")
            return "approve", "none", None, None, "seller_response"
        if reason not in QUALITY_REASONS:
            trace.note("wait_for_delivery")
            return "handoff", "none", None, "buyer_asked", "seller_response"
    if reason == "not_received":
        trace.cite("law_transit_risk")
        trace.note("check_with_carrier")
        return "handoff", "none", None, "delivery_dispute", "seller_response"
    # 7. Quality reasons.
    if reason in QUALITY_REASONS:
        return _quality(request, order, now, zone, trace)
    # 8. No-reason return or exchange after signing.
    if request.request in ("return", "exchange"):
        return _no_reason(request, order, now, zone, trace)
    # 9. No-reason refund without sending the item back.
    trace.cite("proc_needs_return")
    trace.note("offer_return_path")
    return "decline", "none", "needs_return", None, "seller_response"


def _quality(
    request: AfterSalesRequest, order: Order, now: datetime, zone: ZoneInfo, trace: _Trace
) -> Outcome:
    trace.cite("law_quality_return")
    window = trace.cite("quality_window")
    if not _inside(window_end(window, order, zone), now):
        trace.note("offer_repair_or_replacement")
        return "handoff", "none", None, "beyond_quality_window", "seller_response"
    if not request.evidence:
        trace.cite("law_quality_evidence")
        trace.note("photos_and_waybill")
        if request.reason in UNBOXING_VIDEO_REASONS:
            trace.note("unboxing_video")
        return "need_evidence", "none", None, None, "seller_response"
    if request.request == "refund" and order.status in SIGNED_STATUSES:
        # Money back while the buyer keeps the item: a compensation amount the shop
        # allows, never the whole order; anything else is for a person.
        cap = trace.rules.get("goodwill_refund_cap")
        amount = request.requested_amount
        if (
            cap is not None
            and amount is not None
            and 0 < amount <= float(cap.value)
            and (order.amount is None or amount < order.amount)
        ):
            trace.cite("goodwill_refund_cap")
            trace.note("refund_keep_item")
            return "approve", "none", None, None, "seller_response"
        trace.cite("proc_partial_refund")
        return "handoff", "none", None, "partial_refund", "seller_response"
    remedy = request.remedy if request.remedy in NAMED_REMEDIES else None
    remedy = remedy or REMEDY_OF_REQUEST.get(request.request)
    if remedy is None and request.reason == "missing_parts":
        remedy = "reship"  # the missing part is sent; nothing goes back
    if remedy is None:
        trace.note("offer_return_exchange_reship")
    else:
        trace.note(f"remedy_{remedy}")
    if remedy == "reship":
        return "approve", "none", None, None, "seller_response"
    _customs_note(order, trace)
    return "approve", "seller", None, None, "seller_response"


def _no_reason(
    request: AfterSalesRequest, order: Order, now: datetime, zone: ZoneInfo, trace: _Trace
) -> Outcome:
    trace.cite("law_no_reason_return")
    if order.category_class == "statutory_excluded":
        trace.cite("law_statutory_exclusions")
        trace.note("offer_quality_route")
        return "decline", "none", "statutory_excluded", None, "seller_response"
    if order.category_class == "confirm_excluded" and order.buyer_confirmed_exclusion:
        trace.cite("law_confirm_exclusions")
        trace.note("offer_quality_route")
        return "decline", "none", "confirmed_excluded", None, "seller_response"
    if trace.rules["seven_day_label_required"].value:
        label = _seven_day_label(order, trace)
        if label is None:
            # Nobody checked the item page: a person looks before anyone says "no label".
            trace.cite("seven_day_label_required")
            trace.cite("proc_missing_facts")
            trace.note("label_unknown")
            return "handoff", "none", None, "missing_facts", "seller_response"
        if not label:
            trace.cite("seven_day_label_required")
            trace.note("offer_quality_route")
            return "decline", "none", "no_seven_day_label", None, "seller_response"
    window = trace.cite("no_reason_window")
    if order.signed_at is None and order.status in SIGNED_STATUSES:
        trace.cite("proc_missing_facts")
        trace.note("signing_time_unknown")
        return "handoff", "none", None, "missing_facts", "seller_response"
    if not _inside(window_end(window, order, zone), now):
        trace.note("offer_quality_route")
        return "decline", "none", "window_expired", None, "seller_response"
    condition = effective_condition(order, request.stated_condition)
    if condition not in INTACT_CONDITIONS:
        trace.cite("law_intact")
        trace.note("offer_quality_route")
        if condition != order.condition:
            trace.note("buyer_stated_condition")
        return "decline", "none", "not_intact", None, "seller_response"
    leg = trace.cite("no_reason_return_leg")
    if leg.value == "none":
        trace.note("platform_pickup")
        _customs_note(order, trace)
        return "approve", "none", None, None, "seller_response"
    trace.cite("law_no_reason_shipping")
    if request.request == "exchange":
        trace.note("buyer_pays_both_legs")
        return "approve", "buyer", None, None, "seller_response"
    if not order.free_shipping:
        trace.note("buyer_pays_outbound")
    _customs_note(order, trace)
    payer = "insurance" if order.shipping_insurance else "buyer"
    return "approve", payer, None, None, "seller_response"


def effective_condition(order: Order, stated: Optional[str]) -> str:
    """The worse of the order's record and what the buyer says (POLICY §3 step 8).

    Saying an item is unused never overrides a recorded not-intact condition, and
    an opened seal only counts against a one-time-seal item: opening any other
    package to look is an inspection.
    """
    if stated is None or stated in INTACT_CONDITIONS or order.condition not in INTACT_CONDITIONS:
        return order.condition
    if stated == "seal_broken" and order.category_class != "one_time_seal":
        return order.condition
    return stated


def _customs_note(order: Order, trace: _Trace) -> None:
    """Bonded and direct-mail returns must reach customs in time to keep taxes off."""
    rule = trace.rules.get("customs_tax_window")
    if order.fulfillment in ("bonded", "direct_mail") and rule is not None and rule.value:
        trace.cite("customs_tax_window")
        trace.note("customs_tax_window")
