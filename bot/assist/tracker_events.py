"""Write to a conversation's tracker from inside the Rasa server, as its HTTP API does.

The panel runs in the Rasa server, so it uses the server's own agent: the lock
store (a buyer's message and an agent's action never interleave), the tracker
store, and the input channel the buyer last wrote from (an agent's reply goes
back to the widget or the IM platform the same way the bot's replies do).
This mirrors ``POST /conversations/<id>/tracker/events?output_channel=latest
&execute_side_effects=true`` without a round trip through HTTP and its token.
"""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from rasa.core.channels.channel import OutputChannel
from rasa.server import update_conversation_with_events
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker


class NoSuchConversation(LookupError):
    """The tracker store has no events for this conversation id."""


def output_channel_for(app: Any, tracker: DialogueStateTracker) -> Optional[OutputChannel]:
    """The output of the channel the buyer last wrote from; None when it cannot push.

    The REST channel answers only inside its own request, so it has none; the
    socket.io widget and the IM connector do.
    """
    name = tracker.get_latest_input_channel()
    for channel in getattr(app.ctx, "input_channels", None) or []:
        if channel.name() == name:
            return channel.get_output_channel()
    return None


async def retrieve(app: Any, conversation_id: str) -> DialogueStateTracker:
    """The conversation's whole tracker (every session), or ``NoSuchConversation``."""
    tracker = await app.ctx.agent.tracker_store.retrieve_full_tracker(conversation_id)
    if tracker is None or not tracker.events:
        raise NoSuchConversation(conversation_id)
    return tracker


async def append(
    app: Any, conversation_id: str, events: Sequence[Event], *, deliver: bool = False
) -> bool:
    """Append ``events`` under the conversation's lock; with ``deliver``, send bot messages.

    Returns:
        Whether the bot messages among ``events`` reached an output channel
        (always False without ``deliver``).
    """
    agent = app.ctx.agent
    events: List[Event] = list(events)
    async with agent.lock_store.lock(conversation_id):
        tracker = await update_conversation_with_events(
            conversation_id, agent.processor, agent.domain, events
        )
        output = output_channel_for(app, tracker) if deliver else None
        if output is not None:
            await agent.processor.execute_side_effects(events, tracker, output)
        await agent.tracker_store.save(tracker)
    return output is not None
