"""The agent panel over HTTP against the running bot: who gets in, the queue, the actions.

Buyers talk over REST (and the IM webhook for the push back to an IM buyer);
the agent side uses the panel API with the bearer token, as a script would, or
a logged-in cookie session, as the browser does (``test_assist_browser.py``).
"""

from __future__ import annotations

import time
import uuid
from urllib.parse import quote

import pytest
import requests

from utils.fake_im import IMClient

PANEL = "/webhooks/assist"
LIN = {"buyer_id": "buyer_tg_lin", "shop_id": "demo_tmall_global", "platform": "tmall_global"}
CREAM = "4012873365920117364"
COUNTERFEIT = "你们卖的面霜是假货吧？防伪码都查不到，我要退货"


def agent(bot, name: str = "小王") -> dict:
    return {"Authorization": f"Bearer {bot.panel_token}", "X-Anxin-Agent": quote(name)}


def api(bot, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(method, f"{bot.base_url}{PANEL}/api/{path}", timeout=60, **kwargs)


def conversation(bot, conversation_id: str, name: str = "小王") -> dict:
    response = api(bot, "GET", "conversation", params={"id": conversation_id}, headers=agent(bot, name))
    assert response.status_code == 200, response.text[:300]
    return response.json()


def queue(bot) -> list:
    response = api(bot, "GET", "queue", headers=agent(bot))
    assert response.status_code == 200, response.text[:300]
    return response.json()["items"]


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def counterfeit_handoff(bot) -> str:
    sender = new_id("panel-fake")
    answer = bot.say(sender, COUNTERFEIT, metadata=LIN).json()  # her only cream order, by its name
    assert any("优先转接人工客服" in m.get("text", "") for m in answer), answer
    return sender


# ------------------------------------------------------------------ who gets in

PROTECTED = [
    ("GET", "/", None), ("GET", "/panel.js", None), ("GET", "/panel.css", None),
    ("GET", "/analytics", None), ("GET", "/api/queue", None),
    ("GET", "/api/conversation?id=x", None), ("POST", "/api/takeover", {"conversation_id": "x"}),
    ("POST", "/api/handback", {"conversation_id": "x"}),
    ("POST", "/api/reply", {"conversation_id": "x", "text": "hi"}),
    ("POST", "/api/reject", {"conversation_id": "x", "suggestion": "s"}),
]


@pytest.mark.parametrize("method, path, body", PROTECTED)
def test_nothing_answers_without_the_token(running_bot, method, path, body) -> None:
    url = f"{running_bot.base_url}{PANEL}{path}"
    for headers in ({}, {"Authorization": "Bearer wrong-token-000000000"},
                    {"Authorization": f"Basic {running_bot.panel_token}"},
                    {"Cookie": "anxin_agent=eGlhb3dhbmc.9999999999.00ff"}):
        response = requests.request(method, url, json=body, headers=headers, timeout=30)
        assert response.status_code == 401, (path, headers, response.status_code)
        assert "小王" not in response.text and "buyer_" not in response.text


@pytest.mark.parametrize("method, path, body", PROTECTED)
def test_a_token_in_the_query_string_is_refused_even_when_right(running_bot, method, path, body) -> None:
    separator = "&" if "?" in path else "?"
    for key in ("token", "access_token"):
        url = f"{running_bot.base_url}{PANEL}{path}{separator}{key}={running_bot.panel_token}"
        response = requests.request(method, url, json=body, timeout=30)
        assert response.status_code == 401, (url, response.status_code)
    # …also when the request is otherwise authenticated: the URL must not carry it.
    url = f"{running_bot.base_url}{PANEL}/api/queue?token={running_bot.panel_token}"
    assert requests.get(url, headers=agent(running_bot), timeout=30).status_code == 401


def test_the_login_page_says_401_and_sets_a_strict_httponly_cookie(running_bot) -> None:
    page = requests.get(f"{running_bot.base_url}{PANEL}/", timeout=30)
    assert page.status_code == 401 and 'name="token"' in page.text
    session = requests.Session()
    wrong = session.post(f"{running_bot.base_url}{PANEL}/login",
                         data={"token": "not-the-token-123456", "agent": "小王"}, allow_redirects=False, timeout=30)
    assert wrong.status_code == 401 and "令牌不对" in wrong.text and not session.cookies
    no_name = session.post(f"{running_bot.base_url}{PANEL}/login",
                           data={"token": running_bot.panel_token, "agent": "<script>"}, allow_redirects=False,
                           timeout=30)
    assert no_name.status_code == 400 and "<script>" not in no_name.text
    ok = session.post(f"{running_bot.base_url}{PANEL}/login",
                      data={"token": running_bot.panel_token, "agent": "小王"}, allow_redirects=False, timeout=30)
    assert ok.status_code == 303 and ok.headers["Location"] == f"{PANEL}/"
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and f"Path={PANEL}/" in cookie
    assert running_bot.panel_token not in cookie
    assert session.get(f"{running_bot.base_url}{PANEL}/", timeout=30).status_code == 200
    assert session.get(f"{running_bot.base_url}{PANEL}/api/queue", timeout=30).json()["agent"] == "小王"
    # A cookie whose name was changed no longer matches its signature.
    value = session.cookies.get("anxin_agent")
    forged = "6ICB5p2_" + value[value.index("."):]
    assert requests.get(f"{running_bot.base_url}{PANEL}/api/queue", cookies={"anxin_agent": forged},
                        timeout=30).status_code == 401
    session.post(f"{running_bot.base_url}{PANEL}/logout", timeout=30)
    assert session.get(f"{running_bot.base_url}{PANEL}/api/queue", timeout=30).status_code == 401


def test_the_analytics_page_takes_a_date_range_and_refuses_bad_dates(running_bot) -> None:
    url = f"{running_bot.base_url}{PANEL}/analytics"
    page = requests.get(url, headers=agent(running_bot), timeout=120)
    assert page.status_code == 200 and page.text.count('src="data:image/png;base64,') == 7
    for bad in ({"from": "2026-13-01"}, {"from": "2026-11-30", "to": "2026-11-01"}, {"to": "昨天"}):
        refused = requests.get(url, params=bad, headers=agent(running_bot), timeout=60)
        assert refused.status_code == 400, bad
        assert 'role="alert"' in refused.text and "<script" not in refused.text


# ------------------------------------------------------------------ the queue


def test_the_queue_puts_handoffs_first_then_threats_then_deadlines(running_bot) -> None:
    approved = new_id("panel-approve")
    running_bot.say(approved, f"我要退货，订单{CREAM}，不想要了", metadata=LIN)
    threat = new_id("panel-threat")
    running_bot.say(threat, f"我要退货，订单{CREAM}，不想要了", metadata=LIN)
    calmed = running_bot.say(threat, "再不给我退我就去12315投诉你们", metadata=LIN).json()
    assert calmed, "the bot answered the threat"
    handed = counterfeit_handoff(running_bot)

    items = queue(running_bot)
    bands = [item["band"] for item in items]
    assert bands == sorted(bands, key=["handed_off", "escalation", "deadline"].index)
    by_id = {item["conversation_id"]: item for item in items}
    assert by_id[handed]["band"] == "handed_off" and by_id[handed]["priority"] == "high"
    assert by_id[handed]["reason"] == "counterfeit_claim" and by_id[handed]["paused"] is True
    assert by_id[threat]["band"] == "escalation"
    assert by_id[approved]["band"] == "deadline" and by_id[approved]["verdict"] == "approve"
    # The countdown is the seller-response timer (24 h: the shop's own promise).
    assert 23 * 3600 < by_id[approved]["seconds_left"] <= 24 * 3600
    assert by_id[handed]["last_message"] == COUNTERFEIT and by_id[handed]["buyer_id"] == "buyer_tg_lin"
    high = [item for item in items if item["band"] == "handed_off"]
    assert [item["priority"] for item in high] == sorted(
        (item["priority"] for item in high), key=lambda p: p != "high")


# ------------------------------------------------------------------ one conversation


def test_the_conversation_view_has_the_verdict_its_rules_and_a_suggestion(running_bot) -> None:
    sender = counterfeit_handoff(running_bot)
    view = conversation(running_bot, sender)
    assert view["paused"] is True and view["can_push"] is False  # REST cannot push
    assert [line["who"] for line in view["transcript"]][:2] == ["buyer", "bot"]
    assert view["transcript"][0]["text"] == COUNTERFEIT
    nlu = view["understanding"]
    assert nlu["intent"] == "request_return" and 0 < nlu["confidence"] <= 1
    assert len(nlu["alternatives"]) == 3 and all(a["intent"] != "request_return" for a in nlu["alternatives"])
    assert {"entity": "reason", "value": "counterfeit_suspected"} in [
        {"entity": e["entity"], "value": e["value"]} for e in nlu["entities"]]
    assert view["order"]["order_id"] == CREAM and view["order"]["status"] == "已签收"
    verdict = view["verdict"]
    assert verdict["verdict"] == "handoff" and verdict["reason_words"] == "质疑正品"
    rules = {rule["rule_id"]: rule for rule in verdict["rules"]}
    # Tmall Global cites Taobao's dispute rules (they serve Tmall Global); the agent reads
    # that the seller's documents go to the platform.
    assert "TG.COUNTERFEIT_EVIDENCE" in rules
    assert "向平台提供" in rules["TG.COUNTERFEIT_EVIDENCE"]["note"]
    assert "《淘宝平台争议处理规则》" in [s["title"] for s in rules["TG.COUNTERFEIT_EVIDENCE"]["sources"]]
    assert view["handoff"]["priority"] == "high" and view["handoff"]["answer_by"]
    suggestion = view["suggestion"]
    assert suggestion.startswith("亲，您好，我是安心海外旗舰店的客服小王。")
    assert CREAM in suggestion and "《淘宝平台争议处理规则》" in suggestion
    # Documents go to the platform; customs papers are never offered to the buyer as proof.
    assert "提交给平台" in suggestion and "报关单" not in suggestion


def test_an_approved_request_suggests_the_bots_own_answer(running_bot) -> None:
    sender = new_id("panel-approved")
    answer = running_bot.say(sender, f"我要退货，订单{CREAM}，不想要了", metadata=LIN).json()
    bot_text = next(m["text"] for m in answer if "同意退货" in m.get("text", ""))
    view = conversation(running_bot, sender, name="Amy")
    assert view["paused"] is False and view["handoff"] is None
    assert view["verdict"]["verdict_words"] == "同意"
    assert view["suggestion"] == "亲，您好，我是安心海外旗舰店的客服Amy。" + bot_text


def test_reply_pauses_the_bot_records_the_choice_and_hand_back_resumes(running_bot) -> None:
    sender = new_id("panel-reply")
    running_bot.say(sender, f"我要退货，订单{CREAM}，不想要了", metadata=LIN)
    view = conversation(running_bot, sender)
    sent = api(running_bot, "POST", "reply", headers=agent(running_bot),
               json={"conversation_id": sender, "text": view["suggestion"], "suggestion": view["suggestion"],
                     "decision_id": view["decision_id"]})
    assert sent.status_code == 200, sent.text
    assert sent.json()["choice"] == "accepted" and sent.json()["delivered"] is False

    # The bot stays silent while the agent has the conversation…
    assert running_bot.say(sender, "好的，我这就寄回", metadata=LIN).json() == []
    view = conversation(running_bot, sender)
    assert view["paused"] is True and view["handoff"]["reason"] == "agent_takeover"
    assert view["handoff"]["taken_by"] == "小王"
    lines = view["transcript"]
    agent_line = next(line for line in lines if line["who"] == "agent")
    assert agent_line["agent"] == "小王" and agent_line["text"] == view["suggestion"].strip()
    assert lines[-1]["who"] == "buyer" and lines[-1]["text"] == "好的，我这就寄回"

    edited = api(running_bot, "POST", "reply", headers=agent(running_bot),
                 json={"conversation_id": sender, "text": "收到，我们会尽快处理。", "suggestion": view["suggestion"]})
    assert edited.json()["choice"] == "edited"
    rejected = api(running_bot, "POST", "reject", headers=agent(running_bot),
                   json={"conversation_id": sender, "suggestion": view["suggestion"]})
    assert rejected.status_code == 200
    choices = conversation(running_bot, sender)["choices"]
    assert [(c["agent"], c["choice"]) for c in choices] == [
        ("小王", "accepted"), ("小王", "edited"), ("小王", "rejected")]
    assert choices[2]["text"] is None

    back = api(running_bot, "POST", "handback", headers=agent(running_bot), json={"conversation_id": sender})
    assert back.status_code == 200 and back.json()["handoffs_closed"] == 1
    assert running_bot.say(sender, "你好", metadata=LIN).json(), "the bot answers again"
    assert sender not in {item["conversation_id"] for item in queue(running_bot)}


def test_take_over_claims_the_bots_handoff(running_bot) -> None:
    sender = counterfeit_handoff(running_bot)
    taken = api(running_bot, "POST", "takeover", headers=agent(running_bot, "Lee"),
                json={"conversation_id": sender})
    assert taken.status_code == 200
    item = next(i for i in queue(running_bot) if i["conversation_id"] == sender)
    assert item["taken_by"] == "Lee" and item["reason"] == "counterfeit_claim"
    # Still one handoff: hand back closes exactly it.
    back = api(running_bot, "POST", "handback", headers=agent(running_bot, "Lee"), json={"conversation_id": sender})
    assert back.json()["handoffs_closed"] == 1


@pytest.mark.parametrize(
    "path, body, status",
    [
        ("reply", {"conversation_id": "no-such-conversation", "text": "hi"}, 404),
        ("reply", {"conversation_id": "", "text": "hi"}, 400),
        ("reply", {"text": "hi"}, 400),
        ("reply", {"conversation_id": "x" * 300, "text": "hi"}, 400),
        ("reply", ["not", "an", "object"], 400),
        ("takeover", {"conversation_id": 42}, 400),
        ("reject", {"conversation_id": "no-such-conversation"}, 400),
    ],
)
def test_bad_requests_get_a_clear_4xx(running_bot, path, body, status) -> None:
    response = api(running_bot, "POST", path, headers=agent(running_bot), json=body)
    assert response.status_code == status, response.text
    assert response.json()["message"]


def test_empty_or_huge_replies_and_non_json_bodies_are_refused(running_bot) -> None:
    sender = new_id("panel-bad")
    running_bot.say(sender, "你好", metadata=LIN)
    for text in ("", "   ", "字" * 2001, 17):
        response = api(running_bot, "POST", "reply", headers=agent(running_bot),
                       json={"conversation_id": sender, "text": text})
        assert response.status_code == 400, text
    raw = api(running_bot, "POST", "reply", headers={**agent(running_bot), "Content-Type": "application/json"},
              data=b"\xff\xfe{not json")
    assert raw.status_code == 400
    assert conversation(running_bot, sender)["paused"] is False  # nothing half-done


def test_an_agent_reply_reaches_an_im_buyer_through_the_signed_outbox(running_bot, fake_im_platform) -> None:
    buyer = new_id("imbuyer")
    client = IMClient(running_bot, fake_im_platform)
    assert client.push(buyer, "转人工", shop_id="demo_tmall_global", platform="tmall_global").status_code == 200
    bot_replies = len(fake_im_platform.wait_for(buyer, 1))
    conversation_id = f"im:tmall_global:demo_tmall_global:{buyer}"
    view = conversation(running_bot, conversation_id)
    assert view["can_push"] is True and view["buyer"]["channel"] == "im" and view["paused"] is True
    text = "您好，我是客服小王，请问有什么可以帮您？"
    sent = api(running_bot, "POST", "reply", headers=agent(running_bot),
               json={"conversation_id": conversation_id, "text": text})
    assert sent.json()["delivered"] is True
    sends = fake_im_platform.wait_for(buyer, bot_replies + 1)
    last = sends[-1]
    assert last["valid"] and last["body"]["text"] == text and last["body"]["reply_to"] == "panel"
    assert last["body"]["shop_id"] == "demo_tmall_global"
    # While the agent has it, the buyer's next push is logged but not answered by the bot.
    assert client.push(buyer, "好的", shop_id="demo_tmall_global", platform="tmall_global").status_code == 200
    time.sleep(1.5)
    assert len(fake_im_platform.sends_to(buyer)) == bot_replies + 1
    assert conversation(running_bot, conversation_id)["transcript"][-1]["text"] == "好的"
