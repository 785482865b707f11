"""Rasa's socketio channel, fixed for python-socketio 5.x; the chat widget talks to it.

Rasa 3.6's ``SocketIOInput`` has two bugs with the python-socketio 5.18 we run:

1. ``session_request`` calls ``sio.enter_room(...)`` without ``await``. Since
   python-socketio 5.10 that is a coroutine, so the socket never joins the room of
   its ``session_id``: with ``session_persistence: true`` every bot reply is sent
   to an empty room and the browser gets nothing ("coroutine 'AsyncServer.enter_room'
   was never awaited" in the log).
2. ``SocketIOOutput.send_custom_json`` calls ``sio.emit(event, **json_message)``, so
   a custom payload such as ``{"handoff": true}`` raises a ``TypeError``.

``WidgetSocketIOInput`` keeps the name ``socketio`` (so ``input_channel`` and the
URL ``/socket.io`` are unchanged), the same credentials keys and events, and fixes
both. It is registered in ``credentials.yml`` instead of the built-in ``socketio``.
"""

from __future__ import annotations

import inspect
import json
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage, decode_bearer_token
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

logger = logging.getLogger(__name__)


class WidgetSocketIOOutput(SocketIOOutput):
    """Sends custom payloads as the event's data (``{"handoff": true}`` arrives as is)."""

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """Emit the custom payload to the conversation's room.

        ``{"data": {...}}`` (what the stock channel needs) is unwrapped, so actions
        written for it keep working.
        """
        payload = dict(json_message)
        room = payload.pop("room", None) or recipient_id
        if set(payload) == {"data"} and isinstance(payload["data"], dict):
            payload = payload["data"]
        await self._send_message(room, payload)


class WidgetSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with the room join awaited (see the module docstring)."""

    @classmethod
    def name(cls) -> Text:
        """Same name as the built-in channel: conversations stay ``input_channel: socketio``."""
        return "socketio"

    def get_output_channel(self) -> Optional[WidgetSocketIOOutput]:
        """An output channel for messages sent outside a request (e.g. reminders)."""
        if self.sio is None:
            return None
        return WidgetSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The built-in blueprint's handlers, with ``enter_room`` awaited."""
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        socketio_webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        @socketio_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            return bool(token and decode_bearer_token(token, self.jwt_key, self.jwt_algorithm))

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            logger.debug(f"User {sid} disconnected from socketIO endpoint.")

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict]) -> None:
            if not isinstance(data, dict):
                data = {}
            session_id = data.get("session_id")
            if not isinstance(session_id, str) or not session_id.strip() or len(session_id) > 128:
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(joined):
                    await joined
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Dict) -> None:
            if not isinstance(data, dict):
                return
            output_channel = WidgetSocketIOOutput(sio, self.bot_message_evt)
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not isinstance(sender_id, str) or not sender_id:
                    logger.warning("socket.io message without a session_id ignored")
                    return
            else:
                sender_id = sid
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            text = data.get("message", "")
            await on_new_message(
                UserMessage(
                    text if isinstance(text, str) else "",
                    output_channel,
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata if isinstance(metadata, dict) else {},
                )
            )

        return socketio_webhook
