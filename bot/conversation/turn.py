"""What one buyer message changes about the request: read once, the same for every path.

A buyer's message may carry the request and its details all at once
("奶粉还没拆封 七天无理由退了 不给退我就投诉"), only a detail ("不是质量问题 就是尺码大了",
a photo, "第二个"), or nothing about the request at all ("谢谢"). :func:`read_turn`
turns the NLU result of one message and what the conversation already knows into
the slot values to change, so that nothing the buyer said is lost and nothing is
asked again (POLICY.md §4):

- the **request type** comes from the remedy the buyer names (换货 → exchange,
  补偿20块 → refund keeping the item, 补发/维修 → a quality matter), else from
  the request intent; a threat or an order number never erases it; a change of
  mind described under a quality intent ("裙子买大了") is not a quality complaint;
- the **reason** from the lexicon replaces what was known ("不是X，是Y" corrects);
  the learned classifier's guess only fills an empty reason, so a caption like
  "拍好了" or an answer like "就那根8块9的" never overwrites the buyer's own words —
  unless the message corrects them ("不是不好看 是印的字母印错了");
- a request already known changes only on a remedy named or a confident request
  intent ("地址不变 还是寄到原来那个地址就行" is no new request);
- the **condition** is the worst said so far (POLICY.md §3 step 8), the
  **remedy** and **amount** the latest named;
- **evidence**: every photo and video, whenever it comes; money asked for while
  keeping the item, with a photo ("轮子有点歪 图在这 补偿20块就行"), reports a defect;
- **withdrawal** only on the buyer's own words (不退了, 算了不用了), never on a
  correction that starts with 不是.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence

from bot.conversation.cues import corrects, requested_by_words, withdraws
from bot.conversation.facts import WORST_CONDITION_FIRST, StatedFacts, stated_facts

REQUEST_INTENTS = {
    "request_refund": "refund",
    "request_return": "return",
    "request_exchange": "exchange",
    "complain_quality": "quality_complaint",
}
# The request a named remedy makes (the buyer's own choice wins over the intent).
REMEDY_REQUEST = {
    "return_refund": "return",
    "exchange": "exchange",
    "refund_only": "refund",
    "compensation": "refund",
    "reship": "quality_complaint",
    "repair": "quality_complaint",
}
# Money back while keeping the item (or never having had it).
KEEP_ITEM_REMEDIES = ("refund_only", "compensation")
SIGNED_STATUSES = ("signed", "completed")
UNDELIVERED_STATUSES = ("unpaid", "paid_unshipped", "shipped")
CLASSIFIER = "ReasonClassifier"
# A request intent this confident changes a request already known (a remedy named always does).
SURE_REQUEST = 0.7
# On an order not delivered yet a return is the same as a refund: the parcel comes back.
UNDELIVERED_REQUESTS = ("return",)


@dataclasses.dataclass(frozen=True)
class Known:
    """What the conversation knows before the message (slot values)."""

    request_type: Optional[str] = None
    reason: Optional[str] = None
    stated_condition: Optional[str] = None
    remedy: Optional[str] = None
    requested_amount: Optional[float] = None
    evidence: Sequence[str] = ()


def _guessed(entities: Iterable[Mapping[str, Any]]) -> bool:
    """Whether the reason is the classifier's guess alone (no lexicon phrase behind it)."""
    return any(
        e.get("entity") == "reason" and e.get("extractor") == CLASSIFIER and not e.get("refined_from")
        for e in entities
    )


def _reason(facts: StatedFacts, entities: List[Mapping[str, Any]], text: str, known: Known) -> Optional[str]:
    """The reason to keep after the message (None: nothing new)."""
    if facts.reason is None or facts.reason == known.reason:
        return None
    corrected = corrects(text) and not any(e.get("entity") == "product" for e in entities)
    if known.reason is not None and _guessed(entities) and not corrected:
        return None  # a guess, not the buyer's words: what they said stands (a correction of
        # the item, "不是面膜 是保健品", is no correction of the reason)
    return facts.reason


def _request(
    intent: Optional[str],
    confidence: float,
    text: str,
    facts: StatedFacts,
    reason: Optional[str],
    known: Known,
) -> Optional[str]:
    """The request the message makes (None: the message does not change it)."""
    if facts.remedy in REMEDY_REQUEST:
        return REMEDY_REQUEST[facts.remedy]
    requested = REQUEST_INTENTS.get(intent or "")
    if known.request_type and confidence < SURE_REQUEST:
        return None
    if requested is None and not known.request_type:
        if reason == "not_received":
            return "refund"  # money back for what never came (POLICY.md §0 request)
        return requested_by_words(text)
    if requested == "quality_complaint":
        if reason == "no_reason":
            return None  # "裙子买大了" under a quality intent: a change of mind, not a defect
        if known.request_type and known.request_type != "quality_complaint":
            # A defect described for a return or exchange explains it, it does not replace it.
            return None
    return requested


def _worse(first: Optional[str], second: Optional[str]) -> Optional[str]:
    known = [c for c in (first, second) if c in WORST_CONDITION_FIRST]
    return min(known, key=WORST_CONDITION_FIRST.index) if known else None


def read_turn(
    *,
    intent: Optional[str],
    text: str,
    entities: Sequence[Mapping[str, Any]],
    evidence: Sequence[str],
    known: Known,
    confidence: float = 1.0,
) -> Dict[str, Any]:
    """The slot values this message changes.

    Args:
        intent: the message's intent name.
        confidence: its intent confidence.
        text: the message.
        entities: its NLU entities.
        evidence: the photo and video URLs attached to it.
        known: what the conversation knew before it.

    Returns:
        slot name → new value, only for what changes (``withdrawn: True`` when
        the buyer takes the request back).
    """
    entities = list(entities or ())
    facts = stated_facts(entities)
    changes: Dict[str, Any] = {}
    keeps_item = known.remedy in KEEP_ITEM_REMEDIES + ("reship", "repair")
    if facts.remedy is None and withdraws(text, keeps_item=keeps_item):
        return {"withdrawn": True}
    reason = _reason(facts, entities, text, known)
    if reason is not None:
        changes["reason"] = reason
    request = _request(intent, confidence, text, facts, reason or known.reason, known)
    if request is not None and request != known.request_type:
        changes["request_type"] = request
    elif (
        (reason or known.reason) == "no_reason"
        and known.request_type == "quality_complaint"
        and "request_type" not in changes
    ):
        # "不是质量问题，就是尺码大了": no longer a defect, so not a quality complaint;
        # the form asks whether to return or exchange.
        changes["request_type"] = None
    condition = _worse(known.stated_condition, facts.condition)
    if condition != known.stated_condition:
        changes["stated_condition"] = condition
    if facts.remedy is not None and facts.remedy != known.remedy:
        changes["remedy"] = facts.remedy
    if facts.amount is not None and facts.amount != known.requested_amount:
        changes["requested_amount"] = facts.amount
    new = [url for url in evidence if url not in known.evidence]
    if new:
        changes["evidence"] = [*known.evidence, *new]
    remedy = changes.get("remedy", known.remedy)
    shown = changes.get("evidence", known.evidence)
    if remedy == "compensation" and shown and changes.get("reason", known.reason) in (None, "no_reason"):
        changes["reason"] = "quality"  # nobody sends photos to be paid for a change of mind
    return changes


def reason_for_order(reason: str, status: Optional[str]) -> str:
    """The reason as POLICY.md means it, once the order is known.

    "还没到 / 还在路上" of an order not yet delivered describes where it is, not a
    parcel gone missing: ``not_received`` is a reason only once the order says it
    was signed for (POLICY.md §3 step 6).
    """
    if reason == "not_received" and status in UNDELIVERED_STATUSES:
        return "no_reason"
    return reason


def request_for_order(
    request_type: str, remedy: Optional[str], status: Optional[str], reason: Optional[str] = None
) -> str:
    """The request as POLICY.md means it, once the order is known.

    Buyers say 退款 / 退了 for "send it back and refund me": on a delivered item a
    ``refund`` without the buyer saying they keep it (仅退款, 补偿) is a return, not a
    refund without return that would be declined (POLICY.md §3 step 9) — unless the
    buyer says it never came (nothing to send back). Before
    delivery there is nothing to send back: a ``return`` is the refund (steps 5, 6).
    """
    if (
        request_type == "refund"
        and status in SIGNED_STATUSES
        and remedy not in KEEP_ITEM_REMEDIES
        and reason != "not_received"
    ):
        return "return"
    if request_type in UNDELIVERED_REQUESTS and status in UNDELIVERED_STATUSES:
        return "refund"  # 退了 before delivery: cancel or intercept, and refund
    return request_type
