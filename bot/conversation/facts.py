"""What one message says of the request: reason, item condition, remedy, amount.

The NLU emits every ``reason``, ``condition`` and ``remedy`` phrase it finds
(``bot.nlu.entity_extractor``, ``bot.nlu.reason_classifier``); a message like
"没拆封…后来冲了一勺" or "退货或者换一个都行" has more than one. This module picks the
one the bot acts on, the same way for the dialogue (``actions/slot_mappings.py``)
and for the evaluation (``bot.evaluation.understanding``):

- the reason: the first ``reason`` entity (the reason classifier puts the most
  specific lexicon reason first);
- the condition: the worst one said (an item said to be both unopened and used
  is used: POLICY.md §3 step 8 takes the worse of what is known); "打开了/拆开了" of
  an item the message names as ordinary goods (衣服, 台灯) is an inspection, not a
  broken seal (only one-time-seal goods lose that way, POLICY.md §1);
- the remedy: the most specific one (补偿 over 退货 in "不退货了 补偿点就行", 换 over
  退 in "退或者换都行" — a buyer who names an exchange has said what they want);
- the amount: the first amount, only when the remedy is a compensation.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, Optional

from bot.rules.vocabulary import CONDITIONS, REASONS, REMEDIES

# Worst first: what makes an item "not intact" beats what keeps it intact.
WORST_CONDITION_FIRST = ("activated", "seal_broken", "tags_removed", "used", "opened_inspected", "unopened")
MOST_SPECIFIC_REMEDY_FIRST = (
    "compensation", "refund_only", "reship", "repair", "exchange", "return_refund",
)


@dataclasses.dataclass(frozen=True)
class StatedFacts:
    """What a message states (None where it says nothing)."""

    reason: Optional[str] = None
    condition: Optional[str] = None
    remedy: Optional[str] = None
    amount: Optional[float] = None


def _values(entities: Iterable[Mapping[str, Any]], entity: str, allowed: Iterable[str]) -> list:
    allowed = tuple(allowed)
    return [e.get("value") for e in entities if e.get("entity") == entity and e.get("value") in allowed]


def _first_by(order: tuple, values: list) -> Optional[str]:
    return min(values, key=order.index) if values else None


def _names_unsealed_goods(entities: Iterable[Mapping[str, Any]]) -> bool:
    """The message names a product and none of its products has a one-time seal."""
    classes = [
        (e.get("additional_info") or {}).get("category_class")
        for e in entities if e.get("entity") == "product"
    ]
    return bool(classes) and "one_time_seal" not in classes


def stated_facts(entities: Iterable[Mapping[str, Any]]) -> StatedFacts:
    """The facts of one message from its NLU entities (Rasa entity dicts)."""
    entities = list(entities or ())
    reasons = _values(entities, "reason", REASONS)
    remedy = _first_by(MOST_SPECIFIC_REMEDY_FIRST, _values(entities, "remedy", REMEDIES))
    amount = None
    if remedy == "compensation":
        amounts = [e.get("value") for e in entities if e.get("entity") == "amount"]
        amounts = [float(a) for a in amounts if isinstance(a, (int, float)) and not isinstance(a, bool)]
        amount = amounts[0] if amounts else None
    condition = _first_by(WORST_CONDITION_FIRST, _values(entities, "condition", CONDITIONS))
    if condition == "seal_broken" and _names_unsealed_goods(entities):
        condition = "opened_inspected"
    return StatedFacts(
        reason=reasons[0] if reasons else None,
        condition=condition,
        remedy=remedy,
        amount=amount,
    )
