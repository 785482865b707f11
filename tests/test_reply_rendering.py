"""Every reply the bot can send about the demo orders, rendered as the buyer reads it.

For each demo order, request type, reason, with and without a photo and with and
without a threat, the decision is put into words exactly as the action server
does (``bot.conversation.replies``) and filled into its ``domain.yml`` response.
POLICY.md section 4 then holds for the finished text, not just the templates:
no forbidden phrase (the filled-in rule notes and shop addresses included), no
placeholder left unfilled, polite address, and the rule cited.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from typing import Dict, List

import pytest
import yaml

from bot.conversation import replies
from bot.conversation.desk import AfterSalesDesk, Outcome
from bot.rules.decide import decide
from bot.rules.model import AfterSalesRequest
from bot.rules.vocabulary import REASONS, REQUESTS
from conftest import PROJECT_ROOT
from test_domain_and_data import FORBIDDEN_PHRASES
from utils.rules_db import DATA_DIR, NOW, demo_desk

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@pytest.fixture(scope="module")
def responses() -> Dict[str, str]:
    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {name: variations[0]["text"] for name, variations in domain["responses"].items()}


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> AfterSalesDesk:
    """The demo rule base and orders, loaded at the fixed test time."""
    return demo_desk(tmp_path_factory)


def demo_order_ids() -> List[str]:
    orders = yaml.safe_load((DATA_DIR / "demo" / "orders.yml").read_text(encoding="utf-8"))
    return [str(order["order_id"]) for order in orders["orders"]]


def render(reply: replies.Reply, responses: Dict[str, str]) -> str:
    """Fill a response as Rasa does; fail on a missing response or placeholder."""
    assert reply.response in responses, f"{reply.response} is not in domain.yml"
    template = responses[reply.response]
    missing = set(PLACEHOLDER.findall(template)) - set(reply.params)
    assert not missing, (reply.response, missing)
    return PLACEHOLDER.sub(lambda match: str(reply.params[match.group(1)]), template)


def check(text: str) -> None:
    for phrase in FORBIDDEN_PHRASES:
        assert phrase not in text, (phrase, text)
    assert "{" not in text and "}" not in text, text
    assert re.search(r"亲|您", text), text
    assert "None" not in text, text


def all_outcomes(desk: AfterSalesDesk):
    """Every (order, request, reason, photo, threat) combination on the demo data."""
    for order_id in demo_order_ids():
        view = desk.find_order(order_id, None)
        rules = desk.rules_for(view.shop_id, view.platform)
        for request, reason, photo, threat in itertools.product(
            REQUESTS, REASONS, (False, True), (False, True)
        ):
            asked = AfterSalesRequest(
                platform=view.platform, request=request, reason=reason,
                evidence=("https://img.example.invalid/p.jpg",) if photo else (),
                escalation=threat,
            )
            decision = decide(asked, view.order, rules, NOW)
            yield Outcome(decision, asked, view, rules, 0, NOW)


def test_every_decision_on_the_demo_data_renders_politely_and_completely(desk, responses) -> None:
    seen = set()
    for outcome in all_outcomes(desk):
        rendered = [render(reply, responses) for reply in replies.decision_replies(outcome)]
        for text in rendered:
            check(text)
        if outcome.decision.verdict == "need_evidence":
            rendered = [render(replies.evidence_request(outcome.request.reason, outcome.rules), responses)]
            check(rendered[0])
        assert rendered, outcome.decision
        if outcome.decision.verdict in ("approve", "decline") and outcome.decision.rule_ids:
            assert any("依据" in text for text in rendered) or "cancel_unpaid" in outcome.decision.notes \
                or outcome.decision.decline_reason == "already_refunded", rendered
        seen.add((outcome.decision.verdict, outcome.decision.decline_reason,
                  outcome.decision.handoff_reason))
    # The demo data reaches every verdict and every decline and handoff reason the
    # bot can reach without a threat or a low-confidence guess.
    assert {verdict for verdict, _, _ in seen} == {"approve", "need_evidence", "decline", "handoff"}
    assert {d for _, d, _ in seen if d} == {
        "window_expired", "statutory_excluded", "confirmed_excluded", "not_intact",
        "no_seven_day_label", "already_refunded", "needs_return"}
    assert {h for _, _, h in seen if h} >= {
        "counterfeit_claim", "health_safety", "escalation_threat", "beyond_quality_window",
        "partial_refund", "delivery_dispute", "buyer_asked"}


def test_unknown_orders_render_too(desk, responses) -> None:
    rules = desk.rules_for(None, "tmall")
    decision = decide(AfterSalesRequest("tmall", "return", "no_reason"), None, rules, NOW)
    outcome = Outcome(decision, AfterSalesRequest("tmall", "return", "no_reason"), None, rules, 0, NOW)
    [text] = [render(reply, responses) for reply in replies.decision_replies(outcome)]
    check(text)


def test_a_threat_adds_calm_words_but_the_same_outcome_text(desk, responses) -> None:
    outcome = next(o for o in all_outcomes(desk)
                   if o.decision.decline_reason == "window_expired" and not o.request.escalation)
    angry = dataclasses.replace(outcome, request=dataclasses.replace(outcome.request, escalation=True))
    calm_texts = [render(r, responses) for r in replies.decision_replies(outcome)]
    angry_texts = [render(r, responses) for r in replies.decision_replies(angry)]
    assert angry_texts[1:] == calm_texts and "心情" in angry_texts[0]


def test_policy_logistics_and_handoff_replies_render_for_every_shop(desk, responses) -> None:
    for order_id in demo_order_ids():
        view = desk.find_order(order_id, None)
        rules = desk.rules_for(view.shop_id, view.platform)
        check(render(replies.policy_reply(rules, view.shop_name), responses))
        check(render(replies.logistics_reply(view, rules), responses))
        handoff = desk.hand_off(conversation_id=f"render-{order_id}", reason="buyer_asked",
                                decision_id=None, channel="rest", shop_id=view.shop_id,
                                platform=view.platform)
        check(render(replies.handoff_reply(handoff, rules), responses))
