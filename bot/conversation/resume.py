"""Hand a paused conversation back to the bot.

Two things must agree: Rasa's tracker (a ``resume`` event, so the bot answers
again, then ``action_listen``, so the next message is read as a fresh turn
rather than as part of the paused one) and the handoff log (the row is closed, so the agents' queue drops it).
The panel and the IM connector call ``resume_conversation``; the command line
(``python -m bot.conversation resume ID``) does the same for an agent at a
terminal.
"""

from __future__ import annotations

import dataclasses
from typing import Optional
from urllib.parse import quote

import requests

from bot.conversation.desk import AfterSalesDesk
from bot.settings import Settings

TIMEOUT_S = 10
# What handing back appends to the tracker, for the HTTP API and the panel alike.
RESUME_EVENTS = ({"event": "resume"}, {"event": "action", "name": "action_listen"})


class ResumeError(RuntimeError):
    """The Rasa server refused or could not be reached."""


@dataclasses.dataclass(frozen=True)
class Resumed:
    """What a hand-back changed."""

    conversation_id: str
    handoffs_closed: int


def resume_conversation(
    conversation_id: str, *, agent: str, settings: Settings, desk: Optional[AfterSalesDesk] = None
) -> Resumed:
    """Append ``resume`` to the conversation's tracker, then close its handoffs.

    Args:
        conversation_id: the Rasa sender id.
        agent: who hands it back (recorded on the handoff row).
        settings: where the Rasa API is and its token.
        desk: the desk to close handoffs with (one on ``settings.database_url``
            when omitted).

    Returns:
        How many open handoffs were closed.

    Raises:
        ResumeError: Rasa did not accept the event; the handoff stays open.
    """
    url = f"{settings.rasa_url}/conversations/{quote(conversation_id, safe='')}/tracker/events"
    try:
        response = requests.post(
            url,
            params={"token": settings.api_token},
            json=list(RESUME_EVENTS),
            timeout=TIMEOUT_S,
        )
    except requests.RequestException as error:
        raise ResumeError(f"cannot reach the Rasa server at {settings.rasa_url}: {error}") from None
    if response.status_code != 200:
        raise ResumeError(
            f"Rasa refused to resume {conversation_id!r}: HTTP {response.status_code} "
            f"{response.text[:200]}"
        )
    desk = desk or AfterSalesDesk(settings.database_url)
    return Resumed(conversation_id, desk.resume(conversation_id, agent))
