"""A terminal chat as a demo buyer, over the REST channel, with the channel's metadata.

``rasa shell`` cannot say who the buyer is or send a photo; this client does
both, so a newcomer can walk through the demo orders against ``make run``:
``/photo`` sends an image attachment, a number presses that button.
"""

from __future__ import annotations

import uuid
from typing import Callable, Dict, List, Optional

import requests
from sqlalchemy import select

from bot.rules.db import session_scope
from bot.rules.schema import OrderRow

DEFAULT_PHOTO = "https://img.example.invalid/demo-photo.jpg"
PHOTO_TEXT = "[图片]"
TIMEOUT_S = 60


def buyer_metadata(buyer_id: str, database_url: Optional[str]) -> Dict[str, str]:
    """buyer_id plus the shop and platform of the buyer's latest order."""
    with session_scope(database_url) as session:
        row = session.execute(
            select(OrderRow).where(OrderRow.buyer_id == buyer_id).order_by(OrderRow.created_at.desc())
        ).scalars().first()
        if row is None:
            raise LookupError(f"no orders for buyer {buyer_id!r}: see data/demo/orders.yml")
        return {"buyer_id": buyer_id, "shop_id": row.shop_id, "platform": row.platform}


def chat(
    rasa_url: str,
    metadata: Dict[str, str],
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> None:
    """Talk until ``/quit`` or end of input."""
    sender = f"chat-{metadata['buyer_id']}-{uuid.uuid4().hex[:6]}"
    write(f"会话 {sender}（{metadata['shop_id']}，{metadata['platform']}）。"
          "/photo [URL] 发图片，数字点按钮，/quit 退出。")
    buttons: List[Dict[str, str]] = []
    while True:
        try:
            line = read("买家> ").strip()
        except EOFError:
            return
        if line == "/quit":
            return
        extra: Dict[str, object] = {}
        if line.isdigit() and 0 < int(line) <= len(buttons):
            line = buttons[int(line) - 1]["payload"]
        elif line.startswith("/photo"):
            url = line[len("/photo"):].strip() or DEFAULT_PHOTO
            extra = {"attachments": [{"type": "image", "url": url}]}
            line = PHOTO_TEXT
        if not line:
            continue
        response = requests.post(
            f"{rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": line, "metadata": {**metadata, **extra}},
            timeout=TIMEOUT_S,
        )
        buttons = []
        for message in response.json() if response.ok else []:
            write(f"安心> {message.get('text', '')}")
            for button in message.get("buttons") or []:
                buttons.append(button)
                write(f"   [{len(buttons)}] {button['title']}")
        if not response.ok:
            write(f"(HTTP {response.status_code}: {response.text[:200]})")
