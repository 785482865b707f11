"""Where the analytics read from: Rasa's tracker store and the decision and handoff logs.

Reduced on the way in to the few facts the report needs (messages with their
time, intent, platform and author; decisions; handoffs), so ``analytics`` can
compute on plain values and its tests need no Rasa objects.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
from typing import Iterable, List, Optional, Tuple

from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import select

from bot.rules import db
from bot.rules.schema import DecisionRow, HandoffRow
from bot.settings import PROJECT_ROOT

UTC = dt.timezone.utc


@dataclasses.dataclass(frozen=True)
class UserMessage:
    """A buyer message: when, the intent understood, and the platform it came from."""

    at: dt.datetime
    intent: Optional[str]
    platform: Optional[str]


@dataclasses.dataclass(frozen=True)
class BotMessage:
    """A message to the buyer; ``agent`` names the person who wrote it, None for the bot."""

    at: dt.datetime
    agent: Optional[str]


@dataclasses.dataclass(frozen=True)
class Conversation:
    """The parts of a Rasa tracker the analytics need."""

    conversation_id: str
    user_messages: Tuple[UserMessage, ...]
    bot_messages: Tuple[BotMessage, ...]

    @property
    def started_at(self) -> Optional[dt.datetime]:
        """Time of the first buyer message (None: the buyer never wrote)."""
        return self.user_messages[0].at if self.user_messages else None


@dataclasses.dataclass(frozen=True)
class Decision:
    """A row of the decision log, reduced to what the analytics use."""

    conversation_id: str
    verdict: str
    created_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Handoff:
    """A row of the handoff log, reduced to what the analytics use."""

    conversation_id: str
    reason: str
    created_at: dt.datetime
    answer_by: Optional[dt.datetime]
    resumed_at: Optional[dt.datetime]


def open_tracker_store(
    endpoints_file: pathlib.Path, tracker_db: Optional[str] = None
) -> TrackerStore:
    """The tracker store ``endpoints_file`` configures, as the Rasa server creates it.

    A relative SQLite ``db`` is taken from the project root (where ``bot.serve``
    runs Rasa), not from the current directory.

    Args:
        endpoints_file: a Rasa endpoints file with a ``tracker_store`` section.
        tracker_db: replaces the SQLite file of that section (``--tracker-db``).

    Returns:
        The store; Rasa's in-memory store when the file configures none.

    Raises:
        FileNotFoundError: the SQLite file does not exist (a report must not
            create an empty tracker database).
    """
    config = read_endpoint_config(str(endpoints_file), "tracker_store")
    if config is not None and config.kwargs.get("dialect") == "sqlite":
        path = pathlib.Path(tracker_db or config.kwargs.get("db") or "rasa.db")
        if tracker_db is None and not path.is_absolute():
            path = PROJECT_ROOT / path
        if not path.exists():
            raise FileNotFoundError(f"no tracker database at {path}")
        config.kwargs["db"] = str(path.resolve())
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    return TrackerStore.create(config, domain)


def _utc(timestamp: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(timestamp, tz=UTC)


def conversation_from_events(conversation_id: str, events: Iterable[object]) -> Conversation:
    """Reduce Rasa events to buyer and bot messages.

    The platform of a buyer message is its ``metadata.platform``, else the
    ``platform`` slot as last set, else the first platform the conversation names.
    """
    platform: Optional[str] = None
    users: List[UserMessage] = []
    bots: List[BotMessage] = []
    for event in events:
        if isinstance(event, SlotSet) and event.key == "platform" and event.value:
            platform = str(event.value)
        elif isinstance(event, UserUttered):
            metadata = event.metadata or {}
            platform = metadata.get("platform") or platform
            users.append(UserMessage(_utc(event.timestamp), event.intent_name, platform))
        elif isinstance(event, BotUttered):
            agent = (event.metadata or {}).get("anxin_agent")
            bots.append(BotMessage(_utc(event.timestamp), agent or None))
    first_platform = next((m.platform for m in users if m.platform), platform)
    users = [
        message if message.platform else dataclasses.replace(message, platform=first_platform)
        for message in users
    ]
    return Conversation(conversation_id, tuple(users), tuple(bots))


async def load_conversations(tracker_store: TrackerStore) -> List[Conversation]:
    """Every conversation of the store, all sessions, reduced to its messages."""
    conversations = []
    for conversation_id in await tracker_store.keys():
        tracker = await tracker_store.retrieve_full_tracker(conversation_id)
        if tracker is not None:
            conversations.append(conversation_from_events(conversation_id, tracker.events))
    return conversations


def load_decision_log(database_url: str) -> Tuple[List[Decision], List[Handoff]]:
    """Every decision and handoff (blocking SQL; run it in a thread from async code).

    All rows, not only the range's: whether a conversation was settled without a
    person depends on handoffs that may come after the range ends.
    """
    with db.session_scope(database_url) as session:
        decisions = [
            Decision(row.conversation_id, row.verdict, row.created_at)
            for row in session.execute(
                select(DecisionRow.conversation_id, DecisionRow.verdict, DecisionRow.created_at)
            )
        ]
        handoffs = [
            Handoff(row.conversation_id, row.reason, row.created_at, row.answer_by, row.resumed_at)
            for row in session.execute(
                select(
                    HandoffRow.conversation_id,
                    HandoffRow.reason,
                    HandoffRow.created_at,
                    HandoffRow.answer_by,
                    HandoffRow.resumed_at,
                )
            )
        ]
    return decisions, handoffs
