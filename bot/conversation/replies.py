"""Which ``domain.yml`` response answers a decision, and the facts that fill it in.

All wording lives in ``domain.yml``: one response per outcome and remedy (return
and refund, exchange, reship, repair, compensation, intercept, …), and the parts
those responses are assembled from (``utter_part_*``: who pays the return parcel,
the customs conditions, the quality route after a decline, …), so a shop can
reword without touching code. This module only picks the response and computes
its parameters from the decision: dates in the platform's time zone, durations
from rule rows, the rules cited in plain words.

POLICY.md section 4 is built in: a part is chosen from what the decision holds
(the return leg, the approved remedy, the customs dates), never promised beyond
it. A platform outside PRC law (Lazada) reads the variant of a response named
``<response>_<platform>`` where ``domain.yml`` has one: its own policy's wording,
never PRC law, 七天无理由 or 运费险.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from typing import Dict, List, Optional, Sequence

import yaml

from bot.conversation.desk import Handoff, OrderView, Outcome, timezone_of
from bot.rules.decide import effective_condition, window_end
from bot.rules.model import Decision, RuleSet
from bot.rules.sources import quotes
from bot.settings import PROJECT_ROOT

DOMAIN_FILE = PROJECT_ROOT / "domain.yml"
PLATFORM_NAMES = {
    "tmall_global": "天猫国际",
    "tmall": "天猫",
    "taobao": "淘宝",
    "jd_international": "京东国际",
    "lazada": "Lazada",
}
STATUS_WORDS = {
    "unpaid": "待付款",
    "paid_unshipped": "待发货",
    "shipped": "运输中",
    "signed": "已签收",
    "completed": "交易成功",
    "closed": "已关闭",
}
# Rules that are bookkeeping, not reasons: never quoted to the buyer.
UNCITED_KEYS = (
    "timezone",
    "seller_response",
    "unshipped_refund_response",
    "return_confirm",
    "urgent_response",
)
MAX_CITATIONS = 2
SHOP_PROMISE = "本店承诺"
# Nothing the decision applied names a public document: the shop's own rules.
OWN_RULES = "本店售后规范"
PART_PREFIX = "utter_part_"
# The approval response of each approved quality remedy (``remedy_*`` notes).
QUALITY_APPROVALS = {
    "remedy_return_refund": "utter_approve_quality",
    "remedy_exchange": "utter_approve_quality_exchange",
    "remedy_reship": "utter_approve_quality_reship",
    "remedy_repair": "utter_approve_quality_repair",
    "offer_return_exchange_reship": "utter_approve_quality_choice",
}
PLATFORM_PICKUP = "platform_reverse_logistics"


@dataclasses.dataclass(frozen=True)
class Reply:
    """A response name of ``domain.yml`` and the values of its placeholders."""

    response: str
    params: Dict[str, str] = dataclasses.field(default_factory=dict)


# Wording from domain.yml ---------------------------------------------------------


@functools.lru_cache(maxsize=1)
def response_texts() -> Dict[str, str]:
    """The first text of every ``domain.yml`` response, read once."""
    domain = yaml.safe_load(DOMAIN_FILE.read_text(encoding="utf-8"))
    return {
        name: variations[0]["text"]
        for name, variations in domain["responses"].items()
        if variations and variations[0].get("text")
    }


def part(name: str, **params: object) -> str:
    """A reply part (``utter_part_<name>``) with its placeholders filled in."""
    return response_texts()[PART_PREFIX + name].format(**params)


def for_platform(response: str, rules: RuleSet) -> str:
    """The platform's own variant of a response (``<response>_lazada``), if it has one."""
    variant = f"{response}_{rules.platform}"
    return variant if variant in response_texts() else response


# Formatting ------------------------------------------------------------------


def when(moment: Optional[dt.datetime], rules: RuleSet) -> str:
    """``11月28日 00:00`` in the platform's time zone."""
    if moment is None:
        return "尽快"
    local = moment.astimezone(timezone_of(rules))
    return f"{local.month}月{local.day}日 {local:%H:%M}"


def number(value: object) -> str:
    """7 → ``7``, 7.0 → ``7``, 1.5 → ``1.5``."""
    return f"{float(value):g}"


def duration(rules: RuleSet, key: str) -> str:
    """A timer rule in words: ``48小时`` or ``2个工作日`` (``utter_part_hours`` …)."""
    rule = rules[key]
    return part(str(rule.unit), n=number(rule.value))


def citation(rules: RuleSet, rule_ids: Sequence[str]) -> str:
    """The rules a decision rests on, in plain words (``《消费者权益保护法》第二十五条``).

    A rule row is quoted by the 《document》 and article its note opens with (the
    loader only accepts a note quoting the row's own sources, and the rule set
    holds only rows valid for its platform); a shop promise is "本店承诺"; rows of
    the shop's procedure or with no public document are not quoted. At most two,
    in the order the decision applied them.
    """
    by_id = {rule.rule_id: rule for rule in rules.rules.values()}
    found: List[str] = []
    for rule_id in rule_ids:
        rule = by_id.get(rule_id)
        if rule is None or rule.key in UNCITED_KEYS:
            continue
        names = [SHOP_PROMISE] if rule.scope == "shop" else list(quotes(rule.note)[:1])
        for name in names:
            if name not in found:
                found.append(name)
    return "、".join(found[:MAX_CITATIONS]) or OWN_RULES


def order_title(view: OrderView) -> str:
    """A button title for an order: number, item and status."""
    item = view.order.category or "商品"
    return f"{view.order.order_id}（{item}，{STATUS_WORDS.get(view.order.status, '')}）"


# Parts of a reply -------------------------------------------------------------


def _route(rules: RuleSet) -> str:
    return str(rules["return_address"].value)


def return_address(view: Optional[OrderView], rules: RuleSet) -> str:
    """Where the parcel goes: the shop's address, else the platform's default route."""
    if view is not None and view.return_address and _route(rules) != PLATFORM_PICKUP:
        return view.return_address
    return part(f"address_{_route(rules)}")


def payer_sentence(decision: Decision) -> str:
    """Who pays the return leg of a no-reason return, in the decision's own terms."""
    if "buyer_pays_both_legs" in decision.notes:
        return part("payer_buyer_both_legs")
    text = part(f"payer_{decision.shipping_payer}")
    if "buyer_pays_outbound" in decision.notes:
        text += part("outbound_not_refunded")
    return text


def shipping_sentence(outcome: Outcome) -> str:
    """How the item goes back and who pays, for approvals that send something back."""
    if _route(outcome.rules) == PLATFORM_PICKUP:
        return part("apply_for_pickup")
    address = return_address(outcome.order, outcome.rules)
    return payer_sentence(outcome.decision) + part("send_back", address=address)


def customs_sentence(outcome: Outcome) -> str:
    """The customs conditions for the cross-border tax (never a return window), or ''.

    Before the apply-by date the conditions are stated with their dates; once it
    has passed, no promise about the tax is made (POLICY.md section 2).
    """
    if "customs_tax_window" not in outcome.decision.notes or outcome.order is None:
        return ""
    window = outcome.rules["customs_tax_window"].value
    apply_days, arrive_days = window["apply_days"], window["arrive_days"]
    released = outcome.order.order.customs_released_at
    if released is None:
        return part("customs_days", apply_days=apply_days, arrive_days=arrive_days)
    apply_by = released + dt.timedelta(days=apply_days)
    if outcome.now >= apply_by:
        return part("customs_passed", apply_days=apply_days)
    arrive_by = released + dt.timedelta(days=arrive_days)
    return part(
        "customs_dates",
        apply_by=when(apply_by, outcome.rules),
        arrive_by=when(arrive_by, outcome.rules),
    )


def quality_route(outcome: Outcome) -> str:
    """After a decline: until when the quality route stays open, in one sentence."""
    view = outcome.order
    if view is None:
        return part("quality_open")
    end = window_end(outcome.rules["quality_window"], view.order, timezone_of(outcome.rules))
    if end is None:
        return part("quality_open")
    if outcome.now >= end:
        return part("quality_closed")
    return part("quality_until", quality_end=when(end, outcome.rules))


def confirm_sentence(outcome: Outcome) -> str:
    """How soon the refund follows the returned parcel (the platform timer)."""
    return part("refund_after_return", duration=duration(outcome.rules, "return_confirm"))


# Replies ------------------------------------------------------------------------


def decision_replies(outcome: Outcome) -> List[Reply]:
    """What the bot says about a decision, in order (empty for ``need_evidence``).

    ``need_evidence`` is put into words by the evidence form's question
    (``evidence_request``), so that a re-ask after an interruption says the same.
    An escalation adds de-escalation wording; the handoff message itself comes
    from ``handoff_reply`` once the handoff is recorded.
    """
    decision = outcome.decision
    replies: List[Reply] = []
    if "deescalate" in decision.notes or outcome.request.escalation:
        replies.append(Reply("utter_deescalate_calm"))
    main = _main_reply(outcome)
    if main is not None:
        replies.append(Reply(for_platform(main.response, outcome.rules), main.params))
    return replies


def _main_reply(outcome: Outcome) -> Optional[Reply]:
    decision, view = outcome.decision, outcome.order
    base = {
        "order_id": view.order.order_id if view else "",
        "citation": citation(outcome.rules, decision.rule_ids),
        "deadline": when(decision.deadline, outcome.rules),
    }
    if decision.verdict == "need_evidence":
        return None
    if decision.verdict == "approve":
        return _approval(outcome, base)
    if decision.verdict == "decline":
        return _decline(outcome, base)
    return _handoff(outcome, base)


def _decline(outcome: Outcome, base: Dict[str, str]) -> Reply:
    decision, view = outcome.decision, outcome.order
    params = {**base, "quality_route": quality_route(outcome)}
    if view is not None:
        params["category"] = view.order.category or part("this_category")
    if decision.decline_reason == "window_expired" and view is not None:
        end = window_end(outcome.rules["no_reason_window"], view.order, timezone_of(outcome.rules))
        params["window_end"] = when(end, outcome.rules)
    if decision.decline_reason == "not_intact" and view is not None:
        condition = effective_condition(view.order, outcome.request.stated_condition)
        said = "stated" if "buyer_stated_condition" in decision.notes else "recorded"
        params["condition_said"] = part(f"condition_{said}", condition=part(f"condition_{condition}"))
    return Reply(f"utter_decline_{decision.decline_reason}", params)


def _handoff(outcome: Outcome, base: Dict[str, str]) -> Reply:
    decision, view = outcome.decision, outcome.order
    reason = decision.handoff_reason
    if reason == "buyer_asked":
        note = "change_before_shipping" if "change_before_shipping" in decision.notes else "wait_for_delivery"
        return Reply(f"utter_handoff_{note}", base)
    if reason == "beyond_quality_window" and view is not None:
        end = window_end(outcome.rules["quality_window"], view.order, timezone_of(outcome.rules))
        return Reply("utter_handoff_beyond_quality_window", {**base, "quality_end": when(end, outcome.rules)})
    if reason == "missing_facts":
        missing = "signing" if "signing_time_unknown" in decision.notes else "label"
        return Reply(f"utter_handoff_missing_{missing}", base)
    if reason == "excluded_item" and view is not None:
        category = view.order.category or part("this_category")
        return Reply("utter_handoff_excluded_item", {**base, "category": category})
    return Reply(f"utter_handoff_{reason}", base)


def _approval(outcome: Outcome, base: Dict[str, str]) -> Reply:
    decision, request, view = outcome.decision, outcome.request, outcome.order
    notes = decision.notes
    if "cancel_unpaid" in notes:
        return Reply("utter_approve_cancel_unpaid", base)
    if "cancel_and_refund" in notes:
        return Reply("utter_approve_cancel_refund", base)
    if "intercept_or_refuse" in notes:
        outbound = part("outbound_not_refunded") if "buyer_pays_outbound" in notes else ""
        return Reply("utter_approve_intercept", {**base, "outbound": outbound})
    if "refund_keep_item" in notes:
        return Reply("utter_approve_refund_keep", {**base, "amount": number(request.requested_amount)})
    quality = next((QUALITY_APPROVALS[n] for n in notes if n in QUALITY_APPROVALS), None)
    quality_rule = outcome.rules.get("quality_return")
    if quality_rule is not None and quality_rule.rule_id in decision.rule_ids:  # a defect approved
        reason = outcome.request.reason if outcome.request.reason != "no_reason" else "quality"
        params = {
            **base,
            "problem": part(f"problem_{reason}"),
            "shipping": shipping_sentence(outcome),
            "confirm": confirm_sentence(outcome),
            "customs": customs_sentence(outcome),
        }
        return Reply(quality or "utter_approve_quality", params)
    if "remedy_exchange" in notes:
        return Reply("utter_approve_exchange", {**base, "shipping": shipping_sentence(outcome)})
    params = {
        **base,
        "return_address": return_address(view, outcome.rules),
        "payer": payer_sentence(decision),
        "confirm": confirm_sentence(outcome),
        "customs": customs_sentence(outcome),
    }
    if view is not None:
        end = window_end(outcome.rules["no_reason_window"], view.order, timezone_of(outcome.rules))
        params["window_end"] = when(end, outcome.rules)
    return Reply("utter_approve_return", params)


def evidence_request(reason: Optional[str], rules: RuleSet) -> Reply:
    """Ask for photos or a video (an unboxing video for missing parts or transit damage)."""
    video = reason in ("missing_parts", "damaged_in_transit")
    rule = rules.get("quality_evidence")
    return Reply(
        for_platform("utter_ask_evidence_video" if video else "utter_ask_evidence", rules),
        {"citation": citation(rules, [rule.rule_id] if rule else [])},
    )


def handoff_reply(handoff: Handoff, rules: RuleSet) -> Reply:
    """Tell the buyer a person takes over, and by when they will answer."""
    response = "utter_handoff_priority" if handoff.priority == "high" else "utter_handoff"
    return Reply(response, {"answer_by": when(handoff.answer_by, rules)})


def policy_reply(rules: RuleSet, shop_name: Optional[str]) -> Reply:
    """The shop's after-sales rules in a few lines, from the rule set itself."""
    window = rules["no_reason_window"]
    quality = rules["quality_window"]
    customs = rules.get("customs_tax_window")
    customs_text = ""
    if customs is not None:
        customs_text = part("customs_policy", **customs.value)
    label = part("label_required") if rules["seven_day_label_required"].value else ""
    ids = [rules["no_reason_return"].rule_id, window.rule_id, quality.rule_id]
    return Reply(
        for_platform("utter_policy_answer", rules),
        {
            "shop": shop_name or part("platform_shop", platform=PLATFORM_NAMES[rules.platform]),
            "window": _within(window.counted_from, window.value),
            "label": label,
            "quality": _within(quality.counted_from, quality.value),
            "timer": duration(rules, "seller_response"),
            "customs": customs_text,
            "citation": citation(rules, ids),
        },
    )


def _within(counted_from: Optional[str], days: object) -> str:
    """``签收次日零点起7天内``: a window's start and length in words."""
    return part("within_days", start=part(f"start_{counted_from}"), n=number(days))


def logistics_reply(view: OrderView, rules: RuleSet) -> Reply:
    """Where the order is, from its status (the order system is the source)."""
    order = view.order
    params = {"order_id": order.order_id, "item": order.category or "商品"}
    if order.status in ("signed", "completed"):
        params["signed"] = when(order.signed_at, rules)
    return Reply(f"utter_logistics_{order.status}", params)
