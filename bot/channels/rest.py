"""Rasa's REST channel, with clear errors instead of a 500 or a silent empty answer.

Rasa 3.6's ``RestInput`` reads ``request.json["sender"]`` without checking
(a JSON list or a number as the body is a 500) and, when handling the message
fails (the tracker store's database or the lock store is down), logs it and
answers ``200 []``: the caller cannot tell "the bot had nothing to say" from
"your message was lost". ``RestInput`` here keeps the URL
(``/webhooks/rest/webhook``), the body and the answer of the built-in channel
and adds:

- 400 ``{"error", "message"}`` for a body that is not a JSON object, a missing
  or non-string ``sender``, a non-string ``message``;
- 503 ``{"error": "unavailable", …}`` with ``Retry-After`` when the message
  could not be handled, so the caller knows to send it again.

Registered in ``credentials.yml`` as ``bot.channels.rest.RestInput``.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

MAX_SENDER = 256
RETRY_AFTER_S = "5"


class BadMessage(ValueError):
    """A body the channel cannot read; the message says which field."""


def _body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # sanic raises on bytes that are not JSON (or not UTF-8)
        body = None
    if not isinstance(body, dict):
        raise BadMessage('the body must be a JSON object like {"sender": "…", "message": "…"}')
    return body


def parse_message(body: Dict[str, Any]) -> Dict[str, Any]:
    """The sender, text and metadata of a REST body, or ``BadMessage``."""
    sender = body.get("sender")
    if isinstance(sender, (int, float)) and not isinstance(sender, bool):
        sender = str(sender)
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER:
        raise BadMessage(f"sender must be a string of 1-{MAX_SENDER} characters")
    text = body.get("message", "")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise BadMessage("message must be a string")
    metadata = body.get("metadata")
    return {"sender": sender, "text": text, "metadata": metadata if isinstance(metadata, dict) else None}


def _error(status: int, code: str, message: str, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    return response.json({"error": code, "message": message}, status=status, headers=headers)


class RestInput(RasaRestInput):
    """``/webhooks/rest/webhook`` with 400 for bad bodies and 503 when a message is lost."""

    @classmethod
    def name(cls) -> Text:
        """Same name as the built-in channel: conversations stay ``input_channel: rest``."""
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """Health and webhook routes (no streaming: nothing here uses it)."""
        rest = Blueprint("anxin_rest_webhook", __name__)

        @rest.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @rest.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                message = parse_message(_body(request))
            except BadMessage as bad:
                return _error(400, "bad_request", str(bad))
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        message["text"], collector, message["sender"],
                        input_channel=self.name(), metadata=message["metadata"],
                    )
                )
            except Exception:
                logger.exception("REST: the message of %s could not be handled", message["sender"])
                return _error(
                    503, "unavailable",
                    "the message could not be handled (a database or the lock store is not "
                    "answering); send it again in a few seconds",
                    headers={"Retry-After": RETRY_AFTER_S},
                )
            return response.json(collector.messages)

        return rest
