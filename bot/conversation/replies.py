"""Which ``domain.yml`` response answers a decision, and the facts that fill it in.

The wording lives in ``domain.yml`` (one response per outcome, so a shop can
reword without touching code); this module only picks the response and computes
its parameters: dates in the platform's time zone, who pays the return postage,
where to send the parcel, the rule cited in plain words, the customs window.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Dict, List, Optional, Sequence

from bot.conversation.desk import Handoff, OrderView, Outcome, timezone_of
from bot.rules.decide import window_end
from bot.rules.model import Decision, RuleSet

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
CONDITION_WORDS = {
    "used": "商品已经使用过",
    "tags_removed": "吊牌已经剪掉",
    "seal_broken": "一次性密封包装已经拆开",
    "activated": "商品已经激活",
}
REMEDY_WORDS = {
    "return": "退货退款",
    "exchange": "换货",
    "refund": "退款",
    "quality_complaint": "退货退款、换货或补发（您选一种就好）",
}
# Rules that are bookkeeping, not reasons: never quoted to the buyer.
UNCITED_KEYS = ("timezone", "seller_response", "unshipped_refund_response", "return_confirm")
MAX_CITATIONS = 2
CITATION = re.compile(r"《[^》]{2,40}》(?:第[一二三四五六七八九十百零0-9、]+条)?")


@dataclasses.dataclass(frozen=True)
class Reply:
    """A response name of ``domain.yml`` and the values of its placeholders."""

    response: str
    params: Dict[str, str] = dataclasses.field(default_factory=dict)


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
    """A timer rule in words: ``48小时`` or ``2个工作日``."""
    rule = rules[key]
    unit = "个工作日" if rule.unit == "working_days" else "小时"
    return f"{number(rule.value)}{unit}"


def citation(rules: RuleSet, rule_ids: Sequence[str]) -> str:
    """The rules a decision rests on, in plain words (``《消费者权益保护法》第二十五条``).

    Law rows quote the act and article from their note; a platform row is
    "<平台>规则"; a shop promise is "本店承诺". At most two, in the order the
    decision applied them (the law first, then the platform or shop rule).
    """
    by_id = {rule.rule_id: rule for rule in rules.rules.values()}
    found: List[str] = []
    for rule_id in rule_ids:
        rule = by_id.get(rule_id)
        if rule is None or rule.key in UNCITED_KEYS or not rule.note:
            continue
        if rule.note.startswith("本店承诺"):
            names = ["本店承诺"]
        else:
            names = CITATION.findall(rule.note)[:1]
            if not names and "：" in rule.note:
                names = [rule.note.split("：", 1)[0] + "规则"]
        for name in names:
            if name not in found:
                found.append(name)
    return "、".join(found[:MAX_CITATIONS]) or "平台售后规则"


def order_title(view: OrderView) -> str:
    """A button title for an order: number, item and status."""
    item = view.order.category or "商品"
    return f"{view.order.order_id}（{item}，{STATUS_WORDS.get(view.order.status, '')}）"


# Pieces of a reply -------------------------------------------------------------


def return_address(view: Optional[OrderView], rules: RuleSet) -> str:
    """Where the parcel goes: the shop's address, else the platform's default route."""
    if view is not None and view.return_address:
        return view.return_address
    route = str(rules["return_address"].value)
    if route == "platform_reverse_logistics":
        return "在订单页提交退货后由平台安排上门取件（Lazada 逆向物流），不用自己找快递"
    if route == "domestic_return_hub":
        return "我们在境内的退货仓（具体地址在订单页的退货申请里显示，不需要寄往境外）"
    return "订单页退货申请里显示的店铺退货地址"


def payer_sentence(decision: Decision) -> str:
    """Who pays the return leg, in one sentence."""
    sentences = {
        "insurance": "这单买了运费险，寄回运费由运费险赔付，退货完成后会自动理赔到您的账户。",
        "buyer": "寄回的运费需要您先承担。",
        "seller": "来回运费都由我们承担，您先垫付的运费我们会补给您。",
    }
    text = sentences.get(decision.shipping_payer, "")
    if "buyer_pays_outbound" in decision.notes:
        text += "另外这单不是包邮，原来的发货运费不在退款范围内。"
    if "buyer_pays_both_legs" in decision.notes:
        text = "无理由换货的来回运费需要您承担。"
    return text


def customs_sentence(outcome: Outcome) -> str:
    """The 30/45-day customs window of bonded and direct-mail returns, or ''."""
    if "customs_tax_window" not in outcome.decision.notes or outcome.order is None:
        return ""
    window = outcome.rules["customs_tax_window"].value or {}
    apply_days, arrive_days = window.get("apply_days", 30), window.get("arrive_days", 45)
    released = outcome.order.order.customs_released_at
    if released is None:
        return (
            f"这单是跨境商品：请在清关放行后{apply_days}天内申请、{arrive_days}天内把商品寄回，"
            "这样已缴的跨境税款不会收取，会随退款一起退回。"
        )
    apply_by = when(released + dt.timedelta(days=apply_days), outcome.rules)
    arrive_by = when(released + dt.timedelta(days=arrive_days), outcome.rules)
    return (
        f"这单是跨境商品：请在{apply_by}前申请、{arrive_by}前把商品寄回，"
        "这样已缴的跨境税款不会收取，会随退款一起退回。"
    )


def quality_route(outcome: Outcome) -> str:
    """After a decline: until when the quality route stays open, in one sentence."""
    view = outcome.order
    if view is None:
        return "如果商品有质量问题，告诉我们，我们按质量问题为您处理。"
    end = window_end(outcome.rules["quality_window"], view.order, timezone_of(outcome.rules))
    if end is not None and outcome.now >= end:
        return "如果商品有质量问题，可以转人工客服为您核实维修或更换。"
    until = f"在{when(end, outcome.rules)}前" if end else ""
    return f"如果商品有质量问题，{until}都可以按质量问题申请售后，来回运费由我们承担。"


def confirm_sentence(outcome: Outcome) -> str:
    """How soon the refund follows the returned parcel (the platform timer)."""
    return f"我们签收退货后会在{duration(outcome.rules, 'return_confirm')}内确认并为您退款。"


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
        replies.append(main)
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
        params = {**base, "quality_route": quality_route(outcome)}
        if decision.decline_reason == "window_expired" and view is not None:
            end = window_end(outcome.rules["no_reason_window"], view.order, timezone_of(outcome.rules))
            params["window_end"] = when(end, outcome.rules)
        if decision.decline_reason == "not_intact" and view is not None:
            params["condition"] = CONDITION_WORDS.get(view.order.condition, "商品已不完好")
        if view is not None:
            params["category"] = view.order.category or "这类商品"
        return Reply(f"utter_decline_{decision.decline_reason}", params)
    reason = decision.handoff_reason
    if reason == "buyer_asked":
        note = "change_before_shipping" if "change_before_shipping" in decision.notes else "wait_for_delivery"
        return Reply(f"utter_handoff_{note}", base)
    if reason == "beyond_quality_window" and view is not None:
        end = window_end(outcome.rules["quality_window"], view.order, timezone_of(outcome.rules))
        return Reply("utter_handoff_beyond_quality_window", {**base, "quality_end": when(end, outcome.rules)})
    if reason == "missing_facts":
        missing = "签收时间" if "signing_time_unknown" in decision.notes else "商品页面是否带「七天无理由退货」标识"
        return Reply("utter_handoff_missing_facts", {**base, "missing": missing})
    if reason == "excluded_item":
        category = view.order.category if view is not None and view.order.category else "定制或生鲜类商品"
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
        return Reply("utter_approve_intercept", base)
    if "refund_keep_item" in notes:
        amount = request.requested_amount or 0
        return Reply("utter_approve_refund_keep", {**base, "amount": f"{amount:g}"})
    params = {
        **base,
        "return_address": return_address(view, outcome.rules),
        "payer": payer_sentence(decision),
        "confirm": confirm_sentence(outcome),
        "customs": customs_sentence(outcome),
        "remedy": REMEDY_WORDS[request.request],
    }
    if decision.shipping_payer == "seller":
        return Reply("utter_approve_quality", params)
    if request.request == "exchange":
        return Reply("utter_approve_exchange", params)
    if view is not None:
        end = window_end(outcome.rules["no_reason_window"], view.order, timezone_of(outcome.rules))
        params["window_end"] = when(end, outcome.rules)
    return Reply("utter_approve_return", params)


def evidence_request(reason: Optional[str], rules: RuleSet) -> Reply:
    """Ask for photos (and an unboxing video for missing parts or transit damage)."""
    video = reason in ("missing_parts", "damaged_in_transit")
    proof = "能看清问题的照片和开箱视频" if video else "几张能看清问题的照片"
    law = rules.get("law_quality_evidence")
    return Reply(
        "utter_ask_evidence",
        {"proof": proof, "citation": citation(rules, [law.rule_id] if law else [])},
    )


def handoff_reply(handoff: Handoff, rules: RuleSet) -> Reply:
    """Tell the buyer a person takes over, and by when they will answer."""
    response = "utter_handoff_priority" if handoff.priority == "high" else "utter_handoff"
    return Reply(response, {"answer_by": when(handoff.answer_by, rules)})


def policy_reply(rules: RuleSet, shop_name: Optional[str]) -> Reply:
    """The shop's after-sales rules in a few lines, from the rule set itself."""
    window = rules["no_reason_window"]
    start = "签收后" if window.counted_from == "delivery_time" else "签收次日零点起"
    label = (
        "，以商品页面的「七天无理由退货」标识为准"
        if rules["seven_day_label_required"].value
        else ""
    )
    quality = rules["quality_window"]
    quality_start = {
        "completed_else_signed": "确认收货（交易成功）后",
        "day_after_signing": "签收次日起",
        "delivery_time": "签收后",
    }.get(quality.counted_from, "签收后")
    customs = rules.get("customs_tax_window")
    customs_text = ""
    if customs is not None and customs.value:
        customs_text = (
            f"跨境商品请在清关放行后{customs.value.get('apply_days', 30)}天内申请退货，"
            "按时寄回的，已缴税款不收取。"
        )
    ids = [window.rule_id, quality.rule_id]
    if rules.get("law_no_reason_return"):
        ids.insert(0, rules["law_no_reason_return"].rule_id)
    return Reply(
        "utter_policy_answer",
        {
            "shop": shop_name or f"{PLATFORM_NAMES.get(rules.platform, '')}店铺",
            "window": f"{start}{number(window.value)}天内",
            "label": label,
            "quality": f"{quality_start}{number(quality.value)}天内",
            "timer": duration(rules, "seller_response"),
            "customs": customs_text,
            "citation": citation(rules, ids),
        },
    )


def logistics_reply(view: OrderView, rules: RuleSet) -> Reply:
    """Where the order is, from its status (the order system is the source)."""
    order = view.order
    params = {"order_id": order.order_id, "item": order.category or "商品"}
    if order.status in ("signed", "completed"):
        params["signed"] = when(order.signed_at, rules)
    return Reply(f"utter_logistics_{order.status}", params)
