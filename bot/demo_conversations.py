"""Play the demo conversations (``data/demo/conversations.yml``) through a running bot.

The panel and the report need conversations to show. Rather than writing rows
by hand (which would show what we think the bot does), this talks to the real
bot: buyers over the REST channel with their identity metadata, photos uploaded
through the widget's upload endpoint, agents through the panel API with the
panel token. Every run adds new conversations (``demo-<n>-<random>``).
"""

from __future__ import annotations

import dataclasses
import pathlib
import secrets
import struct
import zlib
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import requests
import yaml

from bot.settings import PROJECT_ROOT, Settings

CONVERSATIONS_FILE = PROJECT_ROOT / "data" / "demo" / "conversations.yml"
DEMO_AGENT = "演示客服"
TIMEOUT_S = 60


class DemoError(RuntimeError):
    """The bot is not reachable or refused a step; the message says which."""


@dataclasses.dataclass(frozen=True)
class Played:
    """One demo conversation as played: its id and what the bot and agent said."""

    name: str
    conversation_id: str
    bot_messages: int
    agent_steps: int


def photo_png(width: int = 48, height: int = 36) -> bytes:
    """A small valid PNG (a grey square), made here so the demo needs no image files."""
    raw = b"".join(b"\x00" + bytes((150, 150, 150)) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def load_conversations(path: pathlib.Path = CONVERSATIONS_FILE) -> List[Dict[str, Any]]:
    """The scripted conversations."""
    return list(yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"])


class DemoPlayer:
    """Plays scripted conversations against the bot at ``settings.rasa_url``."""

    def __init__(self, settings: Settings, agent: str = DEMO_AGENT):
        if settings.panel_token_generated:
            raise DemoError(
                "set ANXIN_PANEL_TOKEN to the running bot's panel token: the demo's agent "
                "steps go through the panel API"
            )
        self.base = settings.rasa_url
        self.panel = {"Authorization": f"Bearer {settings.panel_token}", "X-Anxin-Agent": quote(agent)}
        self.http = requests.Session()

    def play_all(self, conversations: List[Dict[str, Any]]) -> List[Played]:
        """Play every conversation, in order."""
        return [self.play(number, script) for number, script in enumerate(conversations, 1)]

    def play(self, number: int, script: Dict[str, Any]) -> Played:
        """Play one conversation; raises ``DemoError`` naming the step that failed."""
        conversation_id = f"demo-{number}-{secrets.token_hex(4)}"
        metadata = {"buyer_id": script["buyer"], "shop_id": script["shop"], "platform": script["platform"]}
        bot_messages = agent_steps = 0
        for turn in script["turns"]:
            if "buyer" in turn:
                bot_messages += len(self._buyer(conversation_id, turn["buyer"], metadata))
            else:
                self._agent(conversation_id, turn["agent"])
                agent_steps += 1
        return Played(script["name"], conversation_id, bot_messages, agent_steps)

    def _buyer(self, conversation_id: str, turn: Any, metadata: Dict[str, str]) -> List[Dict[str, Any]]:
        message = dict(metadata)
        text = turn if isinstance(turn, str) else turn["text"]
        if isinstance(turn, dict) and turn.get("photo"):
            message["attachments"] = [{"type": "image", "url": self._upload_photo()}]
        answer = self._post("/webhooks/rest/webhook", {"sender": conversation_id, "message": text, "metadata": message})
        return answer if isinstance(answer, list) else []

    def _upload_photo(self) -> str:
        try:
            response = self.http.post(
                f"{self.base}/webhooks/widget/upload",
                files={"file": ("demo.png", photo_png(), "image/png")}, timeout=TIMEOUT_S,
            )
        except requests.RequestException as error:
            raise DemoError(f"cannot reach the bot at {self.base}: {error}") from None
        if response.status_code != 201:
            raise DemoError(f"photo upload refused: HTTP {response.status_code} {response.text[:200]}")
        return response.json()["url"]

    def _agent(self, conversation_id: str, step: Any) -> None:
        if step == "handback":
            self._post("/webhooks/assist/api/handback", {"conversation_id": conversation_id}, panel=True)
            return
        view = self._get_view(conversation_id)
        suggestion = view["suggestion"]
        body = {"conversation_id": conversation_id, "suggestion": suggestion, "decision_id": view["decision_id"]}
        if step == "accept":
            self._post("/webhooks/assist/api/reply", {**body, "text": suggestion}, panel=True)
        elif step == "reject":
            self._post("/webhooks/assist/api/reject", body, panel=True)
        elif isinstance(step, dict) and "edit" in step:
            self._post("/webhooks/assist/api/reply", {**body, "text": suggestion + step["edit"]}, panel=True)
        elif isinstance(step, dict) and "write" in step:
            self._post("/webhooks/assist/api/reply", {**body, "text": step["write"], "suggestion": None}, panel=True)
        else:
            raise DemoError(f"unknown agent step {step!r} in {CONVERSATIONS_FILE.name}")

    def _get_view(self, conversation_id: str) -> Dict[str, Any]:
        try:
            response = self.http.get(
                f"{self.base}/webhooks/assist/api/conversation", params={"id": conversation_id},
                headers=self.panel, timeout=TIMEOUT_S,
            )
        except requests.RequestException as error:
            raise DemoError(f"cannot reach the bot at {self.base}: {error}") from None
        return self._checked(response, "the panel's conversation view")

    def _post(self, path: str, body: Dict[str, Any], panel: bool = False) -> Any:
        try:
            response = self.http.post(
                f"{self.base}{path}", json=body, headers=self.panel if panel else None, timeout=TIMEOUT_S
            )
        except requests.RequestException as error:
            raise DemoError(f"cannot reach the bot at {self.base}: {error}") from None
        return self._checked(response, path)

    @staticmethod
    def _checked(response: requests.Response, what: str) -> Any:
        if response.status_code == 401:
            raise DemoError(f"{what}: 401, ANXIN_PANEL_TOKEN is not the running bot's panel token")
        if response.status_code != 200:
            raise DemoError(f"{what}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()


def play_demo(settings: Settings, path: Optional[pathlib.Path] = None) -> List[Played]:
    """Play ``data/demo/conversations.yml`` (or ``path``) against the running bot."""
    return DemoPlayer(settings).play_all(load_conversations(path or CONVERSATIONS_FILE))
