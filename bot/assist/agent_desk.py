"""What the agent panel reads from and writes to the database, in one small class.

The panel's routes say "who is waiting", "what did the bot decide here", "I take
this one", "record what I did with the suggestion"; this class opens a session,
runs the query and returns plain values. Blocking: the panel calls it in a thread.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Callable, Dict, List, Optional

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.conversation import handoffs
from bot.conversation.desk import AfterSalesDesk, OrderView, utc_now
from bot.rules.db import session_scope
from bot.rules.model import RuleSet
from bot.rules.schema import AgentReplyRow, DecisionRow, HandoffRow, OrderRow

TAKEOVER_REASON = "agent_takeover"
CHOICES = ("accepted", "edited", "rejected")


@dataclasses.dataclass(frozen=True)
class DecisionFacts:
    """A logged decision with what the panel shows about it."""

    decision_id: int
    conversation_id: str
    created_at: dt.datetime
    verdict: str
    shipping_payer: str
    decline_reason: Optional[str]
    handoff_reason: Optional[str]
    rule_ids: List[str]
    notes: List[str]
    deadline: Optional[dt.datetime]
    request: Dict[str, Any]
    order_id: Optional[str]
    message: Optional[str]
    intent: Optional[str]
    confidence: Optional[float]


@dataclasses.dataclass(frozen=True)
class HandoffFacts:
    """An open handoff: why, how urgent, by when, and which agent has it."""

    handoff_id: int
    conversation_id: str
    reason: str
    priority: str
    created_at: dt.datetime
    answer_by: Optional[dt.datetime]
    channel: Optional[str]
    decision_id: Optional[int]
    taken_by: Optional[str]


def _decision(row: DecisionRow) -> DecisionFacts:
    return DecisionFacts(
        row.id, row.conversation_id, row.created_at, row.verdict, row.shipping_payer,
        row.decline_reason, row.handoff_reason, list(row.rule_ids or ()), list(row.notes or ()),
        row.deadline, dict(row.request or {}), row.order_id, row.message, row.intent, row.confidence,
    )


def _handoff(row: HandoffRow) -> HandoffFacts:
    return HandoffFacts(
        row.id, row.conversation_id, row.reason, row.priority, row.created_at, row.answer_by,
        row.channel, row.decision_id, row.taken_by,
    )


def _open_row(session: Session, conversation_id: str) -> Optional[HandoffRow]:
    return session.execute(
        select(HandoffRow)
        .where(HandoffRow.conversation_id == conversation_id, HandoffRow.resumed_at.is_(None))
        .order_by(HandoffRow.id.desc())
        .limit(1)
    ).scalar()


class AgentDesk:
    """Handoffs, decisions and the agents' choices for the panel.

    Args:
        url: database URL of the rule base and decision log.
        clock: returns the current aware time (tests pass a fixed one).
    """

    def __init__(self, url: str, clock: Callable[[], dt.datetime] = utc_now) -> None:
        self.url = url
        self.clock = clock
        self.after_sales = AfterSalesDesk(url, clock)

    # Reading ----------------------------------------------------------------

    def open_handoffs(self) -> List[HandoffFacts]:
        """Every open handoff, high priority first, then oldest first."""
        with session_scope(self.url) as session:
            return [_handoff(row) for row in handoffs.open_handoffs(session)]

    def open_handoff(self, conversation_id: str) -> Optional[HandoffFacts]:
        """The conversation's open handoff, if a person has it."""
        with session_scope(self.url) as session:
            row = _open_row(session, conversation_id)
            return _handoff(row) if row is not None else None

    def latest_decisions(self, since: dt.datetime) -> List[DecisionFacts]:
        """Each conversation's latest decision taken since ``since``."""
        with session_scope(self.url) as session:
            latest = (
                select(func.max(DecisionRow.id))
                .where(DecisionRow.created_at >= since)
                .group_by(DecisionRow.conversation_id)
            )
            rows = session.execute(select(DecisionRow).where(DecisionRow.id.in_(latest))).scalars()
            return [_decision(row) for row in rows]

    def latest_decision(self, conversation_id: str) -> Optional[DecisionFacts]:
        """The conversation's latest decision, if the bot took one."""
        with session_scope(self.url) as session:
            row = session.execute(
                select(DecisionRow)
                .where(DecisionRow.conversation_id == conversation_id)
                .order_by(DecisionRow.id.desc())
                .limit(1)
            ).scalar()
            return _decision(row) if row is not None else None

    def last_attended(self, conversation_ids: List[str]) -> Dict[str, dt.datetime]:
        """When an agent last handed each conversation back or replied in it."""
        if not conversation_ids:
            return {}
        with session_scope(self.url) as session:
            handed_back = session.execute(
                select(HandoffRow.conversation_id, func.max(HandoffRow.resumed_at))
                .where(HandoffRow.conversation_id.in_(conversation_ids), HandoffRow.resumed_at.isnot(None))
                .group_by(HandoffRow.conversation_id)
            ).all()
            replied = session.execute(
                select(AgentReplyRow.conversation_id, func.max(AgentReplyRow.created_at))
                .where(AgentReplyRow.conversation_id.in_(conversation_ids), AgentReplyRow.text.isnot(None))
                .group_by(AgentReplyRow.conversation_id)
            ).all()
        attended: Dict[str, dt.datetime] = {}
        for conversation_id, moment in [*handed_back, *replied]:
            moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
            if conversation_id not in attended or moment > attended[conversation_id]:
                attended[conversation_id] = moment
        return attended

    def order(self, order_id: Optional[str], buyer_id: Optional[str]) -> Optional[OrderView]:
        """The buyer's order (None for another buyer's or an unknown number)."""
        return self.after_sales.find_order(order_id, buyer_id) if order_id else None

    def shop_of_order(self, order_id: Optional[str]) -> Optional[str]:
        """The shop an order was bought in."""
        if not order_id:
            return None
        with session_scope(self.url) as session:
            row = session.get(OrderRow, order_id)
            return row.shop_id if row is not None else None

    def rules(self, shop_id: Optional[str], platform: Optional[str]) -> RuleSet:
        """The rule set a conversation's decisions use."""
        return self.after_sales.rules_for(shop_id, platform)

    # Writing ----------------------------------------------------------------

    def take_over(self, conversation_id: str, agent: str, channel: Optional[str]) -> HandoffFacts:
        """Claim the open handoff, or open one (``agent_takeover``) when the bot had it."""
        now = self.clock()
        with session_scope(self.url) as session:
            row = _open_row(session, conversation_id)
            if row is None:
                decision = session.execute(
                    select(DecisionRow.id)
                    .where(DecisionRow.conversation_id == conversation_id)
                    .order_by(DecisionRow.id.desc())
                    .limit(1)
                ).scalar()
                row = handoffs.record(
                    session, conversation_id=conversation_id, reason=TAKEOVER_REASON,
                    decision_id=decision, channel=channel, now=now, answer_by=None,
                )
            row.taken_by, row.taken_at = agent, now
            session.flush()
            return _handoff(row)

    def hand_back(self, conversation_id: str, agent: str) -> int:
        """Close the conversation's open handoffs; returns how many."""
        return self.after_sales.resume(conversation_id, agent)

    def record_choice(
        self,
        conversation_id: str,
        *,
        agent: str,
        choice: str,
        suggestion: Optional[str],
        text: Optional[str],
        decision_id: Optional[int],
        channel: Optional[str],
    ) -> int:
        """Log what the agent did with the suggestion; returns the row id."""
        if choice not in CHOICES:
            raise ValueError(f"choice must be one of {', '.join(CHOICES)}")
        with session_scope(self.url) as session:
            row = AgentReplyRow(
                conversation_id=conversation_id, agent=agent, choice=choice,
                suggestion=suggestion, text=text, decision_id=decision_id,
                channel=channel, created_at=self.clock(),
            )
            session.add(row)
            session.flush()
            return row.id

    def choices(self, conversation_id: str) -> List[Dict[str, Any]]:
        """The agents' choices in a conversation, oldest first."""
        with session_scope(self.url) as session:
            rows = session.execute(
                select(AgentReplyRow)
                .where(AgentReplyRow.conversation_id == conversation_id)
                .order_by(AgentReplyRow.id)
            ).scalars()
            return [
                {"agent": row.agent, "choice": row.choice, "text": row.text,
                 "created_at": row.created_at.isoformat()}
                for row in rows
            ]
