"""Answers to questions about a decision already taken: 多久到账, 上门取件吗, 寄到哪.

POLICY.md §4: a follow-up question gets the answer to the question asked, from
the decision already made, not the whole ruling again; and the dates quoted are
the ones stored with the decision. :func:`followup_topic` recognises the question
(phrases in ``followups.yml`` beside this file); :func:`followup_reply` picks the
``domain.yml`` response for that topic and for what the decision holds: nothing
to send back (an unshipped order cancelled, a parcel intercepted, a compensation,
a reship), an item to send back (return, exchange, repair), or nothing settled
yet (photos awaited, a person looking, a decline).
"""

from __future__ import annotations

import functools
import pathlib
from typing import Dict, List, Optional, Tuple

import yaml

from bot.conversation.desk import Outcome
from bot.conversation.replies import customs_sentence, duration, return_address, when
from bot.nlu.text_normalizer import to_half_width, to_simplified

FOLLOWUPS_FILE = pathlib.Path(__file__).with_name("followups.yml")
TOPICS = ("refund", "refuse", "insurance", "pickup", "address", "postage", "tax", "timing")
# What the approval holds, from the decision's notes (first match).
NO_RETURN_NOTES = {
    "cancel_and_refund": "cancel",
    "cancel_unpaid": "cancel",
    "intercept_or_refuse": "intercept",
    "refund_keep_item": "compensation",
    "remedy_reship": "reship",
}
REMEDY_WORDS = {
    "return": "退货退款",
    "exchange": "换货",
    "reship": "补发",
    "repair": "维修",
    "cancel": "取消订单并退款",
    "intercept": "拦截退款",
    "compensation": "补偿",
    "offer": "退货退款、换货或补发（您选一种）",
}
PENDING_WORDS = {
    "need_evidence": "收到问题照片（或视频）后我们马上为您确认处理方式",
    "handoff": "人工客服正在跟进，会尽快回复您",
    "decline": "这次的申请没能按原来的方式办理，需要的话可以转人工客服为您看看其他办法",
}


@functools.lru_cache(maxsize=1)
def topic_phrases() -> Dict[str, Tuple[str, ...]]:
    """Topic → phrases, loaded once."""
    raw = yaml.safe_load(FOLLOWUPS_FILE.read_text(encoding="utf-8"))
    return {topic: tuple(raw[topic]) for topic in TOPICS}


def followup_topics(text: str) -> List[str]:
    """The follow-up questions the message asks, in ``TOPICS`` order ("用什么快递 运费谁出": two).

    Words a topic matched are used up, so the generic "多久" inside "多久到账" does not add a
    second, vaguer question to the refund one.
    """
    compact = "".join(to_simplified(to_half_width(text or "")).lower().split())
    used = [False] * len(compact)
    topics = []
    for topic, phrases in topic_phrases().items():
        spans = [(start, start + len(phrase)) for phrase in phrases
                 for start in _occurrences(compact, phrase)]
        free = [(a, b) for a, b in spans if not any(used[a:b])]
        if free:
            topics.append(topic)
            for a, b in free:
                used[a:b] = [True] * (b - a)
    return topics


def _occurrences(text: str, phrase: str) -> List[int]:
    """Every start index of ``phrase`` in ``text``."""
    starts, at = [], text.find(phrase)
    while at >= 0:
        starts.append(at)
        at = text.find(phrase, at + 1)
    return starts


def followup_topic(text: str) -> Optional[str]:
    """The first follow-up question the message asks, or None."""
    topics = followup_topics(text)
    return topics[0] if topics else None


def settled_path(outcome: Outcome) -> str:
    """What the decision holds: ``pending``, an approval sending nothing back, or ``return``."""
    decision = outcome.decision
    if decision.verdict != "approve":
        return "pending"
    for note, path in NO_RETURN_NOTES.items():
        if note in decision.notes:
            return path
    if outcome.request.request == "exchange" or "remedy_exchange" in decision.notes:
        return "exchange"
    if "remedy_repair" in decision.notes:
        return "repair"
    if "offer_return_exchange_reship" in decision.notes:
        return "offer"
    return "return"


def _postage(outcome: Outcome, path: str) -> str:
    decision = outcome.decision
    if path in NO_RETURN_NOTES.values():
        return "这单不需要寄回商品，不涉及寄回运费"
    if "buyer_pays_both_legs" in decision.notes:
        return "无理由换货的来回运费需要您承担"
    text = {
        "insurance": "这单买了运费险，寄回运费可以按运费险的规则申请理赔，以保险审核结果为准",
        "buyer": "这次是无理由退货，寄回的运费需要您先承担",
        "seller": "这次是商品问题，来回运费都由我们承担，您先垫付的运费我们会补给您",
        "none": "退货由平台免费上门取件，寄回的运费不用您出",
    }.get(decision.shipping_payer, "")
    if "buyer_pays_outbound" in decision.notes:
        text += "；这单不是包邮，原来的发货运费不在退款范围内"
    return text


def followup_reply(topic: Optional[str], outcome: Outcome) -> Tuple[str, Dict[str, str]]:
    """The response name and parameters that answer ``topic`` from ``outcome``.

    With no topic (the buyer repeats the request), a short recap of the decision.
    """
    rules, decision = outcome.rules, outcome.decision
    path = settled_path(outcome)
    params = {
        "order_id": outcome.order.order.order_id if outcome.order else "",
        # "在11月28日 10:00前", or "尽快" when no timer applies (an unpaid order cancelled)
        "by_when": f"在{when(decision.deadline, rules)}前" if decision.deadline else "尽快",
        "remedy": REMEDY_WORDS.get(path, ""),
        "status": PENDING_WORDS.get(decision.verdict, ""),
    }
    sends_back = path in ("return", "exchange", "repair", "offer")
    if path == "pending":
        return ("utter_followup_timing" if topic == "timing" and decision.deadline
                else "utter_followup_pending"), params
    if topic == "refund":
        if path in ("return", "offer"):
            return "utter_followup_refund_return", {
                **params, "confirm": duration(rules, "return_confirm")}
        if path in ("cancel", "intercept"):
            return f"utter_followup_refund_{path}", params
        if path == "compensation":
            amount = outcome.request.requested_amount
            currency = "新元（SGD）" if rules.platform == "lazada" else "元"
            return "utter_followup_refund_compensation", {
                **params, "amount": f"{amount:g}{currency}" if amount else "这笔"}
        return ("utter_followup_repair" if path == "repair" else "utter_followup_no_refund"), params
    if topic == "refuse":
        return ("utter_followup_refuse" if path == "intercept" else "utter_followup_recap"), params
    if topic in ("pickup", "address"):
        if not sends_back:
            return "utter_followup_nothing_to_send", params
        address = return_address(outcome.order, rules)
        if str(rules["return_address"].value) == "platform_reverse_logistics":
            return "utter_followup_platform_pickup", params
        return f"utter_followup_{topic}", {**params, "return_address": address}
    if topic in ("insurance", "postage"):
        return "utter_followup_postage", {**params, "postage": _postage(outcome, path)}
    if topic == "tax":
        customs = customs_sentence(outcome)
        return ("utter_followup_tax", {**params, "customs": customs}) if customs else (
            "utter_followup_no_tax", params)
    if topic == "timing" and decision.deadline:
        return "utter_followup_timing", params
    return "utter_followup_recap", params
