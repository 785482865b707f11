"""Domain and training data keep the contracts of DESIGN.md and POLICY.md."""

from __future__ import annotations

import collections
import re

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from conftest import PROJECT_ROOT

DESIGN_INTENTS = {
    "request_refund", "request_return", "request_exchange", "complain_quality",
    "ask_logistics", "ask_policy", "threaten_escalation", "request_human",
    "inform_order", "greet", "goodbye", "thank", "affirm", "deny", "out_of_scope",
}
CORE_INTENTS = {
    "request_refund", "request_return", "request_exchange", "complain_quality",
    "ask_logistics", "threaten_escalation",
}
FORBIDDEN_PHRASES = ["拆封不退", "最终解释权归本店", "海关正品", "100%免税"]


@pytest.fixture(scope="module")
def intent_counts() -> collections.Counter:
    data = load_data(str(PROJECT_ROOT / "data" / "nlu"))
    return collections.Counter(example.get("intent") for example in data.intent_examples)


def all_reply_texts(domain: dict) -> list:
    texts = [v.get("text", "") for variations in domain["responses"].values() for v in variations]
    questions = yaml.safe_load((PROJECT_ROOT / "actions" / "affirmation_questions.yml").read_text("utf-8"))
    return texts + list(questions["questions"].values())


def test_domain_has_exactly_the_design_intents(domain) -> None:
    assert set(domain["intents"]) == DESIGN_INTENTS


def test_design_entities_are_declared(domain) -> None:
    assert set(domain["entities"]) >= {"order_id", "product", "reason", "days", "amount"}


def test_sessions_expire(domain) -> None:
    assert domain["session_config"]["session_expiration_time"] > 0


@pytest.mark.parametrize("name", ["utter_greet", "utter_goodbye", "utter_thank",
                                  "utter_out_of_scope", "utter_handoff",
                                  "utter_ask_rephrase", "utter_offer_human"])
def test_required_responses_exist_in_chinese(domain, name: str) -> None:
    for variation in domain["responses"][name]:
        assert re.search(r"[\u4e00-\u9fff]", variation["text"])


def test_replies_never_use_forbidden_phrases(domain) -> None:
    for text in all_reply_texts(domain):
        for phrase in FORBIDDEN_PHRASES:
            assert phrase not in text, (phrase, text)


def test_replies_address_the_buyer_politely(domain) -> None:
    for name, variations in domain["responses"].items():
        if name.startswith("utter_part_"):
            continue  # a part of a decision reply, never sent on its own
        for variation in variations:
            assert re.search(r"亲|您|抱歉|谢谢|好的", variation["text"]), name


def test_offer_of_a_human_leads_to_request_human(domain) -> None:
    payloads = [b["payload"] for b in domain["responses"]["utter_offer_human"][0]["buttons"]]
    assert "/request_human" in payloads


def test_core_intents_have_at_least_80_examples(intent_counts) -> None:
    assert {i: intent_counts[i] for i in CORE_INTENTS if intent_counts[i] < 80} == {}


def test_other_intents_have_at_least_30_examples(intent_counts) -> None:
    rest = DESIGN_INTENTS - CORE_INTENTS
    assert {i: intent_counts[i] for i in rest if intent_counts[i] < 30} == {}


def test_no_example_is_labelled_with_two_intents() -> None:
    data = load_data(str(PROJECT_ROOT / "data" / "nlu"))
    seen = {}
    clashes = []
    for example in data.intent_examples:
        key = re.sub(r"[\W_]+", "", example.get("text")).lower()
        if key in seen and seen[key] != example.get("intent"):
            clashes.append((example.get("text"), seen[key], example.get("intent")))
        seen[key] = example.get("intent")
    assert clashes == []


def test_assistant_id_is_fixed() -> None:
    config = yaml.safe_load((PROJECT_ROOT / "config.yml").read_text("utf-8"))
    assert config["language"] == "zh"
    assert config["assistant_id"] and config["assistant_id"] != "placeholder_default"
