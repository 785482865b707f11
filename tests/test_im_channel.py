"""The IM webhook: signing helpers, then end to end against the real servers.

The fake IM platform (``tests/utils/fake_im.py``) is a real HTTP server on
loopback that the bot's outbox sends to; it checks every send's signature with
plain ``hmac``. Pushes here are signed the same way, independently of the bot's
own helpers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional

import pytest
import requests
from sqlalchemy import select, update

from bot.channels.im import (
    IMStore,
    InvalidPush,
    OutboxSender,
    backoff_s,
    parse_push,
    render,
    sign,
    signature_error,
    signed_headers,
    typed_text,
)
from bot.rules.db import session_scope
from bot.rules.schema import IMMessageRow, IMOutboxRow
from bot.settings import load_settings
from utils.fake_im import FakeIMPlatform, IMClient
from utils.rules_db import use_database

SECRET = "unit-secret"
BODY = b'{"message_id": "m1", "text": "\xe4\xbd\xa0\xe5\xa5\xbd"}'
NOW = 1_764_150_000
QUIET_S = 2.0  # how long "nothing more is sent" is watched


# --- signing and parsing (no server) -------------------------------------------


def test_a_valid_signature_is_accepted() -> None:
    headers = signed_headers(SECRET, BODY, now=NOW)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert headers == {"X-Signature-Timestamp": str(NOW), "X-Signature": expected}
    assert signature_error(SECRET, str(NOW), expected, BODY, now=NOW) is None


def test_a_signature_made_with_another_secret_is_refused() -> None:
    forged = sign("other-secret", str(NOW), BODY)
    assert signature_error(SECRET, str(NOW), forged, BODY, now=NOW) == "signature does not match"


def test_a_tampered_body_is_refused() -> None:
    signature = sign(SECRET, str(NOW), BODY)
    tampered = BODY.replace(b"m1", b"m2")
    assert signature_error(SECRET, str(NOW), signature, tampered, now=NOW) is not None


@pytest.mark.parametrize("skew", [301, -301])
def test_a_timestamp_more_than_300_seconds_away_is_refused(skew: int) -> None:
    timestamp = str(NOW + skew)
    signature = sign(SECRET, timestamp, BODY)
    assert "300 s" in signature_error(SECRET, timestamp, signature, BODY, now=NOW)
    inside = str(NOW + (300 if skew > 0 else -300))
    assert signature_error(SECRET, inside, sign(SECRET, inside, BODY), BODY, now=NOW) is None


@pytest.mark.parametrize("timestamp, signature", [(None, "ab"), (str(NOW), None), ("", ""), (None, None)])
def test_missing_headers_are_refused(timestamp: Optional[str], signature: Optional[str]) -> None:
    assert "missing" in signature_error(SECRET, timestamp, signature, BODY, now=NOW)


@pytest.mark.parametrize("timestamp", ["soon", "1.5e9", "-5", "0x10"])
def test_a_non_numeric_timestamp_is_refused(timestamp: str) -> None:
    signature = sign(SECRET, timestamp, BODY)
    assert "Unix seconds" in signature_error(SECRET, timestamp, signature, BODY, now=NOW)


def push_body(**fields: Any) -> Dict[str, Any]:
    body = {"message_id": "m1", "buyer_id": "b1", "shop_id": "s1", "platform": "tmall",
            "text": "你好", "attachments": [], "sent_at": NOW}
    body.update(fields)
    return {key: value for key, value in body.items() if value is not ...}


def test_a_push_becomes_a_conversation_of_that_buyer_in_that_shop() -> None:
    push = parse_push(json.dumps(push_body()).encode())
    assert push.conversation_id == "im:tmall:s1:b1"
    assert push.metadata == {"buyer_id": "b1", "shop_id": "s1", "platform": "tmall", "attachments": []}


def test_a_photo_without_text_is_the_photo_message() -> None:
    photo = [{"type": "image", "url": "https://img.example.invalid/a.jpg"}]
    push = parse_push(json.dumps(push_body(text="", attachments=photo)).encode())
    assert push.text == "[图片]" and push.metadata["attachments"] == photo


@pytest.mark.parametrize(
    "body, field",
    [
        (b"not json", "body"),
        (b"[1, 2]", "body"),
        (json.dumps(push_body(buyer_id=...)).encode(), "buyer_id"),
        (json.dumps(push_body(message_id=7)).encode(), "message_id"),
        (json.dumps(push_body(text=None)).encode(), "text"),
        (json.dumps(push_body(text="")).encode(), "text"),
        (json.dumps(push_body(platform="wechat")).encode(), "platform"),
        (json.dumps(push_body(shop_id="a shop")).encode(), "shop_id"),
        (json.dumps(push_body(attachments="x.jpg")).encode(), "attachments"),
        (json.dumps(push_body(sent_at=True)).encode(), "sent_at"),
    ],
)
def test_a_bad_push_names_the_field(body: bytes, field: str) -> None:
    with pytest.raises(InvalidPush) as raised:
        parse_push(body)
    assert raised.value.field == field


def test_buttons_become_numbered_lines() -> None:
    text, buttons = render({"text": "请问原因？", "buttons": [
        {"title": "不想要了", "payload": "/a"}, {"title": "质量问题", "payload": "/b"}]})
    assert text == "请问原因？\n1. 不想要了\n2. 质量问题"
    assert [b["payload"] for b in buttons] == ["/a", "/b"]
    assert render({"custom": {"x": 1}}) is None


@pytest.mark.parametrize(
    "typed, read",
    [("/restart", "restart"), ('/request_refund{"order_id": "1"}', 'request_refund{"order_id": "1"}'),
     ("  //退货", "退货"), ("／", "／"), ("/", "／"), ("我要退货/换货", "我要退货/换货")],
)
def test_typed_slashes_never_become_rasa_commands(typed: str, read: str) -> None:
    assert typed_text(typed) == read


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_s(2, n) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff_s(2, 40) == 600


# --- the database and the sender (a real SQLite file, a real HTTP server) -------


def test_seen_message_ids_survive_a_restart(tmp_path, monkeypatch) -> None:
    url = use_database(tmp_path, monkeypatch)
    push = parse_push(json.dumps(push_body()).encode())
    assert IMStore(url).remember(push) is True
    assert IMStore(url).remember(push) is False  # a new store: as after a restart
    other_platform = parse_push(json.dumps(push_body(platform="jd_international")).encode())
    assert IMStore(url).remember(other_platform) is True


async def test_the_sender_picks_up_what_an_earlier_run_left_undelivered(tmp_path, monkeypatch) -> None:
    import aiohttp

    url = use_database(tmp_path, monkeypatch)
    platform = FakeIMPlatform(SECRET).start()
    try:
        store = IMStore(url)
        push = parse_push(json.dumps(push_body(message_id="left-over")).encode())
        first, second = store.enqueue(push, [("第一条", None), ("第二条", None)])
        settings = load_settings({"DATABASE_URL": url, "ANXIN_IM_SECRET": SECRET,
                                  "ANXIN_IM_SEND_URL": platform.url,
                                  "ANXIN_IM_RETRY_BASE_S": "0.2"})
        platform.fail_next("b1", 1)
        sender = OutboxSender(IMStore(url), settings)  # a new process after a restart
        async with aiohttp.ClientSession() as http:
            await sender.deliver_due(http)  # the first fails: the second must wait
            assert platform.sends_to("b1") == []
            time.sleep(0.25)
            await sender.deliver_due(http)
        sends = platform.sends_to("b1")
        assert [s["body"]["text"] for s in sends] == ["第一条", "第二条"]
        assert all(s["valid"] and s["body"]["reply_to"] == "left-over" for s in sends)
        assert store.undelivered() == []
        with session_scope(url) as session:
            attempts = dict(session.execute(select(IMOutboxRow.id, IMOutboxRow.attempts)).all())
        assert attempts == {first: 2, second: 1}
    finally:
        platform.stop()


async def test_two_servers_sharing_the_outbox_send_each_reply_once_and_in_order(tmp_path, monkeypatch) -> None:
    import asyncio

    import aiohttp

    url = use_database(tmp_path, monkeypatch)
    platform = FakeIMPlatform(SECRET).start()
    try:
        store = IMStore(url)
        buyers = [f"b{n}" for n in range(10)]
        for buyer in buyers:
            push = parse_push(json.dumps(push_body(buyer_id=buyer, message_id=f"m-{buyer}")).encode())
            store.enqueue(push, [(f"{buyer}-{k}", None) for k in range(3)])
        settings = load_settings({"DATABASE_URL": url, "ANXIN_IM_SECRET": SECRET,
                                  "ANXIN_IM_SEND_URL": platform.url})
        servers = [OutboxSender(IMStore(url), settings), OutboxSender(IMStore(url), settings)]
        assert servers[0].owner != servers[1].owner
        async with aiohttp.ClientSession() as http:
            for _ in range(4):  # both poll at the same moments, as two Rasa servers would
                await asyncio.gather(*(server.deliver_due(http) for server in servers))
        for buyer in buyers:
            assert [s["body"]["text"] for s in platform.sends_to(buyer)] == [f"{buyer}-{k}" for k in range(3)]
        assert store.undelivered() == []
    finally:
        platform.stop()


def test_a_claim_is_exclusive_until_it_expires(tmp_path, monkeypatch) -> None:
    url = use_database(tmp_path, monkeypatch)
    store = IMStore(url)
    (row,) = store.enqueue(parse_push(json.dumps(push_body()).encode()), [("hi", None)])
    assert store.claim(row, "server-a", hold_s=30) is True
    assert store.claim(row, "server-b", hold_s=30) is False
    assert IMStore(url).claim(row, "server-b", hold_s=-1) is False  # a's claim still holds
    with session_scope(url) as session:
        session.execute(update(IMOutboxRow).values(claimed_until=IMOutboxRow.created_at))
    assert store.claim(row, "server-b", hold_s=30) is True  # a died mid-send: b takes over
    store.delivered(row, attempts=1)
    assert store.claim(row, "server-a", hold_s=30) is False  # delivered: nobody sends it again


# --- end to end ----------------------------------------------------------------


@pytest.fixture(scope="module")
def im(running_bot, fake_im_platform) -> IMClient:
    return IMClient(running_bot, fake_im_platform)


def new_buyer() -> str:
    return "im_" + uuid.uuid4().hex[:10]


def tracker_user_texts(bot, conversation_id: str) -> list:
    tracker = requests.get(f"{bot.base_url}/conversations/{conversation_id}/tracker",
                           params={"token": bot.token}, timeout=30).json()
    return [event.get("text") for event in tracker.get("events") or [] if event["event"] == "user"]


def outbox_rows(bot, buyer_id: str) -> list:
    with session_scope(bot.env["DATABASE_URL"]) as session:
        rows = session.execute(select(IMOutboxRow).where(IMOutboxRow.buyer_id == buyer_id)
                               .order_by(IMOutboxRow.id)).scalars()
        return [{"id": r.id, "attempts": r.attempts, "delivered_at": r.delivered_at,
                 "last_error": r.last_error} for r in rows]


def test_the_health_route_answers(im) -> None:
    answer = requests.get(f"{im.bot.base_url}/webhooks/im/", timeout=10)
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}


def test_a_valid_push_is_answered_at_the_platform_signed_and_with_reply_to(im, domain) -> None:
    buyer = new_buyer()
    answer = im.push(buyer, "你好呀", message_id="hello-" + buyer)
    assert answer.status_code == 200 and answer.json() == {"status": "accepted"}
    [send] = im.platform.wait_for(buyer)
    assert send["valid"]
    greetings = [variation["text"] for variation in domain["responses"]["utter_greet"]]
    assert send["body"] == {"buyer_id": buyer, "shop_id": "im_shop",
                            "text": send["body"]["text"], "reply_to": "hello-" + buyer}
    assert send["body"]["text"] in greetings
    assert tracker_user_texts(im.bot, f"im:tmall:im_shop:{buyer}") == ["你好呀"]


def test_a_forged_signature_is_refused_and_nothing_happens(im) -> None:
    buyer = new_buyer()
    body = json.dumps({"message_id": "forged-" + buyer, "buyer_id": buyer, "shop_id": "im_shop",
                       "platform": "tmall", "text": "转人工", "attachments": []}).encode()
    answer = im.post(body, secret="not-the-secret")
    assert answer.status_code == 401 and "signature" in answer.json()["error"]
    assert im.post(body, headers={}).status_code == 401
    time.sleep(QUIET_S)
    assert im.platform.sends_to(buyer) == []
    assert tracker_user_texts(im.bot, f"im:tmall:im_shop:{buyer}") == []
    handoffs = im.bot.run("bot.conversation", "handoffs")
    assert buyer not in handoffs.stdout
    with session_scope(im.bot.env["DATABASE_URL"]) as session:
        assert session.execute(select(IMMessageRow).where(
            IMMessageRow.message_id == "forged-" + buyer)).first() is None


def test_a_stale_timestamp_is_refused(im) -> None:
    buyer = new_buyer()
    body = json.dumps({"message_id": "stale-" + buyer, "buyer_id": buyer, "shop_id": "im_shop",
                       "platform": "tmall", "text": "你好", "attachments": []}).encode()
    answer = im.post(body, timestamp=int(time.time()) - 301)
    assert answer.status_code == 401 and "300" in answer.json()["error"]
    time.sleep(QUIET_S)
    assert im.platform.sends_to(buyer) == []


def test_a_replayed_message_id_is_answered_once(im) -> None:
    buyer = new_buyer()
    body = json.dumps({"message_id": "dup-" + buyer, "buyer_id": buyer, "shop_id": "im_shop",
                       "platform": "tmall", "text": "你好", "attachments": []}).encode()
    first = im.post(body)
    assert first.status_code == 200 and first.json()["status"] == "accepted"
    replies = im.platform.wait_for(buyer)
    assert replies
    again = im.post(body)  # the platform retries with a fresh signature
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    time.sleep(QUIET_S)
    assert len(im.platform.sends_to(buyer)) == len(replies)
    assert tracker_user_texts(im.bot, f"im:tmall:im_shop:{buyer}") == ["你好"]


def test_a_malformed_push_gets_400_naming_the_field(im) -> None:
    assert im.post(b"{not json").status_code == 400
    missing = im.post(json.dumps({"message_id": "x1", "shop_id": "im_shop", "platform": "tmall",
                                  "text": "你好"}).encode())
    assert missing.status_code == 400 and missing.json()["field"] == "buyer_id"
    wrong = im.push(new_buyer(), 42)
    assert wrong.status_code == 400 and wrong.json()["field"] == "text"


def test_a_failing_send_api_is_retried_until_delivered_once(im) -> None:
    buyer = new_buyer()
    im.platform.fail_next(buyer, 2)
    assert im.push(buyer, "你好").status_code == 200
    [send] = im.platform.wait_for(buyer, timeout=30)
    assert send["valid"]
    time.sleep(QUIET_S)
    assert len(im.platform.sends_to(buyer)) == 1
    [row] = outbox_rows(im.bot, buyer)
    assert row["attempts"] == 3 and row["delivered_at"] is not None
    assert "HTTP 500" in row["last_error"]
    log = im.bot.log.read_text()
    for attempt in (1, 2):
        assert f"IM outbox {row['id']}: attempt {attempt} failed" in log


def test_fifty_buyers_writing_at_once_all_get_answers(im) -> None:
    buyers = [new_buyer() for _ in range(50)]
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda buyer: im.push(buyer, "你好"), buyers))
    assert [answer.status_code for answer in answers] == [200] * 50
    for buyer in buyers:
        sends = im.platform.wait_for(buyer, timeout=60)
        assert sends and all(send["valid"] for send in sends), buyer


def test_a_paused_conversation_gets_no_reply(im) -> None:
    buyer = new_buyer()
    assert im.push(buyer, "转人工").status_code == 200
    [handoff] = im.platform.wait_for(buyer)
    assert "人工客服" in handoff["body"]["text"]
    time.sleep(0.5)
    again = im.push(buyer, "人呢？")
    assert again.status_code == 200 and again.json() == {"status": "accepted"}
    time.sleep(QUIET_S)
    assert len(im.platform.sends_to(buyer)) == 1
    assert tracker_user_texts(im.bot, f"im:tmall:im_shop:{buyer}") == ["转人工", "人呢？"]


IM_ORDERS = """
- {order_id: "5600000000000000001", buyer_id: BUYER, shop_id: e2e_tmall, platform: tmall,
   status: signed, signed_at: {days_ago: 1, at: "10:00"}, created_at: {days_ago: 4},
   category: 保温杯, amount: 89}
- {order_id: "5600000000000000002", buyer_id: BUYER, shop_id: e2e_tmall, platform: tmall,
   status: signed, signed_at: {days_ago: 2, at: "10:00"}, created_at: {days_ago: 5},
   category: 连衣裙, amount: 299}
"""


def test_buttons_are_numbered_and_a_number_presses_one(im, tmp_path) -> None:
    buyer = new_buyer()
    orders = tmp_path / "orders.yml"
    orders.write_text(IM_ORDERS.replace("BUYER", buyer), encoding="utf-8")
    imported = im.bot.run("bot.rules", "orders", "import", str(orders))
    assert imported.returncode == 0, imported.stderr
    body = {"message_id": uuid.uuid4().hex, "buyer_id": buyer, "shop_id": "e2e_tmall",
            "platform": "tmall", "text": "我想退货", "attachments": []}
    assert im.post(json.dumps(body, ensure_ascii=False).encode()).status_code == 200
    [question] = im.platform.wait_for(buyer)
    lines = question["body"]["text"].splitlines()
    assert lines[1].startswith("1. ") and lines[2].startswith("2. ")
    chosen = "5600000000000000001" if "5600000000000000001" in lines[1] else "5600000000000000002"
    body = {**body, "message_id": uuid.uuid4().hex, "text": "1"}
    assert im.post(json.dumps(body, ensure_ascii=False).encode()).status_code == 200
    sends = im.platform.wait_for(buyer, 2)
    assert len(sends) == 2 and "原因" in sends[1]["body"]["text"]  # the order was taken
    assert sends[1]["body"]["text"].splitlines()[1].startswith("1. 不想要了")
    body = {**body, "message_id": uuid.uuid4().hex, "text": "1"}  # 不想要了 / 尺码不合适
    assert im.post(json.dumps(body, ensure_ascii=False).encode()).status_code == 200
    assert len(im.platform.wait_for(buyer, 3)) >= 3
    logged = im.bot.run("bot.rules", "decisions", "--conversation", f"im:tmall:e2e_tmall:{buyer}")
    [decision] = [json.loads(line) for line in logged.stdout.splitlines() if line.strip()]
    assert decision["order_id"] == chosen


# --- found by tests/test_fuzz.py -------------------------------------------------


def test_a_non_ascii_signature_header_is_refused_not_a_server_error() -> None:
    # Sanic hands non-ASCII header bytes over surrogate-escaped ("é" → "\udcc3\udca9").
    latin1 = "é".encode("utf-8").decode("utf-8", "surrogateescape") * 32
    assert signature_error(SECRET, str(NOW), latin1, BODY, now=NOW) == "signature does not match"


def test_deeply_nested_json_is_a_bad_body_not_a_server_error() -> None:
    with pytest.raises(InvalidPush) as invalid:
        parse_push(b"[" * 100_000 + b"]" * 100_000)
    assert invalid.value.field == "body"
