"""The agents' queue: who needs a person, most urgent first.

Three bands, in this order (the issue's and a shop's order of pain):

1. handed off: the bot paused itself or an agent took over (open ``handoffs``
   rows); high priority (health, counterfeit, threats) first, then the
   earliest answer-by time;
2. escalation threats the bot answered itself (a ``threaten_escalation``
   message in the tracker store and no open handoff): an angry buyer is worth
   a look before they click "platform intervention";
3. requests whose seller-response timer (POLICY.md §2, the decision's
   ``deadline``) is still running or ran out less than a day ago, closest first.

An agent attending a conversation (replying or handing it back) after its
latest threat or decision drops it from bands 2 and 3. Everything comes from
the decision log, the handoff log and the tracker store; nothing is kept here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Any, Dict, Iterable, List, Optional, Tuple

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import func, select

from bot.assist.agent_desk import AgentDesk, DecisionFacts
from bot.assist.conversation_view import button_titles, buyer_text
from bot.assist.labels import REASON_WORDS, words
from bot.conversation.channel_metadata import identity

LOOKBACK = dt.timedelta(days=7)
OVERDUE_GRACE = dt.timedelta(days=1)
THREAT_INTENT = "threaten_escalation"
MAX_ITEMS = 200
BANDS = ("handed_off", "escalation", "deadline")


@dataclasses.dataclass
class QueueItem:
    """One conversation in the queue, ready for JSON."""

    conversation_id: str
    band: str
    reason: Optional[str] = None
    reason_words: Optional[str] = None
    priority: str = "normal"
    deadline: Optional[str] = None
    seconds_left: Optional[int] = None
    taken_by: Optional[str] = None
    verdict: Optional[str] = None
    channel: Optional[str] = None
    buyer_id: Optional[str] = None
    platform: Optional[str] = None
    last_message: Optional[str] = None
    last_message_at: Optional[str] = None
    paused: bool = False


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _seconds_left(deadline: Optional[dt.datetime], now: dt.datetime) -> Optional[int]:
    return int((_aware(deadline) - now).total_seconds()) if deadline else None


def _sql_store(tracker_store: Any) -> Optional[SQLTrackerStore]:
    inner = getattr(tracker_store, "_tracker_store", tracker_store)
    return inner if isinstance(inner, SQLTrackerStore) else None


def _threats_in_sql(store: SQLTrackerStore, since: dt.datetime) -> Dict[str, dt.datetime]:
    event = store.SQLEvent
    with store.session_scope() as session:
        rows = session.execute(
            select(event.sender_id, func.max(event.timestamp))
            .where(
                event.type_name == "user",
                event.intent_name == THREAT_INTENT,
                event.timestamp >= since.timestamp(),
            )
            .group_by(event.sender_id)
        ).all()
    return {sender: dt.datetime.fromtimestamp(stamp, dt.timezone.utc) for sender, stamp in rows}


async def recent_threats(tracker_store: Any, since: dt.datetime) -> Dict[str, dt.datetime]:
    """Conversations with an escalation threat since ``since``, and when the latest came.

    A SQL tracker store is asked with one query over Rasa's ``events`` table;
    other stores are read tracker by tracker.
    """
    sql = _sql_store(tracker_store)
    if sql is not None:
        return await asyncio.to_thread(_threats_in_sql, sql, since)
    threats: Dict[str, dt.datetime] = {}
    for sender in await tracker_store.keys():
        tracker = await tracker_store.retrieve(sender)
        for event in tracker.events if tracker else ():
            if (
                getattr(event, "type_name", None) == "user"
                and (event.intent or {}).get("name") == THREAT_INTENT
                and event.timestamp >= since.timestamp()
            ):
                threats[sender] = dt.datetime.fromtimestamp(event.timestamp, dt.timezone.utc)
    return threats


def _deadline(decision: DecisionFacts) -> Optional[dt.datetime]:
    return _aware(decision.deadline) if decision.deadline else None


def rank(items: Iterable[QueueItem]) -> List[QueueItem]:
    """Bands in order; high priority first among handoffs; then the least time left."""

    def key(item: QueueItem) -> Tuple[int, int, float]:
        left = item.seconds_left if item.seconds_left is not None else float("inf")
        return (BANDS.index(item.band), 0 if item.priority == "high" else 1, left)

    return sorted(items, key=key)


async def build_queue(
    desk: AgentDesk, tracker_store: Any, now: Optional[dt.datetime] = None
) -> List[QueueItem]:
    """The queue as it stands now (see the module docstring for the bands)."""
    now = now or desk.clock()
    since = now - LOOKBACK
    open_handoffs = await asyncio.to_thread(desk.open_handoffs)
    decisions = await asyncio.to_thread(desk.latest_decisions, since)
    threats = await recent_threats(tracker_store, since)
    handed_off = {handoff.conversation_id for handoff in open_handoffs}
    latest = {decision.conversation_id: decision for decision in decisions}
    candidates = [c for c in {*threats, *latest} if c not in handed_off]
    attended = await asyncio.to_thread(desk.last_attended, candidates)

    items: Dict[str, QueueItem] = {}
    for handoff in open_handoffs:
        if handoff.conversation_id in items:
            continue
        decision = latest.get(handoff.conversation_id)
        deadline = _aware(handoff.answer_by) if handoff.answer_by else (
            _deadline(decision) if decision else None
        )
        items[handoff.conversation_id] = QueueItem(
            handoff.conversation_id, "handed_off", reason=handoff.reason,
            priority=handoff.priority, deadline=deadline.isoformat() if deadline else None,
            seconds_left=_seconds_left(deadline, now), taken_by=handoff.taken_by,
            verdict=decision.verdict if decision else None, channel=handoff.channel, paused=True,
        )
    for conversation_id, threatened_at in threats.items():
        if conversation_id in items or attended.get(conversation_id, since) > threatened_at:
            continue
        decision = latest.get(conversation_id)
        deadline = _deadline(decision) if decision else None
        items[conversation_id] = QueueItem(
            conversation_id, "escalation", reason="escalation_threat",
            deadline=deadline.isoformat() if deadline else None,
            seconds_left=_seconds_left(deadline, now),
            verdict=decision.verdict if decision else None,
        )
    for conversation_id, decision in latest.items():
        deadline = _deadline(decision)
        if (
            conversation_id in items
            or deadline is None
            or deadline < now - OVERDUE_GRACE
            or attended.get(conversation_id, since) > _aware(decision.created_at)
        ):
            continue
        items[conversation_id] = QueueItem(
            conversation_id, "deadline", reason=decision.handoff_reason or decision.decline_reason,
            deadline=deadline.isoformat(), seconds_left=_seconds_left(deadline, now),
            verdict=decision.verdict,
        )
    ranked = rank(items.values())[:MAX_ITEMS]
    for item in ranked:
        item.reason_words = words(REASON_WORDS, item.reason)
    await asyncio.gather(*(_add_last_message(item, tracker_store) for item in ranked))
    return ranked


async def _add_last_message(item: QueueItem, tracker_store: Any) -> None:
    """Fill in who the buyer is, their channel and their latest message from the tracker."""
    tracker = await tracker_store.retrieve(item.conversation_id)
    if tracker is None:
        return
    item.paused = tracker.is_paused()
    item.channel = item.channel or tracker.get_latest_input_channel()
    for event in reversed(tracker.events):
        if getattr(event, "type_name", None) == "user":
            who = identity(event.metadata)
            item.buyer_id, item.platform = who.get("buyer_id"), who.get("platform")
            item.last_message = buyer_text(event, button_titles(tracker.events))[:80]
            item.last_message_at = dt.datetime.fromtimestamp(
                event.timestamp, dt.timezone.utc
            ).isoformat()
            break
