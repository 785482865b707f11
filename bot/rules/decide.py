"""``decide``: POLICY.md section 3, in order, as a pure function.

No I/O, no clock, no globals: the request, the order, the rule set (the floor:
PRC law, or Lazada's own policy outside it; the procedure; platform defaults;
the shop's better promises) and ``now`` go in; a ``Decision`` naming every rule
row it applied comes out. The first matching step
wins, exactly as the policy lists them, so a reader can hold the code against
the specification line by line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import List, Optional, Tuple
from zoneinfo import ZoneInfo

from bot.rules.model import AfterSalesRequest, Decision, Order, Rule, RuleSet
from bot.rules.vocabulary import INTACT_CONDITIONS, QUALITY_REASONS, URGENT_HANDOFF_REASONS

SIGNED_STATUSES = ("signed", "completed")
PLATFORM_PICKUP = "platform_reverse_logistics"
UNBOXING_VIDEO_REASONS = ("missing_parts", "damaged_in_transit")
# Remedies that approve a quality problem as named (POLICY §3 step 7); a
# `quality_complaint` without one is offered the choice.
NAMED_REMEDIES = ("return_refund", "exchange", "reship", "repair")
REMEDY_OF_REQUEST = {"return": "return_refund", "exchange": "exchange"}
# Money back while the buyer keeps the item (step 7's partial refund).
KEEP_ITEM_REMEDIES = ("refund_only", "compensation")
# After signing, the remedy a buyer named says what is asked: 换货 is an exchange
# whatever the intent was, 只退款 a refund without return (steps 8 and 9).
REQUEST_OF_REMEDY = {
    "return_refund": "return",
    "exchange": "exchange",
    "refund_only": "refund",
    "compensation": "refund",
}
# Where the item goes back to the seller, the customs note applies to it.
RETURNING_REMEDIES = ("return_refund", None)


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

    def cite_law(self, key: str) -> Optional[Rule]:
        """Cite a PRC-law-only rule where the rule set is under PRC law (not on Lazada)."""
        return self.cite(key) if key in self.rules.rules else None

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
        # A threat never changes the verdict; it brings a person in, with priority,
        # and the buyer hears from them within the urgent time (POLICY §2).
        trace.cite("escalation_threat")
        trace.note("deescalate")
        handoff = handoff or "escalation_threat"
        timer_key = "urgent_response"
    elif handoff in URGENT_HANDOFF_REASONS:
        timer_key = "urgent_response"
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
    """Steps 1-9; returns (verdict, payer, decline, handoff, seller timer key).

    A handoff's timer key may be None: ``decide`` gives urgent handoffs the
    ``urgent_response`` timer, and an unknown order has no timer at all.
    """
    reason = request.reason
    if request.request == "quality_complaint" and reason == "no_reason":
        reason = "quality"  # a reported defect is a quality matter whatever was guessed
    # 1. Unknown order.
    if order is None:
        trace.cite("unknown_order")
        return "handoff", "none", None, "unknown_order", None
    # 2. Already refunded or closed.
    if order.status == "closed":
        trace.cite("closed_order")
        return "decline", "none", "already_refunded", None, None
    if order.status == "unpaid":
        trace.cite("refund_before_delivery")
        trace.note("cancel_unpaid")
        return "approve", "none", None, None, None
    # 3. Counterfeit claims: never concede or deny authenticity; the seller's
    # documents go to the platform, never to the buyer as proof.
    if reason == "counterfeit_suspected":
        trace.cite("counterfeit_evidence")
        trace.note("documents_to_platform")
        return "handoff", "none", None, "counterfeit_claim", "seller_response"
    # 4. Health and safety (answered within the urgent time, see ``decide``).
    if reason == "health_safety":
        trace.cite("health_safety")
        trace.note("priority_high")
        return "handoff", "none", None, "health_safety", None
    # 5. Nothing shipped yet: cancel and refund.
    if order.status == "paid_unshipped":
        if request.request in ("refund", "return"):
            trace.cite("refund_before_delivery")
            trace.note("cancel_and_refund")
            return "approve", "none", None, None, "unshipped_refund_response"
        trace.note("change_before_shipping")
        return "handoff", "none", None, "buyer_asked", "seller_response"
    # 6. On its way: intercept or refuse delivery; nothing is posted back by the
    # buyer. Custom-made and perishable items: a person checks with the courier.
    if order.status == "shipped":
        if request.request in ("refund", "return") and order.category_class == "statutory_excluded":
            trace.cite("statutory_exclusions")
            trace.note("excluded_item_shipped")
            return "handoff", "none", None, "excluded_item", "seller_response"
        if request.request in ("refund", "return"):
            trace.cite("refund_before_delivery")
            trace.cite("transit_risk")
            trace.note("intercept_or_refuse")
            if not order.free_shipping:
                trace.note("buyer_pays_outbound")
            return "approve", "none", None, None, "seller_response"
        if reason not in QUALITY_REASONS:
            trace.note("wait_for_delivery")
            return "handoff", "none", None, "buyer_asked", "seller_response"
    if reason == "not_received":
        trace.cite("transit_risk")
        trace.note("check_with_carrier")
        return "handoff", "none", None, "delivery_dispute", "seller_response"
    # 7. Quality reasons.
    if reason in QUALITY_REASONS:
        return _quality(request, reason, order, now, zone, trace)
    # 8. No-reason return or exchange after signing.
    asked = REQUEST_OF_REMEDY.get(request.remedy or "", request.request)
    if asked in ("return", "exchange"):
        return _no_reason(request, asked, order, now, zone, trace)
    # 9. No-reason refund without sending the item back.
    trace.cite("no_reason_return")
    trace.cite("needs_return")
    trace.note("offer_return_path")
    return "decline", "none", "needs_return", None, "seller_response"


def _quality(
    request: AfterSalesRequest,
    reason: str,
    order: Order,
    now: datetime,
    zone: ZoneInfo,
    trace: _Trace,
) -> Outcome:
    trace.cite("quality_return")
    window = trace.cite("quality_window")
    if not _inside(window_end(window, order, zone), now):
        trace.note("offer_repair_or_replacement")
        return "handoff", "none", None, "beyond_quality_window", "seller_response"
    if not request.evidence:
        trace.cite("quality_evidence")
        trace.note("photos_and_waybill")
        if reason in UNBOXING_VIDEO_REASONS:
            trace.note("unboxing_video")
        return "need_evidence", "none", None, None, "seller_response"
    remedy = request.remedy if request.remedy in NAMED_REMEDIES else None
    keeps_item = request.remedy in KEEP_ITEM_REMEDIES or (
        remedy is None and request.request == "refund"
    )
    if keeps_item and order.status in SIGNED_STATUSES:
        return _keep_item(request, order, trace)
    remedy = remedy or REMEDY_OF_REQUEST.get(request.request)
    if remedy is None and reason == "missing_parts":
        remedy = "reship"  # the missing part is sent; nothing goes back
    trace.note(f"remedy_{remedy}" if remedy else "offer_return_exchange_reship")
    if remedy == "reship":
        return "approve", "none", None, None, "seller_response"
    if remedy in RETURNING_REMEDIES:
        _customs_note(order, trace)
    if trace.rules["return_address"].value == PLATFORM_PICKUP:
        # The platform collects the parcel for free (Lazada): nobody pays a return leg.
        trace.cite("return_address")
        trace.note("platform_pickup")
        return "approve", "none", None, None, "seller_response"
    return "approve", "seller", None, None, "seller_response"


def _keep_item(request: AfterSalesRequest, order: Order, trace: _Trace) -> Outcome:
    """Money back while the buyer keeps the item: at most the shop's goodwill cap.

    The cap is a compensation amount, compared with the amount the buyer asked
    for and never a refund of the whole order; anything else is for a person.
    """
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
    trace.cite("partial_refund")
    return "handoff", "none", None, "partial_refund", "seller_response"


def _no_reason(
    request: AfterSalesRequest,
    asked: str,
    order: Order,
    now: datetime,
    zone: ZoneInfo,
    trace: _Trace,
) -> Outcome:
    trace.cite("no_reason_return")
    if order.category_class == "statutory_excluded":
        trace.cite("statutory_exclusions")
        trace.note("offer_quality_route")
        return "decline", "none", "statutory_excluded", None, "seller_response"
    if order.category_class == "confirm_excluded" and order.buyer_confirmed_exclusion:
        trace.cite("confirm_exclusions")
        trace.note("offer_quality_route")
        return "decline", "none", "confirmed_excluded", None, "seller_response"
    if trace.rules["seven_day_label_required"].value:
        label = _seven_day_label(order, trace)
        if label is None:
            # Nobody checked the item page: a person looks before anyone says "no label".
            trace.cite("seven_day_label_required")
            trace.cite("missing_facts")
            trace.note("label_unknown")
            return "handoff", "none", None, "missing_facts", "seller_response"
        if not label:
            trace.cite("seven_day_label_required")
            trace.note("offer_quality_route")
            return "decline", "none", "no_seven_day_label", None, "seller_response"
    window = trace.cite("no_reason_window")
    if order.signed_at is None and order.status in SIGNED_STATUSES:
        trace.cite("missing_facts")
        trace.note("signing_time_unknown")
        return "handoff", "none", None, "missing_facts", "seller_response"
    if not _inside(window_end(window, order, zone), now):
        trace.note("offer_quality_route")
        return "decline", "none", "window_expired", None, "seller_response"
    condition = effective_condition(order, request.stated_condition)
    if condition not in INTACT_CONDITIONS:
        trace.cite("intact")
        trace.note("offer_quality_route")
        if condition != order.condition:
            trace.note("buyer_stated_condition")
        return "decline", "none", "not_intact", None, "seller_response"
    leg = trace.cite("no_reason_return_leg")
    if asked == "exchange":
        trace.note("remedy_exchange")
    if leg.value == "none":
        trace.note("platform_pickup")
        if asked == "return":
            _customs_note(order, trace)
        return "approve", "none", None, None, "seller_response"
    trace.cite_law("no_reason_shipping")
    if asked == "exchange":
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
    """Bonded and direct-mail returns: the customs conditions under which no tax is levied.

    A PRC customs rule (law): a rule set outside PRC law has no such row.
    """
    if order.fulfillment in ("bonded", "direct_mail") and trace.cite_law("customs_tax_window"):
        trace.note("customs_tax_window")
