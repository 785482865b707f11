"""The agent-assist panel, served by the Rasa server at ``/webhooks/assist/``.

Registered in ``credentials.yml`` as ``bot.assist.panel.AssistPanelInput``. It
is an input channel only to be mounted in the running bot: it never calls
``on_new_message``; it reads the server's tracker store and writes events under
the server's lock store (``tracker_events``), so a buyer message and an agent
action on the same conversation never interleave.

Pages: ``GET /`` (queue + conversation; the login form, with status 401, until
logged in), ``POST /login``, ``POST /logout``, ``GET /analytics``.
API (JSON): ``GET /api/queue``, ``GET /api/conversation?id=``,
``POST /api/takeover|handback|reply|reject`` with ``{"conversation_id", …}``.
Every route but the login form's POST needs the panel token (``auth``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import html
import json
import logging
import pathlib
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, ConversationPaused, Event
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.assist import auth, conversation_view, tracker_events
from bot.assist.agent_desk import AgentDesk
from bot.assist.analytics_page import analytics_page
from bot.assist.suggestions import suggest
from bot.assist.work_queue import build_queue
from bot.conversation.resume import RESUME_EVENTS
from bot.rules import db
from bot.settings import Settings, load_settings

logger = logging.getLogger(__name__)

STATIC_DIR = pathlib.Path(__file__).resolve().parent / "static"
PREFIX = "/webhooks/assist/"
MAX_REPLY = 2000
AGENT_KEY = conversation_view.AGENT_KEY
ASSETS = {"panel.js": "application/javascript", "panel.css": "text/css"}


def _json(body: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    """JSON with readable Chinese, never cached (it is a live view)."""
    return response.json(
        body, status=status, headers={"Cache-Control": "no-store", **(headers or {})},
        dumps=functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"), default=str),
    )


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return _json({"error": code, "message": message}, status=status)


def _login_page(status: int, problem: str = "") -> HTTPResponse:
    page = (STATIC_DIR / "login.html").read_text(encoding="utf-8")
    notice = f'<p class="error" role="alert">{html.escape(problem)}</p>' if problem else ""
    return response.html(
        page.replace("<!--notice-->", notice), status=status,
        headers={"Cache-Control": "no-store", "WWW-Authenticate": 'Bearer realm="anxin-panel"'},
    )


class BadRequest(ValueError):
    """A panel request with a missing or wrong field; the message is shown to the agent."""


def _conversation_id(request: Request) -> str:
    """``?id=`` of a GET, ``conversation_id`` of a POST's JSON body."""
    value = request.args.get("id") if request.method == "GET" else _body(request).get("conversation_id")
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise BadRequest("conversation_id 必须是 1-256 个字符的会话编号")
    return value


def _body(request: Request) -> Dict[str, Any]:
    try:
        body = request.json
    except Exception:  # sanic raises on a body that is not JSON
        body = None
    if not isinstance(body, dict):
        raise BadRequest("请求体必须是 JSON 对象")
    return body


class AssistPanelInput(InputChannel):
    """The agents' panel: queue, conversation view, take over / hand back, replies."""

    @classmethod
    def name(cls) -> Text:
        """The URL prefix: /webhooks/assist/."""
        return "assist"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """The token and database come from the environment (``bot/settings.py``)."""
        return cls(load_settings())

    def __init__(self, settings: Optional[Settings] = None) -> None:
        self.settings = settings or load_settings()
        self.desk = AgentDesk(self.settings.database_url)

    # ------------------------------------------------------------------ helpers

    def _agent(self, request: Request) -> str:
        return auth.authenticate(
            self.settings.panel_token,
            query=request.args,
            cookies=request.cookies,
            authorization=request.headers.get("Authorization"),
            agent_header=request.headers.get("X-Anxin-Agent"),
        )

    def _api(self, handler: Callable[..., Awaitable[HTTPResponse]]) -> Callable[..., Awaitable[HTTPResponse]]:
        """Authenticate, then run ``handler(request, agent)``; errors become JSON, never a 500 page."""

        @functools.wraps(handler)
        async def wrapped(request: Request) -> HTTPResponse:
            try:
                agent = self._agent(request)
            except auth.NotAuthenticated as refused:
                return _json(
                    {"error": "unauthorized", "message": str(refused)}, status=401,
                    headers={"WWW-Authenticate": 'Bearer realm="anxin-panel"'},
                )
            try:
                return await handler(request, agent)
            except BadRequest as bad:
                return _error(400, "bad_request", str(bad))
            except tracker_events.NoSuchConversation as missing:
                return _error(404, "not_found", f"没有这个会话：{missing}")
            except Exception:
                logger.exception("assist panel: %s failed", request.path)
                return _error(503, "unavailable", "操作没有完成（数据库或对话服务暂时不可用），请稍后重试")

        return wrapped

    # ------------------------------------------------------------------ routes

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The routes listed in the module docstring."""
        panel = Blueprint("assist_panel", __name__)
        panel.listener("after_server_start")(self._migrate)

        @panel.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            try:
                self._agent(request)
            except auth.NotAuthenticated as refused:
                return _login_page(401, "" if not request.args else str(refused))
            return await response.file(
                STATIC_DIR / "panel.html", mime_type="text/html; charset=utf-8",
                headers={"Cache-Control": "no-store"},
            )

        @panel.route("/<asset:(panel\\.js|panel\\.css)>", methods=["GET"])
        async def asset(request: Request, asset: str) -> HTTPResponse:
            try:
                self._agent(request)
            except auth.NotAuthenticated as refused:
                return _error(401, "unauthorized", str(refused))
            return await response.file(
                STATIC_DIR / asset, mime_type=f"{ASSETS[asset]}; charset=utf-8",
                headers={"Cache-Control": "no-cache"},
            )

        @panel.route("/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            form = request.form or {}
            agent = auth.valid_agent_name(form.get("agent") or "")
            if not auth.token_matches(self.settings.panel_token, (form.get("token") or "").strip()):
                return _login_page(401, "令牌不对，请向店铺管理员确认 ANXIN_PANEL_TOKEN")
            if agent is None:
                return _login_page(400, "请填写您的名字（1-32 个字，回复买家时会显示）")
            answer = response.redirect(PREFIX, status=303)
            answer.cookies[auth.COOKIE_NAME] = auth.session_cookie(self.settings.panel_token, agent)
            cookie = answer.cookies[auth.COOKIE_NAME]
            cookie["path"], cookie["httponly"], cookie["samesite"] = PREFIX, True, "Strict"
            cookie["max-age"] = auth.SESSION_S
            return answer

        @panel.route("/logout", methods=["POST"])
        async def logout(_: Request) -> HTTPResponse:
            answer = response.redirect(PREFIX, status=303)
            answer.cookies[auth.COOKIE_NAME] = ""
            answer.cookies[auth.COOKIE_NAME]["path"] = PREFIX
            answer.cookies[auth.COOKIE_NAME]["max-age"] = 0
            return answer

        @panel.route("/analytics", methods=["GET"])
        async def analytics(request: Request) -> HTTPResponse:
            try:
                self._agent(request)
            except auth.NotAuthenticated as refused:
                return _login_page(401, str(refused))
            page_html, status = await analytics_page(
                request.app.ctx.agent.tracker_store, self.settings.database_url,
                request.args.get("from"), request.args.get("to"),
            )
            return response.html(page_html, status=status, headers={"Cache-Control": "no-store"})

        panel.add_route(self._api(self.queue), "/api/queue", methods=["GET"])
        panel.add_route(self._api(self.conversation), "/api/conversation", methods=["GET"])
        panel.add_route(self._api(self.take_over), "/api/takeover", methods=["POST"])
        panel.add_route(self._api(self.hand_back), "/api/handback", methods=["POST"])
        panel.add_route(self._api(self.reply), "/api/reply", methods=["POST"])
        panel.add_route(self._api(self.reject), "/api/reject", methods=["POST"])
        return panel

    async def _migrate(self, _app: Any, _loop: Any) -> None:
        await asyncio.to_thread(db.migrate, self.settings.database_url)

    # ------------------------------------------------------------------ API

    async def queue(self, request: Request, agent: str) -> HTTPResponse:
        """The queue, most urgent first, with each item's countdown in seconds."""
        items = await build_queue(self.desk, request.app.ctx.agent.tracker_store)
        return _json({"agent": agent, "now": dt.datetime.now(dt.timezone.utc).isoformat(),
                      "items": [item.__dict__ for item in items]})

    async def conversation(self, request: Request, agent: str) -> HTTPResponse:
        """One conversation: transcript, NLU, order, verdict with rules, suggested reply."""
        conversation_id = _conversation_id(request)
        tracker = await tracker_events.retrieve(request.app, conversation_id)
        who = conversation_view.buyer(tracker)
        facts = await asyncio.to_thread(self._facts, conversation_id, who, tracker.get_slot("order_id"))
        decision, handoff, order, rules, shop = facts
        suggestion = suggest(
            domain=request.app.ctx.agent.domain, decision=decision, handoff=handoff,
            order=order, rules=rules, shop=shop, agent=agent,
        )
        return _json({
            "conversation_id": conversation_id,
            "agent": agent,
            "buyer": who,
            "paused": tracker.is_paused(),
            "can_push": tracker_events.output_channel_for(request.app, tracker) is not None,
            "transcript": conversation_view.transcript(tracker),
            "understanding": conversation_view.understanding(tracker),
            "order": conversation_view.order_facts(order),
            "verdict": conversation_view.verdict_facts(decision, rules),
            "handoff": conversation_view.handoff_facts(handoff),
            "suggestion": suggestion,
            "decision_id": decision.decision_id if decision else None,
            "choices": await asyncio.to_thread(self.desk.choices, conversation_id),
        })

    def _facts(self, conversation_id: str, who: Dict[str, Optional[str]], slot_order: Optional[str]):
        decision = self.desk.latest_decision(conversation_id)
        handoff = self.desk.open_handoff(conversation_id)
        order_id = (decision.order_id if decision else None) or slot_order
        order = self.desk.order(order_id, who.get("buyer_id"))
        shop_id = order.shop_id if order else who.get("shop_id")
        platform = order.platform if order else (
            (decision.request.get("platform") if decision else None) or who.get("platform")
        )
        rules = self.desk.rules(shop_id, platform)
        shop = (order.shop_name if order else None) or self.desk.after_sales.shop_name(shop_id) or "本店"
        return decision, handoff, order, rules, shop

    async def take_over(self, request: Request, agent: str) -> HTTPResponse:
        """Pause the bot on the conversation and put the agent's name on it."""
        conversation_id = _conversation_id(request)
        tracker = await tracker_events.retrieve(request.app, conversation_id)
        await self._pause(request, agent, conversation_id, tracker)
        return _json({"conversation_id": conversation_id, "paused": True, "taken_by": agent})

    async def _pause(self, request: Request, agent: str, conversation_id: str, tracker: Any) -> None:
        await asyncio.to_thread(
            self.desk.take_over, conversation_id, agent, tracker.get_latest_input_channel()
        )
        if not tracker.is_paused():
            await tracker_events.append(request.app, conversation_id, [ConversationPaused()])

    async def hand_back(self, request: Request, agent: str) -> HTTPResponse:
        """Resume the bot (it reads the next buyer message as a fresh turn) and close the handoff."""
        conversation_id = _conversation_id(request)
        await tracker_events.retrieve(request.app, conversation_id)
        await tracker_events.append(
            request.app, conversation_id, [Event.from_parameters(event) for event in RESUME_EVENTS]
        )
        closed = await asyncio.to_thread(self.desk.hand_back, conversation_id, agent)
        return _json({"conversation_id": conversation_id, "paused": False, "handoffs_closed": closed})

    async def reply(self, request: Request, agent: str) -> HTTPResponse:
        """Send the agent's text to the buyer's channel; log it as accepted or edited.

        Replying takes the conversation over first when the bot still had it, so
        the bot never answers over the agent's shoulder.
        """
        body = _body(request)
        conversation_id = _conversation_id(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY:
            raise BadRequest(f"回复内容不能为空，最多 {MAX_REPLY} 个字")
        suggestion = body.get("suggestion") if isinstance(body.get("suggestion"), str) else None
        tracker = await tracker_events.retrieve(request.app, conversation_id)
        await self._pause(request, agent, conversation_id, tracker)
        delivered = await tracker_events.append(
            request.app, conversation_id,
            [BotUttered(text.strip(), metadata={AGENT_KEY: agent})], deliver=True,
        )
        choice = "accepted" if suggestion and suggestion.strip() == text.strip() else "edited"
        decision = body.get("decision_id") if isinstance(body.get("decision_id"), int) else None
        await asyncio.to_thread(
            functools.partial(
                self.desk.record_choice, conversation_id, agent=agent, choice=choice,
                suggestion=suggestion, text=text.strip(), decision_id=decision,
                channel=tracker.get_latest_input_channel(),
            )
        )
        return _json({
            "conversation_id": conversation_id, "choice": choice, "delivered": delivered,
            "channel": tracker.get_latest_input_channel(),
            "message": None if delivered else "该买家的渠道不能主动推送（REST），消息已记入对话",
        })

    async def reject(self, request: Request, agent: str) -> HTTPResponse:
        """Record that the agent discarded the suggestion (nothing is sent)."""
        body = _body(request)
        conversation_id = _conversation_id(request)
        suggestion = body.get("suggestion")
        if not isinstance(suggestion, str) or not suggestion.strip():
            raise BadRequest("请带上被拒绝的建议回复（suggestion）")
        tracker = await tracker_events.retrieve(request.app, conversation_id)
        decision = body.get("decision_id") if isinstance(body.get("decision_id"), int) else None
        await asyncio.to_thread(
            functools.partial(
                self.desk.record_choice, conversation_id, agent=agent, choice="rejected",
                suggestion=suggestion, text=None, decision_id=decision,
                channel=tracker.get_latest_input_channel(),
            )
        )
        return _json({"conversation_id": conversation_id, "choice": "rejected"})
