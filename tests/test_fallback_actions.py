"""The Chinese two-stage fallback actions, run on tracker fixtures."""

from __future__ import annotations

import yaml
from rasa_sdk import Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.fallback import (
    QUESTIONS_FILE,
    ActionDefaultAskAffirmation,
    ActionDefaultFallback,
    intent_to_affirm,
)

QUESTIONS = yaml.safe_load(QUESTIONS_FILE.read_text(encoding="utf-8"))


def tracker_after(parse_data: dict) -> Tracker:
    """A tracker whose latest user message parsed as `parse_data`."""
    return Tracker.from_dict(
        {
            "sender_id": "buyer-1",
            "slots": {},
            "latest_message": parse_data,
            "events": [{"event": "user", "text": parse_data.get("text", ""), "parse_data": parse_data}],
            "paused": False,
            "followup_action": None,
            "active_loop": {"name": "action_two_stage_fallback"},
            "latest_action_name": "action_listen",
        }
    )


def fallback_parse(*ranking: tuple) -> dict:
    return {
        "text": "这个咋弄",
        "intent": {"name": "nlu_fallback", "confidence": 0.3},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.3}]
        + [{"name": name, "confidence": confidence} for name, confidence in ranking],
    }


def test_best_guess_skips_the_fallback_intent() -> None:
    assert intent_to_affirm(fallback_parse(("request_return", 0.28), ("request_refund", 0.2))) == "request_return"


def test_no_guess_when_only_the_fallback_is_ranked() -> None:
    assert intent_to_affirm(fallback_parse()) is None


async def test_affirmation_asks_in_chinese_with_yes_and_no_buttons() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultAskAffirmation().run(
        dispatcher, tracker_after(fallback_parse(("request_exchange", 0.25))), {}
    )
    assert events == []
    [message] = dispatcher.messages
    assert message["text"] == QUESTIONS["questions"]["request_exchange"]
    assert message["buttons"] == [
        {"title": QUESTIONS["buttons"]["confirm"], "payload": "/request_exchange"},
        {"title": QUESTIONS["buttons"]["reject"], "payload": "/out_of_scope"},
    ]


async def test_affirmation_without_a_guess_asks_to_rephrase() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultAskAffirmation().run(dispatcher, tracker_after(fallback_parse()), {})
    assert events == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_ask_rephrase"]


async def test_final_fallback_offers_a_human_and_reverts_the_message() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionDefaultFallback().run(dispatcher, tracker_after(fallback_parse()), {})
    assert events == [UserUtteranceReverted()]
    assert [m["response"] for m in dispatcher.messages] == ["utter_offer_human"]


def test_every_domain_intent_has_a_question(domain) -> None:
    assert set(domain["intents"]) <= set(QUESTIONS["questions"])
