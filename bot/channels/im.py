"""The IM connector: a signed webhook for pushes, a signed outbox for replies.

The IM platform (a Qianniu/Wangwang-style bridge) POSTs each buyer message to
``/webhooks/im/webhook``::

    {"message_id": "m-1", "buyer_id": "b1", "shop_id": "s1", "platform": "tmall",
     "text": "我要退货", "attachments": [{"type": "image", "url": "https://…"}],
     "sent_at": 1764150000}

with ``X-Signature-Timestamp: <unix seconds>`` and ``X-Signature: <hex>``, the
HMAC-SHA256 of ``"<timestamp>.<raw body>"`` keyed with ``ANXIN_IM_SECRET``.

- Unsigned, wrongly signed or stale (more than 300 s off) pushes get 401 and are
  not looked at; without a secret configured every push gets 503.
- A ``message_id`` seen before (the platform retries) gets 200 and is not
  processed again; the ids are kept in ``im_messages``, so this survives restarts.
- A bad body gets 400 naming the field.
- Otherwise the message goes to Rasa as conversation
  ``im:<platform>:<shop_id>:<buyer_id>`` with metadata
  ``{buyer_id, shop_id, platform, attachments}``; the bot's replies are written to
  the ``im_outbox`` table and the webhook answers ``{"status": "accepted"}``.

A background task of the Rasa server sends the outbox to ``ANXIN_IM_SEND_URL``
(``{"buyer_id", "shop_id", "text", "reply_to"}``, signed the same way), in order
per conversation, retrying failures with exponential backoff and never dropping
a reply. IM has no buttons: they become numbered lines, and a buyer answering
with that number presses the button.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import socket
import time
from collections import OrderedDict
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Tuple

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.conversation.channel_metadata import ID_PATTERN
from bot.rules import db
from bot.rules.schema import IMMessageRow, IMOutboxRow
from bot.rules.vocabulary import PLATFORMS
from bot.settings import Settings, load_settings
from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Signature-Timestamp"
MAX_SKEW_S = 300
PHOTO_TEXT = "[图片]"
MAX_MESSAGE_ID = 128
MAX_ATTACHMENTS = 50
MAX_BACKOFF_S = 600.0
SEND_TIMEOUT_S = 10.0
CLAIM_HOLD_S = 3 * SEND_TIMEOUT_S
PARALLEL_CONVERSATIONS = 8
BUTTON_NUMBER = re.compile(r"^[0-9０-９]{1,2}$")


# --- signing -----------------------------------------------------------------


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str, body: bytes, now: Optional[float] = None) -> Dict[str, str]:
    """The two signature headers for sending ``body`` now."""
    timestamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}


def signature_error(
    secret: str,
    timestamp: Optional[str],
    signature: Optional[str],
    body: bytes,
    now: Optional[float] = None,
) -> Optional[str]:
    """Why a push's signature is not acceptable, or None when it is.

    Args:
        secret: the shared secret.
        timestamp: the ``X-Signature-Timestamp`` header (Unix seconds), if any.
        signature: the ``X-Signature`` header (hex), if any.
        body: the raw request bytes, exactly as received.
        now: the current Unix time (tests); ``time.time()`` by default.
    """
    if not timestamp or not signature:
        return f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header"
    timestamp = timestamp.strip()
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        return f"{TIMESTAMP_HEADER} must be Unix seconds"
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > MAX_SKEW_S:
        return f"{TIMESTAMP_HEADER} is more than {MAX_SKEW_S} s away from now"
    expected = sign(secret, timestamp, body)
    # Sanic decodes non-ASCII header bytes with surrogateescape: a plain
    # .encode("utf-8") of such a signature raised (a 500 instead of a 401).
    given = signature.strip().lower().encode("utf-8", "surrogateescape")
    if not hmac.compare_digest(expected.encode("ascii"), given):
        return "signature does not match"
    return None


# --- the push ----------------------------------------------------------------


class InvalidPush(ValueError):
    """A push whose body is not what the webhook expects; ``field`` says where."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field


@dataclasses.dataclass(frozen=True)
class Push:
    """One buyer message pushed by the IM platform, checked."""

    message_id: str
    buyer_id: str
    shop_id: str
    platform: str
    text: str
    attachments: Tuple[Dict[str, str], ...]
    sent_at: Any = None

    @property
    def conversation_id(self) -> str:
        """``im:<platform>:<shop_id>:<buyer_id>``: one conversation per buyer and shop."""
        return f"im:{self.platform}:{self.shop_id}:{self.buyer_id}"

    @property
    def metadata(self) -> Dict[str, Any]:
        """The message metadata every channel passes (see ``channel_metadata``)."""
        return {
            "buyer_id": self.buyer_id,
            "shop_id": self.shop_id,
            "platform": self.platform,
            "attachments": [dict(item) for item in self.attachments],
        }


def parse_push(body: bytes) -> Push:
    """Check a push body; raises ``InvalidPush`` naming the first bad field."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: deeply nested JSON ("[[[[…") exhausts the parser's stack;
        # it is a bad body (400), not a server error.
        raise InvalidPush("body", "not a JSON object") from None
    if not isinstance(data, dict):
        raise InvalidPush("body", "not a JSON object")
    message_id = _string(data, "message_id")
    if not message_id.strip() or len(message_id) > MAX_MESSAGE_ID:
        raise InvalidPush("message_id", f"must be 1-{MAX_MESSAGE_ID} characters")
    ids = {}
    for field in ("buyer_id", "shop_id"):
        value = _string(data, field)
        if not ID_PATTERN.match(value):
            raise InvalidPush(field, "must be 1-64 characters of A-Z a-z 0-9 _ . : @ -")
        ids[field] = value
    platform = _string(data, "platform")
    if platform not in PLATFORMS:
        raise InvalidPush("platform", f"must be one of {', '.join(PLATFORMS)}")
    text = _string(data, "text")
    attachments = _attachments(data.get("attachments", []))
    if not text.strip():
        if not any(item["type"] == "image" for item in attachments):
            raise InvalidPush("text", "empty, and no image attached")
        text = PHOTO_TEXT
    sent_at = data.get("sent_at")
    if sent_at is not None and (
        isinstance(sent_at, bool) or not isinstance(sent_at, (int, float, str))
    ):
        raise InvalidPush("sent_at", "must be Unix seconds or a date string")
    return Push(message_id, ids["buyer_id"], ids["shop_id"], platform, text, attachments, sent_at)


def _string(data: Mapping[str, Any], field: str) -> str:
    if field not in data:
        raise InvalidPush(field, "missing")
    value = data[field]
    if not isinstance(value, str):
        raise InvalidPush(field, "must be a string")
    return value


def _attachments(value: Any) -> Tuple[Dict[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise InvalidPush("attachments", f"must be a list of at most {MAX_ATTACHMENTS} objects")
    items = []
    for item in value:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("type"), str)
            and isinstance(item.get("url"), str)
        ):
            raise InvalidPush("attachments", 'each must be {"type": "image", "url": "…"}')
        items.append({"type": item["type"], "url": item["url"]})
    return tuple(items)


# --- replies -----------------------------------------------------------------


def render(message: Mapping[str, Any]) -> Optional[Tuple[str, Optional[List[Dict[str, str]]]]]:
    """One collected bot message as IM text (buttons as numbered lines) and its buttons.

    Returns None for a message with nothing a buyer can read (e.g. custom JSON).
    """
    lines = []
    if message.get("text"):
        lines.append(str(message["text"]))
    buttons = [
        {"title": str(button.get("title", "")), "payload": str(button.get("payload", ""))}
        for button in (message.get("buttons") or message.get("quick_replies") or [])
        if isinstance(button, Mapping)
    ]
    lines.extend(f"{number}. {button['title']}" for number, button in enumerate(buttons, 1))
    if message.get("image"):
        lines.append(str(message["image"]))
    if not lines:
        return None
    return "\n".join(lines), (buttons or None)


def typed_text(text: str) -> str:
    """What a buyer typed, with leading slashes removed so it cannot be a Rasa command."""
    stripped = text.lstrip().lstrip("/／")
    return stripped if stripped.strip() else "／"


def backoff_s(base_s: float, attempts: int) -> float:
    """Delay before the next try after ``attempts`` failed ones: base, 2×base, 4×base … ≤ 10 min."""
    return min(base_s * 2 ** max(attempts - 1, 0), MAX_BACKOFF_S)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# --- the database (blocking; run in a thread) --------------------------------


class IMStore:
    """``im_messages`` and ``im_outbox`` of one database."""

    def __init__(self, url: str):
        self.url = url

    def remember(self, push: Push) -> bool:
        """Record the push's id; False when it was seen before (one atomic insert)."""
        try:
            with db.session_scope(self.url) as session:
                session.add(
                    IMMessageRow(
                        platform=push.platform,
                        message_id=push.message_id,
                        conversation_id=push.conversation_id,
                        received_at=_now(),
                    )
                )
        except IntegrityError:
            return False
        return True

    def forget(self, push: Push) -> None:
        """Drop the push's id again (processing failed: the platform's retry must get through)."""
        with db.session_scope(self.url) as session:
            session.execute(
                delete(IMMessageRow).where(
                    IMMessageRow.platform == push.platform,
                    IMMessageRow.message_id == push.message_id,
                )
            )

    def last_buttons(self, conversation_id: str) -> Optional[List[Dict[str, str]]]:
        """The buttons of the bot's latest answer in this conversation, if it had any."""
        with db.session_scope(self.url) as session:
            latest = session.execute(
                select(IMOutboxRow.reply_to)
                .where(IMOutboxRow.conversation_id == conversation_id)
                .order_by(IMOutboxRow.id.desc())
                .limit(1)
            ).scalar()
            if latest is None:
                return None
            buttons = session.execute(
                select(IMOutboxRow.buttons)
                .where(
                    IMOutboxRow.conversation_id == conversation_id,
                    IMOutboxRow.reply_to == latest,
                    IMOutboxRow.buttons.isnot(None),
                )
                .order_by(IMOutboxRow.id.desc())
                .limit(1)
            ).scalar()
            return buttons or None

    def enqueue(
        self, push: Push, replies: List[Tuple[str, Optional[List[Dict[str, str]]]]]
    ) -> List[int]:
        """Put the replies to ``push`` in the outbox, due now; returns their ids."""
        now = _now()
        rows = [
            IMOutboxRow(
                conversation_id=push.conversation_id,
                reply_to=push.message_id,
                buyer_id=push.buyer_id,
                shop_id=push.shop_id,
                platform=push.platform,
                text=text,
                buttons=buttons,
                created_at=now,
                attempts=0,
                next_attempt_at=now,
            )
            for text, buttons in replies
        ]
        with db.session_scope(self.url) as session:
            session.add_all(rows)
            session.flush()
            return [row.id for row in rows]

    def enqueue_unprompted(self, conversation_id: str, text: str, reply_to: str) -> int:
        """Queue a message nobody's push asked for (an agent's reply from the panel).

        The buyer, shop and platform are those of the conversation's latest
        outbox row; a conversation the bot never answered has none, and then
        they are read from the id ``im:<platform>:<shop>:<buyer>``.
        """
        with db.session_scope(self.url) as session:
            latest = session.execute(
                select(IMOutboxRow)
                .where(IMOutboxRow.conversation_id == conversation_id)
                .order_by(IMOutboxRow.id.desc())
                .limit(1)
            ).scalar()
            if latest is not None:
                buyer_id, shop_id, platform = latest.buyer_id, latest.shop_id, latest.platform
            else:
                parts = conversation_id.split(":")
                if len(parts) != 4 or parts[0] != "im":
                    raise ValueError(f"{conversation_id!r} is not an IM conversation")
                platform, shop_id, buyer_id = parts[1:]
            now = _now()
            row = IMOutboxRow(
                conversation_id=conversation_id, reply_to=reply_to, buyer_id=buyer_id,
                shop_id=shop_id, platform=platform, text=text, buttons=None,
                created_at=now, attempts=0, next_attempt_at=now,
            )
            session.add(row)
            session.flush()
            return row.id

    def undelivered(self) -> List[Dict[str, Any]]:
        """Every reply not delivered yet, oldest first."""
        with db.session_scope(self.url) as session:
            rows = session.execute(
                select(IMOutboxRow)
                .where(IMOutboxRow.delivered_at.is_(None))
                .order_by(IMOutboxRow.id)
            ).scalars()
            return [
                {
                    "id": row.id,
                    "conversation_id": row.conversation_id,
                    "reply_to": row.reply_to,
                    "buyer_id": row.buyer_id,
                    "shop_id": row.shop_id,
                    "text": row.text,
                    "attempts": row.attempts,
                    "next_attempt_at": row.next_attempt_at,
                }
                for row in rows
            ]

    def claim(self, outbox_id: int, owner: str, hold_s: float) -> bool:
        """Take the reply for sending; False when it is delivered or another sender holds it.

        One atomic UPDATE, so of several Rasa servers polling the same outbox exactly
        one sends each reply. A claim expires after ``hold_s`` (a sender that died
        mid-send does not block the conversation for ever).
        """
        now = _now()
        with db.session_scope(self.url) as session:
            result = session.execute(
                update(IMOutboxRow)
                .where(
                    IMOutboxRow.id == outbox_id,
                    IMOutboxRow.delivered_at.is_(None),
                    or_(IMOutboxRow.claimed_until.is_(None), IMOutboxRow.claimed_until < now),
                )
                .values(claimed_by=owner, claimed_until=now + timedelta(seconds=hold_s))
            )
            return result.rowcount == 1

    def delivered(self, outbox_id: int, attempts: int) -> None:
        """Mark a reply as accepted by the platform."""
        with db.session_scope(self.url) as session:
            session.execute(
                update(IMOutboxRow)
                .where(IMOutboxRow.id == outbox_id)
                .values(delivered_at=_now(), attempts=attempts, claimed_until=None)
            )

    def failed(self, outbox_id: int, attempts: int, error: str, retry_in_s: float) -> None:
        """Record a failed attempt and when to try again."""
        with db.session_scope(self.url) as session:
            session.execute(
                update(IMOutboxRow)
                .where(IMOutboxRow.id == outbox_id)
                .values(
                    attempts=attempts,
                    last_error=error[:2000],
                    next_attempt_at=_now() + timedelta(seconds=retry_in_s),
                    claimed_until=None,
                )
            )


# --- the sender --------------------------------------------------------------


class OutboxSender:
    """Sends the outbox to the IM platform: in order per conversation, retried, never dropped.

    Every Rasa server runs one; they share the outbox through the database, and
    each reply is claimed (``IMStore.claim``) before it is sent, so it is sent once.
    """

    def __init__(self, store: IMStore, settings: Settings):
        self.store = store
        self.owner = f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"
        self.secret = settings.im_secret or ""
        self.send_url = settings.im_send_url
        self.retry_base_s = settings.im_retry_base_s
        self.poll_s = min(1.0, self.retry_base_s / 2)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look at the outbox now (new replies were queued)."""
        self._wake.set()

    async def run(self) -> None:
        """Poll the outbox until cancelled; undelivered rows of earlier runs go first."""
        timeout = aiohttp.ClientTimeout(total=SEND_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            while True:
                try:
                    await self.deliver_due(http)
                except asyncio.CancelledError:
                    raise
                except Exception:  # the database was busy, …: try again next round
                    logger.exception("IM outbox: delivery round failed")
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_s)
                except asyncio.TimeoutError:
                    pass
                self._wake.clear()

    async def deliver_due(self, http: Any) -> None:
        """One round: every conversation's due replies, oldest first, stopping at a failure."""
        conversations: "OrderedDict[str, List[Dict[str, Any]]]" = OrderedDict()
        for row in await asyncio.to_thread(self.store.undelivered):
            conversations.setdefault(row["conversation_id"], []).append(row)
        limit = asyncio.Semaphore(PARALLEL_CONVERSATIONS)

        async def deliver_conversation(rows: List[Dict[str, Any]]) -> None:
            async with limit:
                for row in rows:
                    if row["next_attempt_at"] > _now():
                        return  # later replies wait for this one: keep the order
                    claimed = await asyncio.to_thread(
                        self.store.claim, row["id"], self.owner, CLAIM_HOLD_S
                    )
                    if not claimed:
                        return  # another server is sending this conversation
                    if not await self._send(http, row):
                        return

        await asyncio.gather(*(deliver_conversation(rows) for rows in conversations.values()))

    async def _send(self, http: Any, row: Dict[str, Any]) -> bool:
        payload = {
            "buyer_id": row["buyer_id"],
            "shop_id": row["shop_id"],
            "text": row["text"],
            "reply_to": row["reply_to"],
        }
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        headers.update(signed_headers(self.secret, body))
        attempts = row["attempts"] + 1
        try:
            async with http.post(self.send_url, data=body, headers=headers) as answer:
                if 200 <= answer.status < 300:
                    await asyncio.to_thread(self.store.delivered, row["id"], attempts)
                    return True
                error = f"HTTP {answer.status}: {(await answer.text())[:200]}"
        except asyncio.CancelledError:
            raise
        except Exception as problem:  # connection refused, timeout, …
            error = f"{type(problem).__name__}: {problem}"
        retry_in = backoff_s(self.retry_base_s, attempts)
        logger.warning(
            "IM outbox %s: attempt %d failed (%s); retrying in %.1f s",
            row["id"], attempts, error, retry_in,
        )
        await asyncio.to_thread(self.store.failed, row["id"], attempts, error, retry_in)
        return False


# --- messages outside a push ------------------------------------------------


class IMOutboxOutput(OutputChannel):
    """Sends a message written outside a push (an agent's reply) through the outbox."""

    REPLY_TO = "panel"

    @classmethod
    def name(cls) -> str:
        return "im"

    def __init__(self, store: IMStore, wake: Callable[[], None]):
        self.store = store
        self.wake = wake

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """Queue ``text`` for the conversation's buyer and wake the sender."""
        await asyncio.to_thread(self.store.enqueue_unprompted, recipient_id, text, self.REPLY_TO)
        self.wake()


# --- the Rasa input channel --------------------------------------------------


def _error(status: int, message: str, **extra: Any) -> HTTPResponse:
    return response.json({"error": message, **extra}, status=status)


class IMInput(InputChannel):
    """``/webhooks/im/webhook``: signed pushes in, signed replies out through the outbox."""

    @classmethod
    def name(cls) -> str:
        return "im"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "IMInput":
        # Secrets come from the environment (bot/settings.py), never credentials.yml.
        return cls(load_settings())

    def __init__(self, settings: Optional[Settings] = None):
        self.settings = settings or load_settings()
        self.store = IMStore(self.settings.database_url)
        self.sender = OutboxSender(self.store, self.settings)
        self._task: Optional[asyncio.Task] = None

    def get_output_channel(self) -> OutputChannel:
        """Where the panel sends an agent's reply to an IM buyer: the outbox."""
        return IMOutboxOutput(self.store, lambda: self.sender.wake())

    async def _start(self, _app: Any, _loop: Any) -> None:
        await asyncio.to_thread(db.migrate, self.settings.database_url)
        if not self.settings.im_secret:
            logger.warning("IM webhook: ANXIN_IM_SECRET is not set; every push gets 503")
            return
        if not self.settings.im_send_url:
            logger.warning("IM webhook: ANXIN_IM_SEND_URL is not set; replies wait in im_outbox")
            return
        self.sender = OutboxSender(self.store, self.settings)  # its Event in the server's loop
        self._task = asyncio.get_running_loop().create_task(self.sender.run())

    async def _stop(self, _app: Any, _loop: Any) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        im_webhook = Blueprint("im_webhook", __name__)
        im_webhook.listener("after_server_start")(self._start)
        im_webhook.listener("before_server_stop")(self._stop)

        @im_webhook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @im_webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self.handle(request, on_new_message)

        return im_webhook

    async def handle(
        self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> HTTPResponse:
        """Check, de-duplicate, hand to Rasa, queue the replies."""
        secret = self.settings.im_secret
        if not secret:
            return _error(503, "IM webhook is not configured (ANXIN_IM_SECRET)")
        body = request.body or b""
        problem = signature_error(
            secret,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            body,
        )
        if problem:
            return _error(401, problem)
        try:
            push = parse_push(body)
        except InvalidPush as invalid:
            return _error(400, str(invalid), field=invalid.field)
        try:
            first_time = await asyncio.to_thread(self.store.remember, push)
        except SQLAlchemyError:
            logger.exception("IM webhook: the database is not answering")
            return _error(503, "the database is not answering; retry later")
        if not first_time:
            return response.json({"status": "duplicate"})
        try:
            text = await self._pressed_button(push)
            collector = CollectingOutputChannel()
            await on_new_message(
                UserMessage(
                    text,
                    collector,
                    push.conversation_id,
                    input_channel=self.name(),
                    metadata=push.metadata,
                    message_id=push.message_id,
                )
            )
            replies = [reply for reply in map(render, collector.messages) if reply]
            if replies:
                await asyncio.to_thread(self.store.enqueue, push, replies)
                self.sender.wake()
        except Exception:
            logger.exception("IM webhook: message %s could not be handled", push.message_id)
            try:
                await asyncio.to_thread(self.store.forget, push)
            except SQLAlchemyError:  # the database is down too: the retry may be a duplicate
                logger.exception("IM webhook: could not forget message %s", push.message_id)
            return _error(500, "the message could not be handled; retry later")
        return response.json({"status": "accepted"})

    async def _pressed_button(self, push: Push) -> str:
        """The button payload when the buyer answers a numbered list with its number.

        Anything else is the buyer's text, never a command: Rasa reads a message
        starting with "/" as an intent with entities (``/restart``,
        ``/request_refund{"order_id": …}``), which only our own buttons may send,
        so leading slashes typed on IM are dropped.
        """
        text = typed_text(push.text)
        if push.attachments or not BUTTON_NUMBER.match(text.strip()):
            return text
        buttons = await asyncio.to_thread(self.store.last_buttons, push.conversation_id)
        number = int(push.text.strip())
        if buttons and 1 <= number <= len(buttons):
            return buttons[number - 1]["payload"] or push.text
        return push.text
