"""What every action needs: the desk, the latest message, the buyer, a way to speak.

Actions are thin: they read the tracker through these helpers, call
``bot.conversation`` and send ``domain.yml`` responses. Database calls run in a
worker thread so one slow query never blocks the action server's event loop.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Callable, Dict, Optional, Tuple, TypeVar

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.conversation.desk import AfterSalesDesk
from bot.conversation.replies import Reply

REQUEST_INTENTS = {
    "request_refund": "refund",
    "request_return": "return",
    "request_exchange": "exchange",
    "complain_quality": "quality_complaint",
}
T = TypeVar("T")


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
