"""The reply audit: every reply the bot can send about the demo orders, on every platform.

Every demo order (``data/demo/orders.yml``) is put on each of the five platforms (its
own, with its shop's rule set; the other four, in that platform's demo shop), and for
every request × reason × evidence (none, a photo, a video) × remedy named (none or
each of ``vocabulary.REMEDIES``) × threat the decision is put into words exactly as
the action server does (``bot.conversation.replies``), with the handoff message when
a person takes over and the photo request when evidence is needed. Each finished
text is checked by ``utils.reply_audit.ReplyAuditor`` (POLICY.md sections 2-4):
citations valid for the platform only, no PRC law / 七天无理由 / 运费险 for Lazada,
no refund in an exchange or reship approval, no free postage on a buyer-paid leg,
no automatic claim, no time without a rule row, no unfilled placeholder, no
forbidden phrase or near variant. The policy, logistics and suggested agent replies
of every shop are audited too. Zero findings, and the count is printed.
"""

from __future__ import annotations

import dataclasses
import itertools
import pathlib
from typing import Dict, Iterator, List, Optional, Tuple

import pytest
import yaml

from bot.assist import suggestions
from bot.conversation import followups, handoffs, replies
from bot.conversation.desk import AfterSalesDesk, Handoff, OrderView, Outcome, promised_answer
from bot.rules import db
from bot.rules.decide import decide
from bot.rules.model import AfterSalesRequest, RuleSet
from bot.rules.schema import Shop
from bot.rules.sources import project_sources
from bot.rules.vocabulary import PLATFORMS, REASONS, REMEDIES, REQUESTS, URGENT_HANDOFF_REASONS
from utils.reply_audit import ReplyAuditor, render
from utils.rules_db import DATA_DIR, NOW, load_demo_database

PHOTO = ("https://img.example.invalid/crack.jpg",)
VIDEO = ("https://img.example.invalid/unboxing.mp4",)
EVIDENCE = ((), PHOTO, VIDEO)
COMPENSATION_ASKED = 15.0
MIN_RENDERINGS = 5000


@pytest.fixture(scope="module")
def desk(tmp_path_factory) -> AfterSalesDesk:
    """The demo rule base and orders loaded at the fixed ``NOW``."""
    path = load_demo_database(tmp_path_factory.mktemp("audit"))
    return AfterSalesDesk(f"sqlite:///{path}", clock=lambda: NOW)


@pytest.fixture(scope="module")
def auditor() -> ReplyAuditor:
    return ReplyAuditor(project_sources())


def demo_shops(desk: AfterSalesDesk) -> Dict[str, Shop]:
    """Each platform's demo shop (``demo_<platform>``)."""
    with db.session_scope(desk.url) as session:
        shops = {platform: session.get(Shop, f"demo_{platform}") for platform in PLATFORMS}
        session.expunge_all()
    return shops


def homes(desk: AfterSalesDesk) -> Iterator[Tuple[OrderView, RuleSet]]:
    """Every demo order in its own shop, and re-homed in the other platforms' demo shops."""
    shops = demo_shops(desk)
    orders = yaml.safe_load((DATA_DIR / "demo" / "orders.yml").read_text(encoding="utf-8"))["orders"]
    for row in orders:
        own = desk.find_order(str(row["order_id"]), None)
        yield own, desk.rules_for(own.shop_id, own.platform)
        for platform, shop in shops.items():
            if platform != own.platform:
                view = dataclasses.replace(own, shop_id=shop.shop_id, shop_name=shop.name,
                                           platform=platform, return_address=shop.return_address)
                yield view, desk.rules_for(shop.shop_id, platform)


def handoff_for(outcome: Outcome) -> Optional[Handoff]:
    """The handoff ``action_handoff`` would record after this decision, if any."""
    decision = outcome.decision
    if not decision.handoff_reason:
        return None
    threat = "deescalate" in decision.notes
    answer_by = promised_answer(outcome.rules, outcome.now, deadline=decision.deadline,
                                urgent=threat or decision.handoff_reason in URGENT_HANDOFF_REASONS)
    priority = "high" if threat or decision.handoff_reason in handoffs.HIGH_PRIORITY_REASONS else "normal"
    return Handoff(0, decision.handoff_reason, priority, answer_by)


def buyer_texts(outcome: Outcome) -> Tuple[List[str], Optional[Handoff]]:
    """What the buyer reads after this decision, in order."""
    texts = [render(reply) for reply in replies.decision_replies(outcome)]
    if outcome.decision.verdict == "need_evidence":
        texts.append(render(replies.evidence_request(outcome.request.reason, outcome.rules)))
    handoff = handoff_for(outcome)
    if handoff is not None:
        texts.append(render(replies.handoff_reply(handoff, outcome.rules)))
    return texts, handoff


def all_outcomes(desk: AfterSalesDesk) -> Iterator[Outcome]:
    for view, rules in homes(desk):
        for request, reason, evidence, remedy, threat in itertools.product(
            REQUESTS, REASONS, EVIDENCE, (None, *REMEDIES), (False, True)
        ):
            asked = AfterSalesRequest(
                platform=rules.platform, request=request, reason=reason, evidence=evidence,
                escalation=threat, remedy=remedy,
                requested_amount=COMPENSATION_ASKED if remedy == "compensation" else None,
            )
            yield Outcome(decide(asked, view.order, rules, NOW), asked, view, rules, 0, NOW)


def test_every_decision_reply_on_every_platform_passes_the_audit(desk, auditor, capsys) -> None:
    renderings, findings, seen = 0, [], set()
    checked: Dict[tuple, List[str]] = {}
    for outcome in all_outcomes(desk):
        texts, handoff = buyer_texts(outcome)
        assert texts, outcome.decision
        decision = outcome.decision
        # The same words for the same decision facts are audited once.
        key = (tuple(texts), outcome.rules.platform, decision.shipping_payer, decision.notes,
               decision.handoff_reason, outcome.request.reason, decision.deadline,
               handoff.answer_by if handoff else None)
        if key not in checked:
            checked[key] = auditor.findings(texts, outcome, handoff.answer_by if handoff else None)
        findings += checked[key]
        renderings += 1
        seen.add((outcome.rules.platform, decision.verdict, decision.decline_reason or decision.handoff_reason))
    with capsys.disabled():
        print(f"\nreply audit: {renderings} renderings ({len(checked)} distinct), {len(findings)} findings")
    assert renderings >= MIN_RENDERINGS
    assert findings == [], "\n".join(findings[:20])
    # Every platform reaches approvals, declines, handoffs and photo requests.
    for platform in PLATFORMS:
        assert {verdict for p, verdict, _ in seen if p == platform} == {
            "approve", "need_evidence", "decline", "handoff"}, platform


def test_follow_up_answers_from_every_decision_pass_the_audit(desk, auditor, capsys) -> None:
    """多久到账, 上门取件吗, 运费险怎么赔 … answered from each stored decision (bot.conversation.followups)."""
    renderings, findings, answered = 0, [], set()
    for outcome in all_outcomes(desk):
        request, decision = outcome.request, outcome.decision
        # A follow-up depends on the decision, the order's shop and the request's remedy and amount.
        key = (outcome.order.shop_id, outcome.rules.platform, outcome.order.order.order_id, decision,
               request.request, request.remedy, request.requested_amount)
        if request.escalation or key in answered:
            continue
        answered.add(key)
        handoff = handoff_for(outcome)
        texts = [render(replies.Reply(*followups.followup_reply(topic, outcome)))
                 for topic in (None, *followups.TOPICS)]
        for text in texts:
            findings += auditor.findings([text], outcome, handoff.answer_by if handoff else None, follow_up=True)
        renderings += len(texts)
    with capsys.disabled():
        print(f"\nreply audit (follow-up answers): {renderings} renderings, {len(findings)} findings")
    assert renderings >= MIN_RENDERINGS
    assert findings == [], "\n".join(findings[:20])


def test_policy_logistics_and_suggested_replies_of_every_shop_pass_the_audit(desk, auditor, capsys) -> None:
    from rasa.shared.core.domain import Domain

    domain = Domain.load(str(pathlib.Path(replies.DOMAIN_FILE)))
    findings, renderings = [], 0
    for view, rules in homes(desk):
        decision = decide(AfterSalesRequest(rules.platform, "return", "no_reason"), view.order, rules, NOW)
        outcome = Outcome(decision, AfterSalesRequest(rules.platform, "return", "no_reason"), view, rules, 0, NOW)
        texts = [(render(replies.policy_reply(rules, view.shop_name)), None),
                 (render(replies.logistics_reply(view, rules)), None)]
        for reason in (*handoffs.HIGH_PRIORITY_REASONS, "buyer_asked", "missing_facts", "excluded_item",
                       "partial_refund", "delivery_dispute", "beyond_quality_window", "unknown_order"):
            answer_by = promised_answer(rules, NOW, urgent=reason in URGENT_HANDOFF_REASONS, deadline=None)
            handoff_facts = suggestions.HandoffFacts(1, "c", reason, "normal", NOW, answer_by, "rest", None, None)
            suggested = suggestions.suggest(domain=domain, decision=None, handoff=handoff_facts, order=view,
                                            rules=rules, shop=view.shop_name, agent="小王")
            assert suggested.startswith(f"亲，您好，我是{view.shop_name}的客服小王。"), suggested
            texts.append((suggested, answer_by))
        # No decision behind these texts: nothing is promised, no urgent timer is due.
        neutral = dataclasses.replace(outcome, decision=dataclasses.replace(
            decision, notes=(), shipping_payer="none", handoff_reason=None))
        for text, answer_by in texts:
            findings += auditor.findings([text], neutral, answer_by)
            renderings += 1
    with capsys.disabled():
        print(f"\nreply audit (policy, logistics, agent suggestions): {renderings} renderings, {len(findings)} findings")
    assert findings == [], "\n".join(findings[:20])


def test_unknown_orders_pass_the_audit_on_every_platform(desk, auditor) -> None:
    for platform in PLATFORMS:
        rules = desk.rules_for(None, platform)
        asked = AfterSalesRequest(platform, "return", "no_reason")
        outcome = Outcome(decide(asked, None, rules, NOW), asked, None, rules, 0, NOW)
        texts, handoff = buyer_texts(outcome)
        assert outcome.decision.handoff_reason == "unknown_order"
        assert auditor.findings(texts, outcome, handoff.answer_by) == []


def test_a_threat_adds_calm_words_but_the_same_outcome_text(desk) -> None:
    view = desk.find_order("3398127465503318829", None)
    rules = desk.rules_for(view.shop_id, view.platform)
    calm, angry = (AfterSalesRequest("tmall", "return", "no_reason", escalation=threat) for threat in (False, True))
    calm_texts = [render(r) for r in replies.decision_replies(Outcome(decide(calm, view.order, rules, NOW),
                                                                      calm, view, rules, 0, NOW))]
    angry_texts = [render(r) for r in replies.decision_replies(Outcome(decide(angry, view.order, rules, NOW),
                                                                       angry, view, rules, 0, NOW))]
    assert angry_texts[1:] == calm_texts and "心情" in angry_texts[0]


# The auditor itself: each check finds what it is for (so zero findings means something).

BAD_REPLIES = {
    "free postage on a buyer leg": ("亲，寄回运费不用您承担。", "buyer"),
    "automatic claim": ("亲，退货完成后会自动理赔到您的账户。", "insurance"),
    "tax refunded": ("亲，已缴的跨境税款会随退款一起退回。", "buyer"),
    "time with no rule": ("亲，一般1-3个工作日原路到账。", "buyer"),
    "duration with no rule": ("亲，我们会在5个工作日内处理。", "buyer"),
    "unfilled placeholder": ("亲，请在{window_end}前申请。", "buyer"),
    "customs papers as proof": ("亲，我们会提供报关单给您看。", "none"),
    "forbidden phrase": ("亲，本商品拆封不退。", "none"),
    "another platform's citation": ("亲，依据：《京东开放平台交易纠纷处理总则》第九条。", "buyer"),
    "a deadline from nothing": ("亲，请在尽快前提交申请。", "buyer"),
}


@pytest.mark.parametrize("case", sorted(BAD_REPLIES))
def test_the_auditor_finds_each_kind_of_broken_promise(desk, auditor, case) -> None:
    text, payer = BAD_REPLIES[case]
    view = desk.find_order("3398127465503318820", None)
    rules = desk.rules_for(view.shop_id, view.platform)
    asked = AfterSalesRequest("tmall", "return", "no_reason")
    decision = dataclasses.replace(decide(asked, view.order, rules, NOW), shipping_payer=payer)
    assert auditor.findings([text], Outcome(decision, asked, view, rules, 0, NOW)) != []


def test_the_auditor_finds_prc_wording_for_lazada_and_a_refund_in_an_exchange(desk, auditor) -> None:
    view = desk.find_order("LZSG24A7K3M9Q1", None)
    rules = desk.rules_for(view.shop_id, view.platform)
    asked = AfterSalesRequest("lazada", "exchange", "quality", PHOTO, remedy="exchange")
    outcome = Outcome(decide(asked, view.order, rules, NOW), asked, view, rules, 0, NOW)
    assert "remedy_exchange" in outcome.decision.notes
    assert auditor.findings(["亲，依据《消费者权益保护法》第二十五条，可以七天无理由退货。"], outcome) != []
    assert auditor.findings(["亲，您买了运费险。"], outcome) != []
    assert auditor.findings(["亲，我们同意为您换货，收到后为您退款。"], outcome) != []
