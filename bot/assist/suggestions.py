"""The reply the panel suggests to the agent who takes a conversation over.

Two cases. When the bot decided the request (approve, decline, need evidence) and
the buyer still wants a person, the suggestion is the bot's own answer in the
shop's ``domain.yml`` wording, so agent and bot never contradict each other.
When the decision itself was "a person must look" (counterfeit claim, partial
refund, …), it is the next step for that reason from ``suggestions.yml``, with
the decision's rules cited in plain words. Either way it starts with a greeting
that names the shop and the agent, and the agent may edit it before sending.
"""

from __future__ import annotations

import dataclasses
import functools
import pathlib
from typing import Any, Dict, List, Optional

import yaml
from rasa.core.nlg.interpolator import interpolate_text
from rasa.shared.core.domain import Domain

from bot.assist.agent_desk import TAKEOVER_REASON, DecisionFacts, HandoffFacts
from bot.conversation.desk import OrderView, Outcome
from bot.conversation.replies import (
    OWN_RULES,
    Reply,
    citation,
    decision_replies,
    evidence_request,
    when,
)
from bot.rules.model import AfterSalesRequest, Decision, RuleSet

SUGGESTIONS_FILE = pathlib.Path(__file__).with_name("suggestions.yml")
ORDER_BLANK = "【订单号】"


@functools.lru_cache(maxsize=1)
def templates() -> Dict[str, Any]:
    """``suggestions.yml``, read once, each text's lines joined (Chinese needs no spaces)."""
    data = yaml.safe_load(SUGGESTIONS_FILE.read_text(encoding="utf-8"))
    return {
        "greeting": _joined(data["greeting"]),
        "handoff": {reason: _joined(text) for reason, text in data["handoff"].items()},
    }


def _joined(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines())


def render(domain: Domain, reply: Reply) -> str:
    """A ``domain.yml`` response's first text variation with its parameters filled in."""
    variations = domain.responses.get(reply.response) or []
    text = next((v["text"] for v in variations if v.get("text")), "")
    return interpolate_text(text, dict(reply.params)) if text else ""


def _outcome(decision: DecisionFacts, order: Optional[OrderView], rules: RuleSet) -> Outcome:
    fields = {f.name for f in dataclasses.fields(AfterSalesRequest)}
    request = {key: value for key, value in decision.request.items() if key in fields}
    request["evidence"] = tuple(request.get("evidence") or ())
    return Outcome(
        decision=Decision(
            verdict=decision.verdict,
            shipping_payer=decision.shipping_payer,
            decline_reason=decision.decline_reason,
            handoff_reason=decision.handoff_reason,
            rule_ids=tuple(decision.rule_ids),
            deadline=decision.deadline,
            notes=tuple(decision.notes),
        ),
        request=AfterSalesRequest(**request),
        order=order,
        rules=rules,
        decision_id=decision.decision_id,
        now=decision.created_at,
    )


def _bot_answer(
    domain: Domain, decision: DecisionFacts, order: Optional[OrderView], rules: RuleSet
) -> str:
    if decision.verdict == "need_evidence":
        replies: List[Reply] = [evidence_request(decision.request.get("reason"), rules)]
    else:
        replies = decision_replies(_outcome(decision, order, rules))
    return "".join(render(domain, reply) for reply in replies)


def suggest(
    *,
    domain: Domain,
    decision: Optional[DecisionFacts],
    handoff: Optional[HandoffFacts],
    order: Optional[OrderView],
    rules: RuleSet,
    shop: str,
    agent: str,
) -> str:
    """The suggested reply for the conversation's state.

    Args:
        domain: the bot's domain (the shop's wording of each verdict).
        decision: the conversation's latest decision, if any.
        handoff: its open handoff, if a person has it.
        order: the order the decision was about, if known.
        rules: the rule set the decision used.
        shop: the shop's display name.
        agent: the agent's display name.
    """
    greeting = templates()["greeting"].format(shop=shop, agent=agent)
    reason = handoff.reason if handoff is not None else None
    if reason in (None, TAKEOVER_REASON) and decision is not None:
        if decision.verdict != "handoff":
            answer = _bot_answer(domain, decision, order, rules)
            if answer:
                return greeting + answer
        else:
            reason = decision.handoff_reason
    by_reason = templates()["handoff"]
    template = by_reason.get(reason or TAKEOVER_REASON) or by_reason[TAKEOVER_REASON]
    answer_by = (handoff.answer_by if handoff else None) or (decision.deadline if decision else None)
    return template.format(
        greeting=greeting,
        order_id=(order.order.order_id if order else None)
        or (decision.order_id if decision else None)
        or ORDER_BLANK,
        citation=citation(rules, decision.rule_ids) if decision else OWN_RULES,
        answer_by=when(answer_by, rules),
    )
