"""After-sales conversations end to end: real Rasa server, real action server, real database.

Orders are imported with ``python -m bot.rules orders import`` (times relative
to now, as the shop's order system would send them), buyers talk over REST with
channel metadata, and each conversation is checked twice: what the buyer reads,
and what ``python -m bot.rules decisions --conversation ID`` logged.
"""

from __future__ import annotations

import json
import uuid
from typing import Dict, List

import pytest
import requests
import yaml

from bot.conversation.chat import buyer_metadata, chat

SHOP = {"shop_id": "e2e_tmall", "platform": "tmall"}
PHOTO = {"attachments": [{"type": "image", "url": "https://img.example.invalid/crack.jpg"}]}

ORDERS = [
    # The only recent order of buyer e2e_one: signed 2 days ago, 运费险.
    {"order_id": "5500000000000000001", "buyer_id": "e2e_one", "status": "signed",
     "signed_at": {"days_ago": 2, "at": "15:00"}, "created_at": {"days_ago": 5},
     "category": "连衣裙", "amount": 299, "shipping_insurance": True},
    # Buyer e2e_two: a cup signed yesterday (quality), a coat signed 20 days ago (expired).
    {"order_id": "5500000000000000002", "buyer_id": "e2e_two", "status": "signed",
     "signed_at": {"days_ago": 1, "at": "10:00"}, "created_at": {"days_ago": 4},
     "category": "保温杯", "amount": 89},
    {"order_id": "5500000000000000003", "buyer_id": "e2e_two", "status": "completed",
     "signed_at": {"days_ago": 20, "at": "10:00"}, "completed_at": {"days_ago": 19, "at": "10:00"},
     "created_at": {"days_ago": 25}, "category": "外套", "amount": 599},
]


@pytest.fixture(scope="module")
def shop_bot(running_bot, tmp_path_factory):
    """The running bot with this module's orders imported through the command line."""
    orders_file = tmp_path_factory.mktemp("orders") / "orders.yml"
    rows = [{**SHOP, **order} for order in ORDERS]
    orders_file.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    imported = running_bot.run("bot.rules", "orders", "import", str(orders_file))
    assert imported.returncode == 0, imported.stderr
    return running_bot


class Buyer:
    """One buyer's conversation over REST, with the channel's metadata on every message."""

    def __init__(self, bot, buyer_id: str):
        self.bot = bot
        self.sender = f"e2e-{buyer_id}-{uuid.uuid4().hex[:6]}"
        self.metadata = {"buyer_id": buyer_id, **SHOP}

    def says(self, text: str, **metadata) -> List[str]:
        """Send one message; return the bot's texts (asserting no server error)."""
        response = self.bot.say(self.sender, text, metadata={**self.metadata, **metadata})
        assert response.status_code == 200, response.text[:300]
        return [message.get("text") or "" for message in response.json()]

    def decisions(self) -> List[Dict]:
        """The decision log of this conversation, via the documented command."""
        result = self.bot.run("bot.rules", "decisions", "--conversation", self.sender)
        assert result.returncode == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def joined(replies: List[str]) -> str:
    return "\n".join(replies)


def test_seven_day_return_uses_the_only_recent_order_and_cites_the_law(shop_bot) -> None:
    buyer = Buyer(shop_bot, "e2e_one")
    first = joined(buyer.says("我想退货"))
    assert "5500000000000000001" in first and "原因" in first  # order assumed, reason asked
    answer = joined(buyer.says("/inform_order{\"reason\": \"no_reason\"}"))
    assert "同意退货" in answer and "《消费者权益保护法》第二十五条" in answer
    assert "运费险" in answer and "48小时" in answer
    [decision] = buyer.decisions()
    assert decision["verdict"] == "approve" and decision["shipping_payer"] == "insurance"
    assert decision["order_id"] == "5500000000000000001"
    assert decision["intent"] == "request_return" and decision["message"] == "我想退货"
    assert 0 < decision["confidence"] <= 1 and "LAW.CRPL.25" in decision["rule_ids"]


def test_quality_complaint_asks_for_a_photo_then_approves_with_the_seller_paying(shop_bot) -> None:
    buyer = Buyer(shop_bot, "e2e_two")
    asked = joined(buyer.says("保温杯有裂缝，订单号5500000000000000002"))
    assert "照片" in asked
    answer = joined(buyer.says("[图片]", **PHOTO))
    assert "质量问题" in answer and "来回运费由我们承担" in answer and "退款" in answer
    verdicts = [(d["verdict"], d["shipping_payer"]) for d in buyer.decisions()]
    assert verdicts == [("need_evidence", "none"), ("approve", "seller")]


def test_expired_window_is_declined_with_the_quality_route_offered(shop_bot) -> None:
    buyer = Buyer(shop_bot, "e2e_two")
    answer = joined(buyer.says("外套不想要了，想退货，订单5500000000000000003"))
    assert "七天无理由退货期已在" in answer and "质量问题" in answer and "人工" in answer
    [decision] = buyer.decisions()
    assert (decision["verdict"], decision["decline_reason"]) == ("decline", "window_expired")


def test_escalation_keeps_the_verdict_hands_off_pauses_and_resumes(shop_bot) -> None:
    buyer = Buyer(shop_bot, "e2e_two")
    assert "七天无理由退货期已在" in joined(buyer.says("外套不想要了，想退货，订单5500000000000000003"))
    answer = joined(buyer.says("凭什么不给退？再不处理我就投诉到平台"))
    assert "心情我们完全理解" in answer and "人工客服" in answer and "前回复您" in answer
    first, second = buyer.decisions()
    assert (second["verdict"], second["decline_reason"]) == ("decline", "window_expired")
    assert second["handoff_reason"] == "escalation_threat"
    assert "PROC.ESCALATION" in second["rule_ids"]
    # A person owns the conversation now: the bot stays silent.
    assert buyer.says("人呢？") == []
    queue = shop_bot.run("bot.conversation", "handoffs")
    mine = [json.loads(line) for line in queue.stdout.splitlines() if buyer.sender in line]
    assert [(h["reason"], h["priority"]) for h in mine] == [("escalation_threat", "high")]
    resumed = shop_bot.run("bot.conversation", "resume", buyer.sender, "--agent", "小王")
    assert resumed.returncode == 0, resumed.stderr
    assert "1 handoff(s) closed" in resumed.stdout
    assert buyer.says("你好") != []
    queue = shop_bot.run("bot.conversation", "handoffs")
    assert buyer.sender not in queue.stdout


def test_unknown_order_is_asked_once_more_then_handed_off(shop_bot) -> None:
    buyer = Buyer(shop_bot, "e2e_one")
    first = joined(buyer.says("我要退款，订单号1234567890123456"))
    assert "没查到" in first
    second = joined(buyer.says("订单号是1234567890123457"))
    assert "人工客服" in second
    [decision] = buyer.decisions()
    assert (decision["verdict"], decision["handoff_reason"]) == ("handoff", "unknown_order")
    assert decision["order_id"] is None


def test_another_buyers_order_is_not_revealed(shop_bot) -> None:
    buyer = Buyer(shop_bot, "e2e_one")
    reply = joined(buyer.says("查一下订单5500000000000000003到哪了"))
    assert "外套" not in reply and "5500000000000000003（" not in reply


def test_policy_question_is_answered_from_the_rule_base(shop_bot) -> None:
    buyer = Buyer(shop_bot, "e2e_one")
    reply = joined(buyer.says("请问你们店的退换货规则是怎样的"))
    assert "签收次日零点起7天内" in reply and "36小时" in reply


def test_metadata_of_the_wrong_type_still_gets_a_polite_answer(shop_bot) -> None:
    response = requests.post(
        f"{shop_bot.base_url}/webhooks/rest/webhook",
        json={"sender": "e2e-bad-meta", "message": "我要退货",
              "metadata": {"buyer_id": ["x"], "shop_id": 7, "platform": "ebay",
                           "attachments": "not-a-list"}},
        timeout=60,
    )
    assert response.status_code == 200
    assert any("订单号" in (m.get("text") or "") for m in response.json())


def test_demo_chat_client_speaks_as_the_buyer_and_presses_buttons(shop_bot) -> None:
    metadata = buyer_metadata("e2e_one", shop_bot.env["DATABASE_URL"])
    assert metadata == {"buyer_id": "e2e_one", **SHOP}
    typed = iter(["我想退货", "1", "/quit"])  # "1": the first reason button, 不想要了
    shown: List[str] = []
    chat(shop_bot.base_url, metadata, read=lambda _prompt: next(typed), write=shown.append)
    transcript = "\n".join(shown)
    assert "[1] 不想要了 / 尺码不合适" in transcript and "同意退货" in transcript
