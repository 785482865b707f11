"""When the action server cannot answer, the buyer still gets one polite reply.

Rasa 3.6 logs a failed custom action and goes on without its events: the buyer
who just wrote "我要退货" hears nothing (or a form's next question, out of
context), and nobody at the shop knows. With ``install()`` (called by
``python -m bot.rasa_server`` before Rasa starts), a message during which a
custom action's server was unreachable, timed out or answered 5xx ends like this:

- no further action is predicted after the failure (the turn stops there);
- the buyer gets ``utter_service_unavailable`` (domain.yml: "…请稍后再发一次…"),
  once, through the channel they wrote on;
- the turn is closed with ``action_listen`` in the tracker, so the slots and the
  active form stay as they were and the buyer's next message continues the
  conversation once the action server is back (the bot is not paused);
- a ``service_unavailable`` handoff is recorded so the conversation is in the
  agents' queue (when the database answers; otherwise it is only logged).

A rejection (HTTP 400: a form's validation) is not an outage and is left alone.
Three small wrappers around Rasa 3.6 (pinned) do it: ``RemoteAction.run``
notes the failure in a per-message context, ``MessageProcessor.
_should_handle_message`` stops the prediction loop, ``MessageProcessor.
handle_message`` sends the apology and closes the turn under the same lock.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import logging
from typing import Any, Optional

import aiohttp
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ActionExecuted, BotUttered
from rasa.shared.exceptions import RasaException

from bot.assist.labels import SERVICE_UNAVAILABLE as OUTAGE_REASON
from bot.conversation.desk import AfterSalesDesk
from bot.settings import load_settings

logger = logging.getLogger(__name__)

OUTAGE_RESPONSE = "utter_service_unavailable"
OUTAGE_ERRORS = (RasaException, asyncio.TimeoutError, aiohttp.ClientError)


@dataclasses.dataclass
class Turn:
    """What happened to the action server while one message was handled."""

    failed_action: Optional[str] = None


_turn: contextvars.ContextVar[Optional[Turn]] = contextvars.ContextVar("anxin_turn", default=None)


def _record_handoff(tracker: Any) -> None:
    """A handoff row for the agents' queue; an outage of the database too is only logged."""
    try:
        AfterSalesDesk(load_settings().database_url).hand_off(
            conversation_id=tracker.sender_id,
            reason=OUTAGE_REASON,
            decision_id=None,
            channel=tracker.get_latest_input_channel(),
            shop_id=tracker.get_slot("shop_id"),
            platform=tracker.get_slot("platform"),
        )
    except Exception:  # the database is down as well: the log is all we have
        logger.exception("could not record the outage handoff of %s", tracker.sender_id)


async def _close_turn(processor: MessageProcessor, message: UserMessage, turn: Turn) -> None:
    """Apologise once on the buyer's channel and end the turn with ``action_listen``."""
    tracker = await processor.get_tracker(message.sender_id)
    generated = await processor.nlg.generate(OUTAGE_RESPONSE, tracker, message.output_channel.name())
    events = [ActionExecuted("action_listen")]
    if generated:
        events.insert(0, BotUttered(generated.get("text"), data={}, metadata={"anxin_outage": turn.failed_action}))
        await message.output_channel.send_response(message.sender_id, generated)
    tracker.update_with_events(events, processor.domain)
    await processor.save_tracker(tracker)
    await asyncio.to_thread(_record_handoff, tracker)


def install() -> None:
    """Wrap the three Rasa methods (once; see the module docstring)."""
    if getattr(RemoteAction.run, "anxin_outage", False):
        return
    run_action = RemoteAction.run
    should_handle = MessageProcessor._should_handle_message
    handle_message = MessageProcessor.handle_message

    @functools.wraps(run_action)
    async def run(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        try:
            return await run_action(self, *args, **kwargs)
        except ActionExecutionRejection:
            raise
        except OUTAGE_ERRORS as error:
            turn = _turn.get()
            if turn is not None and turn.failed_action is None:
                turn.failed_action = self.name()
                logger.error("action server failed on %s (%s): the turn ends with %s",
                             self.name(), error, OUTAGE_RESPONSE)
            raise

    def should_handle_message(tracker: Any) -> bool:
        turn = _turn.get()
        return should_handle(tracker) and not (turn is not None and turn.failed_action)

    @functools.wraps(handle_message)
    async def handle(self: MessageProcessor, message: UserMessage) -> Any:
        turn = Turn()
        token = _turn.set(turn)
        try:
            answer = await handle_message(self, message)
        finally:
            _turn.reset(token)
        if turn.failed_action is None:
            return answer
        await _close_turn(self, message, turn)
        return getattr(message.output_channel, "messages", answer)

    run.anxin_outage = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[assignment]
    MessageProcessor._should_handle_message = staticmethod(should_handle_message)  # type: ignore[assignment]
    MessageProcessor.handle_message = handle  # type: ignore[assignment]
