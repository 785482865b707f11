"""The shop chat widget: its page, its embed script, the socket.io client, photo uploads.

Registered in ``credentials.yml`` as ``bot.channels.widget.WidgetInput``; Rasa
mounts the blueprint under ``/webhooks/widget/``:

- ``GET /webhooks/widget/``                 demo page (pick a demo buyer, chat full screen)
- ``GET /webhooks/widget/anxin-widget.js``  the embed script (one ``<script>`` tag)
- ``GET /webhooks/widget/socket.io.min.js`` socket.io-client v4, installed by ``make``
  with npm into ``var/npm`` (nothing vendored, nothing from a CDN)
- ``GET /webhooks/widget/demo-buyers.json`` the demo buyers of ``data/demo/orders.yml``
- ``POST /webhooks/widget/upload``          a photo as evidence (multipart field ``file``)
- ``GET /webhooks/widget/uploads/<name>``   a stored photo

Conversations themselves go over Rasa's ``socketio`` channel (``/socket.io``);
this channel only serves files, so it never calls ``on_new_message``.
"""

from __future__ import annotations

import functools
import json
import logging
import pathlib
import re
import secrets
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import yaml
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
STATIC_DIR = pathlib.Path(__file__).resolve().parent / "static"
SOCKETIO_CLIENT = (
    PROJECT_ROOT / "var" / "npm" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
)
DEMO_ORDERS = PROJECT_ROOT / "data" / "demo" / "orders.yml"
DEFAULT_UPLOAD_DIR = PROJECT_ROOT / "var" / "uploads"
DEFAULT_MAX_UPLOAD_BYTES = 8 * 1024 * 1024
UPLOAD_NAME = re.compile(r"^[0-9a-f]{32}\.(jpg|png|webp)$")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def image_kind(data: bytes) -> Optional[str]:
    """The file extension of a JPEG, PNG or WebP image by its magic bytes, else None.

    The declared content type and file name come from the client and are not
    trusted; only the bytes decide.
    """
    if data[:3] == b"\xff\xd8\xff":
        return "jpg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def _json(body: Any, status: int = 200, headers: Optional[Dict[str, str]] = None) -> HTTPResponse:
    """JSON with readable Chinese (not \\uXXXX escapes)."""
    return response.json(
        body, status=status, headers=headers,
        dumps=functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":")),
    )


def _error(status: int, code: str, message: str) -> HTTPResponse:
    return _json({"error": code, "message": message}, status=status)


@functools.lru_cache(maxsize=1)
def demo_buyers() -> List[Dict[str, Any]]:
    """Each demo buyer of data/demo/orders.yml: buyer_id, shop_id, platform, orders."""
    try:
        orders = (yaml.safe_load(DEMO_ORDERS.read_text(encoding="utf-8")) or {}).get("orders") or []
    except (OSError, yaml.YAMLError):
        logger.exception("could not read the demo orders")
        return []
    buyers: Dict[tuple, Dict[str, Any]] = {}
    for order in orders:
        if not isinstance(order, dict) or not order.get("buyer_id"):
            continue
        key = (order["buyer_id"], order.get("shop_id"), order.get("platform"))
        entry = buyers.setdefault(
            key,
            {"buyer_id": key[0], "shop_id": key[1], "platform": key[2], "orders": 0, "items": []},
        )
        entry["orders"] += 1
        if order.get("category") and order["category"] not in entry["items"]:
            entry["items"].append(order["category"])
    return list(buyers.values())


class WidgetInput(InputChannel):
    """Serves the chat widget's files and stores the photos buyers upload."""

    @classmethod
    def name(cls) -> Text:
        """The URL prefix: /webhooks/widget/."""
        return "widget"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """``upload_dir`` (relative to the project) and ``max_upload_mb`` are optional."""
        credentials = credentials or {}
        upload_dir = credentials.get("upload_dir")
        max_mb = credentials.get("max_upload_mb")
        return cls(
            upload_dir=PROJECT_ROOT / upload_dir if upload_dir else DEFAULT_UPLOAD_DIR,
            max_upload_bytes=int(float(max_mb) * 1024 * 1024) if max_mb else DEFAULT_MAX_UPLOAD_BYTES,
        )

    def __init__(
        self,
        upload_dir: pathlib.Path = DEFAULT_UPLOAD_DIR,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
    ) -> None:
        self.upload_dir = pathlib.Path(upload_dir)
        self.max_upload_bytes = max_upload_bytes

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """The routes listed in the module docstring."""
        widget = Blueprint("widget_webhook", __name__)

        @widget.route("/", methods=["GET"])
        async def page(_: Request) -> HTTPResponse:
            return await response.file(
                STATIC_DIR / "index.html", mime_type="text/html; charset=utf-8",
                headers={"Cache-Control": "no-cache"},
            )

        @widget.route("/anxin-widget.js", methods=["GET"])
        async def embed_script(_: Request) -> HTTPResponse:
            return await response.file(
                STATIC_DIR / "anxin-widget.js", mime_type="application/javascript; charset=utf-8",
                headers={"Cache-Control": "no-cache"},
            )

        @widget.route("/socket.io.min.js", methods=["GET"])
        async def socketio_client(_: Request) -> HTTPResponse:
            if not SOCKETIO_CLIENT.exists():
                return _error(
                    503, "client_missing",
                    "socket.io-client is not installed: run `make run` (it installs it into var/npm)",
                )
            return await response.file(
                SOCKETIO_CLIENT, mime_type="application/javascript; charset=utf-8",
                headers={"Cache-Control": "public, max-age=3600"},
            )

        @widget.route("/demo-buyers.json", methods=["GET"])
        async def buyers(_: Request) -> HTTPResponse:
            return _json(demo_buyers())

        # CORS (a shop page on another origin uploads here) comes from `rasa run --cors`,
        # which bot/serve.py passes; adding our own header would duplicate it.
        @widget.route("/upload", methods=["POST"])
        async def upload(request: Request) -> HTTPResponse:
            try:
                files = request.files
            except Exception:  # a malformed multipart body
                files = None
            sent = files.get("file") if files else None
            if sent is None:
                failed = _error(400, "no_file", "请选择一张图片上传（表单字段 file）")
            elif not sent.body:
                failed = _error(400, "empty_file", "图片是空的，请重新选择")
            elif len(sent.body) > self.max_upload_bytes:
                failed = _error(
                    413, "too_large",
                    f"图片太大了，请上传不超过 {self.max_upload_bytes // (1024 * 1024)} MB 的图片",
                )
            elif image_kind(sent.body) is None:
                failed = _error(415, "unsupported_type", "只支持 JPEG、PNG 或 WebP 格式的图片")
            else:
                failed = None
            if failed is not None:
                return failed
            kind = image_kind(sent.body)
            name = f"{secrets.token_hex(16)}.{kind}"
            self.upload_dir.mkdir(parents=True, exist_ok=True)
            (self.upload_dir / name).write_bytes(sent.body)
            path = f"/webhooks/widget/uploads/{name}"
            return _json(
                {"url": f"{request.scheme}://{request.host}{path}", "path": path,
                 "type": CONTENT_TYPES[kind], "size": len(sent.body)},
                status=201,
            )

        @widget.route("/uploads/<name>", methods=["GET"])
        async def stored(_: Request, name: str) -> HTTPResponse:
            if not UPLOAD_NAME.match(name) or not (self.upload_dir / name).is_file():
                return _error(404, "not_found", "没有这张图片")
            return await response.file(
                self.upload_dir / name, mime_type=CONTENT_TYPES[name.rsplit(".", 1)[1]],
                headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=86400"},
            )

        return widget
