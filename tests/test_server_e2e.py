"""End to end: the real Rasa server and action server, started as `make run` does.

Messages go over REST exactly as a local client sends them; replies are compared
with the responses in domain.yml and the fallback question table.
"""

from __future__ import annotations

import re
import subprocess
import sys

import requests
import yaml

from conftest import PROJECT_ROOT


def texts(response: requests.Response) -> list:
    """Bot texts from a REST webhook response."""
    assert response.status_code == 200, response.text[:500]
    return [message.get("text") for message in response.json()]


def response_texts(domain: dict, name: str) -> list:
    """All variations of one domain response."""
    return [variation["text"] for variation in domain["responses"][name]]


def affirmation_questions() -> list:
    table = yaml.safe_load((PROJECT_ROOT / "actions" / "affirmation_questions.yml").read_text("utf-8"))
    return list(table["questions"].values())


def test_greeting_is_answered_with_the_greeting(running_bot, domain) -> None:
    assert texts(running_bot.say("e2e-greet", "你好呀")) == response_texts(domain, "utter_greet")


def handed_off(replies: list) -> bool:
    """One reply: the handoff message with a concrete answer-by time."""
    return len(replies) == 1 and re.fullmatch(
        r"已为您转接人工客服，客服会在\d+月\d+日 \d\d:\d\d前回复您.*", replies[0]
    ) is not None


def test_asking_for_a_human_is_handed_off_with_an_answer_time(running_bot) -> None:
    assert handed_off(texts(running_bot.say("e2e-human", "转人工客服，谢谢")))


def test_traditional_chinese_and_full_width_text_is_understood(running_bot, domain) -> None:
    replies = texts(running_bot.say("e2e-trad", "我要申請退款，訂單還沒發貨"))
    assert replies == response_texts(domain, "utter_ask_order_id")


def test_gibberish_goes_to_the_two_stage_fallback(running_bot, domain) -> None:
    first = texts(running_bot.say("e2e-gibberish", "qwxz zzkv ppth"))
    fallback_texts = affirmation_questions() + response_texts(domain, "utter_ask_rephrase")
    assert len(first) == 1 and first[0] in fallback_texts


def test_two_misunderstandings_in_a_row_offer_a_human(running_bot, domain) -> None:
    sender = "e2e-fallback-twice"
    assert texts(running_bot.say(sender, "qwxz zzkv ppth")) == response_texts(domain, "utter_ask_rephrase")
    assert texts(running_bot.say(sender, "bbbzzq xxqvv")) == response_texts(domain, "utter_offer_human")
    # The offer's "转人工客服" button sends /request_human.
    assert handed_off(texts(running_bot.say(sender, "/request_human")))


def test_twenty_thousand_characters_get_a_polite_reply(running_bot) -> None:
    rant = ("东西一直没到，客服也不回，" * 1600)[:19_990] + "我要退款"
    assert len(rant) == 20_000 - 6
    replies = texts(running_bot.say("e2e-long", rant))
    assert replies and all(reply for reply in replies)


def test_empty_and_odd_messages_never_give_a_server_error(running_bot) -> None:
    for body in ({"sender": "e2e-odd", "message": ""},
                 {"sender": "e2e-odd", "message": "   \u200b\u3000 "},
                 {"sender": "e2e-odd", "message": "😡😡😡"},
                 {"sender": "e2e-odd", "message": "\x00\x07 退款"},
                 {"sender": "e2e-odd", "message": "退款\ud800"}):
        response = requests.post(f"{running_bot.base_url}/webhooks/rest/webhook", json=body, timeout=60)
        assert response.status_code < 500, (body, response.status_code, response.text[:300])


def test_http_api_requires_the_token(running_bot) -> None:
    assert requests.get(f"{running_bot.base_url}/status", timeout=10).status_code == 401
    ok = requests.get(f"{running_bot.base_url}/status", params={"token": running_bot.token}, timeout=10)
    assert ok.status_code == 200 and ok.json()["model_file"].endswith("anxin.tar.gz")


def test_a_second_launcher_on_busy_ports_refuses_to_start(running_bot) -> None:
    started = subprocess.run(
        [sys.executable, "-m", "bot.serve", "--port", str(running_bot.ports[0]),
         "--actions-port", str(running_bot.ports[1])],
        cwd=PROJECT_ROOT, env=running_bot.env, capture_output=True, text=True, timeout=60,
    )
    assert started.returncode == 1
    assert f"port {running_bot.ports[0]}" in started.stderr and "already in use" in started.stderr
    assert "Anxin is up" not in started.stdout
