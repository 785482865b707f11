"""The after-sales desk: everything the actions ask of the database, in one small class.

An action says "find this buyer's order", "decide and log this request", "hand
this conversation to a person"; the desk opens a session, calls ``bot.rules``
and returns plain values. The clock is injected, so tests fix "now" while the
running bot always decides with the real current time (a buyer cannot move a
deadline by sending a different time).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Callable, Dict, List, Optional, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.conversation import handoffs
from bot.conversation.turn import reason_for_order, request_for_order
from bot.rules import repository
from bot.rules.db import session_scope
from bot.rules.decide import add_timer, decide
from bot.rules.model import AfterSalesRequest, Decision, Order, RuleSet
from bot.rules.rulesets import UnknownShopError, ruleset_for_shop, rulesets
from bot.rules.schema import DecisionRow, OrderRow, Shop
from bot.rules.vocabulary import URGENT_HANDOFF_REASONS

DEFAULT_PLATFORM = "tmall"
RECENT_DAYS = 60
# How far back a buyer's words may reach ("9月份买的羽绒服" is older than the recent list).
HISTORY_DAYS = 365


def utc_now() -> dt.datetime:
    """The current time, aware, in UTC (the desks' default clock)."""
    return dt.datetime.now(dt.timezone.utc)


@dataclasses.dataclass(frozen=True)
class OrderView:
    """An order as ``decide`` sees it, with the shop it was bought in."""

    order: Order
    shop_id: str
    shop_name: str
    platform: str
    return_address: Optional[str]
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Outcome:
    """One decision taken in a conversation, ready to be put into words."""

    decision: Decision
    request: AfterSalesRequest
    order: Optional[OrderView]
    rules: RuleSet
    decision_id: int
    now: dt.datetime
    repeated: bool = False  # the same answer as the conversation's last decision


@dataclasses.dataclass(frozen=True)
class Handoff:
    """A conversation passed to a person, and when the buyer will hear from them."""

    handoff_id: int
    reason: str
    priority: str
    answer_by: dt.datetime


class AfterSalesDesk:
    """Orders, rules, decisions and handoffs for the conversation actions.

    Args:
        url: database URL; ``DATABASE_URL`` from the settings when omitted.
        clock: returns the current aware time (tests pass a fixed one).
    """

    def __init__(
        self, url: Optional[str] = None, clock: Callable[[], dt.datetime] = utc_now
    ) -> None:
        self.url = url
        self.clock = clock

    # Orders -----------------------------------------------------------------

    def find_order(self, order_id: str, buyer_id: Optional[str]) -> Optional[OrderView]:
        """The order, or None when unknown or not this buyer's.

        Without a buyer id (a local REST test without metadata) the number alone
        identifies the order; every public channel sends the buyer id.
        """
        with session_scope(self.url) as session:
            row = session.get(OrderRow, str(order_id).strip())
            if row is None or (buyer_id is not None and row.buyer_id != buyer_id):
                return None
            return self._view(session, row)

    def recent_orders(
        self, buyer_id: str, shop_id: Optional[str], days: int = RECENT_DAYS
    ) -> List[OrderView]:
        """The buyer's orders of the last ``days`` days (60) in this shop, newest first."""
        with session_scope(self.url) as session:
            models = repository.recent_orders(
                session, buyer_id=buyer_id, shop_id=shop_id, now=self.clock(), days=days
            )
            return [self._view(session, session.get(OrderRow, m.order_id)) for m in models]

    @staticmethod
    def _view(session: Session, row: OrderRow) -> OrderView:
        shop = session.get(Shop, row.shop_id)
        return OrderView(
            order=repository.as_model(row),
            shop_id=row.shop_id,
            shop_name=shop.name if shop else row.shop_id,
            platform=row.platform,
            return_address=shop.return_address if shop else None,
            created_at=row.created_at,
        )

    # Rules ------------------------------------------------------------------

    def rules_for(self, shop_id: Optional[str], platform: Optional[str]) -> RuleSet:
        """The shop's rule set, else the platform's, else the default platform's."""
        with session_scope(self.url) as session:
            return self._rules(session, shop_id, platform)

    @staticmethod
    def _rules(session: Session, shop_id: Optional[str], platform: Optional[str]) -> RuleSet:
        if shop_id:
            try:
                return ruleset_for_shop(session, shop_id)
            except UnknownShopError:
                pass
        by_platform = rulesets(session)
        if not by_platform:
            raise LookupError("the rule base is empty: run `python -m bot.rules load`")
        return by_platform.get(platform or DEFAULT_PLATFORM) or by_platform[DEFAULT_PLATFORM]

    def shop_name(self, shop_id: Optional[str]) -> Optional[str]:
        """The shop's display name, or None for an unknown shop."""
        if not shop_id:
            return None
        with session_scope(self.url) as session:
            shop = session.get(Shop, shop_id)
            return shop.name if shop else None

    def reason_matters(self, request_type: str, view: Optional[OrderView]) -> bool:
        """Whether the buyer's reason could change the answer for this order.

        The bot asks "why?" only when it must: a refund on an unshipped order is
        approved whatever the reason, while a return after signing differs in
        who pays the postage. The check asks ``decide`` itself, once as a change
        of mind and once as a documented defect, so it can never drift from the
        policy.
        """
        if view is None:
            return False
        rules = self.rules_for(view.shop_id, view.platform)
        now = self.clock()
        outcomes = set()
        for reason, evidence in (("no_reason", ()), ("quality", ("photo",))):
            request = AfterSalesRequest(
                platform=view.platform, request=request_type, reason=reason, evidence=evidence
            )
            decision = decide(request, view.order, rules, now)
            outcomes.add(
                (decision.verdict, decision.shipping_payer, decision.decline_reason,
                 decision.handoff_reason)
            )
        return len(outcomes) > 1

    # Decisions --------------------------------------------------------------

    def decide(
        self,
        *,
        conversation_id: str,
        message: Optional[str],
        intent: Optional[str],
        confidence: Optional[float],
        request_type: str,
        reason: str,
        order_id: Optional[str],
        buyer_id: Optional[str],
        shop_id: Optional[str],
        platform: Optional[str],
        evidence: Sequence[Any] = (),
        escalation: bool = False,
        stated_condition: Optional[str] = None,
        remedy: Optional[str] = None,
        requested_amount: Optional[float] = None,
        previous_id: Optional[int] = None,
    ) -> Outcome:
        """Decide the request with the current time and append it to the decision log.

        When the answer is the same as the decision ``previous_id`` (same order,
        request, reason and amount, same verdict, rules and notes), the
        earlier decision stands: nothing is logged and its stored deadline is kept
        (POLICY.md §4: one decision, one set of dates).

        Args:
            conversation_id: the Rasa sender id.
            message: the buyer's message that completed the request.
            intent: its intent name.
            confidence: its intent confidence.
            request_type: POLICY.md ``request``.
            reason: POLICY.md ``reason``.
            order_id: the order number, or None when none was given.
            buyer_id: the buyer (from the channel), or None.
            shop_id: the shop the buyer is talking to, or None.
            platform: the channel's platform, used when the order is unknown.
            evidence: image and video URLs the buyer sent.
            escalation: the buyer threatened a complaint or intervention.
            stated_condition: what the buyer said of the item (POLICY condition).
            remedy: the remedy the buyer named (``vocabulary.REMEDIES``).
            requested_amount: the compensation asked for.
            previous_id: the conversation's last decision, if any.

        Returns:
            The decision with its log id, the order and the rules it used
            (``repeated`` when the earlier decision stands).
        """
        now = self.clock()
        with session_scope(self.url) as session:
            row = session.get(OrderRow, str(order_id).strip()) if order_id else None
            if row is not None and buyer_id is not None and row.buyer_id != buyer_id:
                row = None
            view = self._view(session, row) if row is not None else None
            status = view.order.status if view else None
            rules = self._rules(
                session,
                view.shop_id if view else shop_id,
                view.platform if view else platform,
            )
            request = AfterSalesRequest(
                platform=rules.platform,
                request=request_for_order(request_type, remedy, status, reason),
                reason=reason_for_order(reason, status),
                evidence=tuple(evidence),
                escalation=escalation,
                stated_condition=stated_condition,
                remedy=remedy,
                requested_amount=requested_amount,
            )
            decision = decide(request, view.order if view else None, rules, now)
            earlier = session.get(DecisionRow, previous_id) if previous_id else None
            if earlier is not None and _same(earlier, request, view.order.order_id if view else None, decision):
                stored = _stored_decision(earlier)
                return Outcome(stored, request, view, rules, earlier.id, now, repeated=True)
            decision_id = repository.log_decision(
                session,
                conversation_id=conversation_id,
                message=message,
                intent=intent,
                confidence=confidence,
                request={**dataclasses.asdict(request), "order_id": order_id},
                order_id=view.order.order_id if view else None,
                decision=decision,
                now=now,
            )
        return Outcome(decision, request, view, rules, decision_id, now)

    def recall(self, decision_id: Optional[int]) -> Optional[Outcome]:
        """A logged decision as it was taken (its order, rules and stored deadline)."""
        if not decision_id:
            return None
        with session_scope(self.url) as session:
            row = session.get(DecisionRow, int(decision_id))
            if row is None:
                return None
            order = session.get(OrderRow, row.order_id) if row.order_id else None
            view = self._view(session, order) if order is not None else None
            stored = dict(row.request or {})
            rules = self._rules(session, view.shop_id if view else None,
                                view.platform if view else stored.get("platform"))
            request = AfterSalesRequest(
                platform=stored.get("platform") or rules.platform,
                request=stored.get("request") or "return",
                reason=stored.get("reason") or "no_reason",
                evidence=tuple(stored.get("evidence") or ()),
                escalation=bool(stored.get("escalation")),
                stated_condition=stored.get("stated_condition"),
                remedy=stored.get("remedy"),
                requested_amount=stored.get("requested_amount"),
            )
            return Outcome(_stored_decision(row), request, view, rules, row.id, row.created_at,
                           repeated=True)

    # Handoffs ---------------------------------------------------------------

    def hand_off(
        self,
        *,
        conversation_id: str,
        reason: str,
        decision_id: Optional[int],
        channel: Optional[str],
        shop_id: Optional[str],
        platform: Optional[str],
    ) -> Handoff:
        """Record that a person takes over, and by when they answer.

        The answer-by time is the decision's own deadline when the handoff comes
        from a decision (one decision, one set of dates: health, safety and threats
        carry the shop's ``urgent_response``, POLICY.md section 2); without one it
        is counted from now, by the urgent timer for an urgent reason, else by the
        seller-response timer the platform holds the shop to. A decision taken
        under a threat (note ``deescalate``) makes the handoff urgent whatever its
        reason.
        """
        now = self.clock()
        with session_scope(self.url) as session:
            decision = session.get(DecisionRow, decision_id) if decision_id else None
            rules = self._rules(session, shop_id, platform)
            threat = decision is not None and "deescalate" in (decision.notes or ())
            answer_by = promised_answer(
                rules,
                now,
                urgent=threat or reason in URGENT_HANDOFF_REASONS,
                deadline=decision.deadline if decision is not None else None,
            )
            row = handoffs.record(
                session,
                conversation_id=conversation_id,
                reason=reason,
                decision_id=decision_id,
                channel=channel,
                now=now,
                answer_by=answer_by,
                urgent=threat,
            )
            return Handoff(row.id, row.reason, row.priority, answer_by)

    def resume(self, conversation_id: str, agent: str) -> int:
        """Close the conversation's open handoffs; returns how many were open."""
        with session_scope(self.url) as session:
            return handoffs.close(
                session, conversation_id=conversation_id, agent=agent, now=self.clock()
            )

    def decisions(self, conversation_id: str) -> List[Dict[str, Any]]:
        """The conversation's decision log, oldest first."""
        with session_scope(self.url) as session:
            return repository.decisions_for(session, conversation_id=conversation_id)


# What makes two requests the same one, beside an identical outcome: a remedy or a
# condition said again in other words that changes nothing is no new decision.
SAME_REQUEST_FIELDS = ("request", "reason", "requested_amount")


def _stored_decision(row: DecisionRow) -> Decision:
    return Decision(
        verdict=row.verdict,
        shipping_payer=row.shipping_payer,
        decline_reason=row.decline_reason,
        handoff_reason=row.handoff_reason,
        rule_ids=tuple(row.rule_ids or ()),
        deadline=row.deadline,
        notes=tuple(row.notes or ()),
    )


def _same(row: DecisionRow, request: AfterSalesRequest, order_id: Optional[str], decision: Decision) -> bool:
    """Whether a new decision only repeats a logged one (the deadline aside)."""
    stored = row.request or {}
    asked = dataclasses.asdict(request)
    return (
        row.order_id == order_id
        and all(stored.get(field) == asked[field] for field in SAME_REQUEST_FIELDS)
        and dataclasses.replace(_stored_decision(row), deadline=None)
        == dataclasses.replace(decision, deadline=None)
    )


def promised_answer(
    rules: RuleSet, now: dt.datetime, *, urgent: bool, deadline: Optional[dt.datetime]
) -> dt.datetime:
    """When a person answers a handed-off buyer.

    Args:
        rules: the shop's rule set.
        now: the time of the handoff.
        urgent: a health, safety or threat handoff (``urgent_response``, never the
            24-48 h seller timer).
        deadline: the deadline of the decision behind the handoff, if any: it was
            computed once and is quoted the same way afterwards.
    """
    if deadline is not None:
        return deadline
    return add_timer(now, rules["urgent_response" if urgent else "seller_response"], timezone_of(rules))


def timezone_of(rules: RuleSet) -> ZoneInfo:
    """The rule set's platform time zone (dates in replies are local)."""
    return ZoneInfo(str(rules["timezone"].value))
