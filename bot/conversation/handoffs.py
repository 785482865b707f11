"""The handoff log: which conversations a person owns, why, and since when.

Rasa's tracker knows a conversation is paused; it does not know why or by when
the buyer was promised an answer. The agents' queue reads these rows (open ones
first by priority), so the reason is stored once, here, when the bot steps back.
"""

from __future__ import annotations

import datetime as dt
from typing import List, Optional

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.rules.schema import HandoffRow

# Reasons a person must look at before anything else (POLICY.md §3 step 4 and
# the escalation rule): the buyer may be hurt, or about to call in the platform.
HIGH_PRIORITY_REASONS = ("health_safety", "escalation_threat", "counterfeit_claim")


def record(
    session: Session,
    *,
    conversation_id: str,
    reason: str,
    decision_id: Optional[int],
    channel: Optional[str],
    now: dt.datetime,
    answer_by: Optional[dt.datetime],
    urgent: bool = False,
) -> HandoffRow:
    """Append an open handoff (not committed here).

    Args:
        session: an open session.
        conversation_id: the Rasa sender id.
        reason: POLICY.md handoff reason.
        decision_id: the decision that led to it, if any.
        channel: the input channel the buyer used (to answer on the same one).
        now: aware time of the handoff.
        answer_by: when the buyer was told a person will answer.
        urgent: high priority whatever the reason (the buyer threatened to
            escalate a request that was already going to a person).

    Returns:
        The new row, flushed (its id is set).
    """
    row = HandoffRow(
        conversation_id=conversation_id,
        reason=reason,
        priority="high" if urgent or reason in HIGH_PRIORITY_REASONS else "normal",
        decision_id=decision_id,
        channel=channel,
        created_at=now,
        answer_by=answer_by,
    )
    session.add(row)
    session.flush()
    return row


def close(session: Session, *, conversation_id: str, agent: str, now: dt.datetime) -> int:
    """Mark the conversation's open handoffs as handed back; returns how many."""
    result = session.execute(
        update(HandoffRow)
        .where(HandoffRow.conversation_id == conversation_id, HandoffRow.resumed_at.is_(None))
        .values(resumed_at=now, resumed_by=agent)
    )
    return result.rowcount or 0


def open_handoffs(session: Session) -> List[HandoffRow]:
    """Open handoffs, high priority first, then oldest first."""
    query = (
        select(HandoffRow)
        .where(HandoffRow.resumed_at.is_(None))
        .order_by((HandoffRow.priority == "high").desc(), HandoffRow.created_at, HandoffRow.id)
    )
    return list(session.execute(query).scalars())
