"""A fake IM platform: a real HTTP server on loopback receiving the bot's signed sends.

It checks each send's signature on its own (plain ``hmac``, not the bot's
helpers, so a bug shared by signing and checking would still show), records
every send, and can be told to answer 500 to the next N sends to one buyer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional

import requests


class FakeIMPlatform:
    """The send API of an IM platform at ``self.url`` (``POST /send``)."""

    def __init__(self, secret: str):
        self.secret = secret
        self.sends: List[Dict] = []  # every accepted send: body, valid, timestamp
        self.refused: List[Dict] = []  # sends answered 500
        self._failures: Dict[str, int] = {}
        self._lock = threading.Lock()
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                record = platform._record(raw, self.headers)
                status = 500 if record.get("refused") else 200
                answer = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/send"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FakeIMPlatform":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, buyer_id: str, count: int) -> None:
        """Answer 500 to the next ``count`` sends to ``buyer_id``."""
        with self._lock:
            self._failures[buyer_id] = count

    def _record(self, raw: bytes, headers) -> Dict:
        timestamp = headers.get("X-Signature-Timestamp") or ""
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256
        ).hexdigest()
        valid = hmac.compare_digest(expected, headers.get("X-Signature") or "") and (
            timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        )
        try:
            body = json.loads(raw.decode("utf-8"))
        except ValueError:
            body = None
        record = {"body": body, "valid": valid, "timestamp": timestamp}
        buyer = body.get("buyer_id") if isinstance(body, dict) else None
        with self._lock:
            if self._failures.get(buyer, 0) > 0:
                self._failures[buyer] -= 1
                record["refused"] = True
                self.refused.append(record)
            else:
                self.sends.append(record)
        return record

    def sends_to(self, buyer_id: str) -> List[Dict]:
        """Accepted sends to one buyer, in arrival order."""
        with self._lock:
            return [s for s in self.sends if (s["body"] or {}).get("buyer_id") == buyer_id]

    def wait_for(self, buyer_id: str, count: int = 1, timeout: float = 30.0) -> List[Dict]:
        """Wait until ``buyer_id`` got at least ``count`` sends; returns them (maybe fewer)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sends = self.sends_to(buyer_id)
            if len(sends) >= count:
                return sends
            time.sleep(0.05)
        return self.sends_to(buyer_id)


class IMClient:
    """Pushes to the bot's IM webhook, signed with the bot's secret."""

    def __init__(self, bot, platform):
        self.bot = bot
        self.platform = platform
        self.secret = bot.env["ANXIN_IM_SECRET"]
        self.url = f"{bot.base_url}/webhooks/im/webhook"

    def post(self, raw: bytes, timestamp: Optional[int] = None, secret: Optional[str] = None,
             headers: Optional[Dict[str, str]] = None) -> requests.Response:
        if headers is None:
            stamp = str(int(time.time()) if timestamp is None else timestamp)
            signature = hmac.new((secret or self.secret).encode(), stamp.encode() + b"." + raw,
                                 hashlib.sha256).hexdigest()
            headers = {"X-Signature-Timestamp": stamp, "X-Signature": signature}
        return requests.post(self.url, data=raw, timeout=90,
                             headers={"Content-Type": "application/json", **headers})

    def push(self, buyer_id: str, text: str, message_id: Optional[str] = None,
             **extra: Any) -> requests.Response:
        body = {"message_id": message_id or uuid.uuid4().hex, "buyer_id": buyer_id,
                "shop_id": "im_shop", "platform": "tmall", "text": text,
                "attachments": [], "sent_at": int(time.time()), **extra}
        return self.post(json.dumps(body, ensure_ascii=False).encode("utf-8"))
