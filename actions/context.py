"""What every action needs: the desk, the latest message, the buyer, a way to speak.

Actions are thin: they read the tracker through these helpers, call
``bot.conversation`` and send ``domain.yml`` responses. Database calls run in a
worker thread so one slow query never blocks the action server's event loop.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Callable, Dict, List, Optional, Text, Tuple, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.conversation.desk import AfterSalesDesk
from bot.conversation.replies import Reply

T = TypeVar("T")
# Slot: how many times each form question was asked for the current request.
ASKED = "asked"
# A question asked this many times without an answer goes to a person next time.
ASKS_BEFORE_HANDOFF = 2


@functools.lru_cache(maxsize=1)
def desk() -> AfterSalesDesk:
    """The process-wide desk (its database engine is created once, on first use)."""
    return AfterSalesDesk()


async def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking desk call in a worker thread."""
    return await asyncio.to_thread(function, *args, **kwargs)


def latest_metadata(tracker: Tracker) -> Dict[str, Any]:
    """The channel metadata of the latest user message ({} when none or malformed)."""
    metadata = (tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def latest_intent(tracker: Tracker) -> Tuple[Optional[str], Optional[float]]:
    """The latest message's intent name and confidence."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), intent.get("confidence")


def latest_entity(tracker: Tracker, entity: str) -> Optional[str]:
    """The first value of ``entity`` in the latest message, or None."""
    return next(tracker.get_latest_entity_values(entity), None)


def buyer(tracker: Tracker) -> Dict[str, Optional[str]]:
    """buyer_id, shop_id and platform as remembered from the channel metadata."""
    return {field: tracker.get_slot(field) for field in ("buyer_id", "shop_id", "platform")}


def say(dispatcher: CollectingDispatcher, reply: Reply, **extra: Any) -> None:
    """Send a ``domain.yml`` response with its parameters."""
    dispatcher.utter_message(response=reply.response, **reply.params, **extra)


def times_asked(tracker: Tracker, slot: Text) -> int:
    """How many times this request's question for ``slot`` was asked."""
    return int((tracker.get_slot(ASKED) or {}).get(slot, 0))


def count_ask(tracker: Tracker, slot: Text) -> Dict[Text, Any]:
    """The ``asked`` slot event for one more ask of ``slot``."""
    counts = dict(tracker.get_slot(ASKED) or {})
    counts[slot] = counts.get(slot, 0) + 1
    return SlotSet(ASKED, counts)


def gives_up(tracker: Tracker, slot: Text) -> Optional[List[Dict[Text, Any]]]:
    """Events that end the form for a person, when ``slot`` was asked twice already.

    A question the buyer could not answer twice (even with buttons) is not asked a
    third time: the form ends with ``low_confidence`` and ``action_decide`` hands
    the conversation to a person (POLICY.md §3: ``low_confidence``).
    """
    if times_asked(tracker, slot) < ASKS_BEFORE_HANDOFF:
        return None
    return [SlotSet("handoff_reason", "low_confidence"), SlotSet("requested_slot", None)]
