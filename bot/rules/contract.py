"""The decide command's JSON-lines contract (DESIGN.md): parse, decide, print.

One line in, one line out, in order. A malformed line gets ``{"error": ...}``
naming the field and the command goes on, so a batch of 10,000 requests is never
lost to one bad row.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, Iterator, Mapping, Optional

from bot.rules.decide import decide
from bot.rules.model import AfterSalesRequest, Order, RuleSet
from bot.rules.vocabulary import (
    CATEGORY_CLASSES,
    CONDITIONS,
    FULFILLMENTS,
    PLATFORMS,
    REASONS,
    REMEDIES,
    REQUESTS,
    STATUSES,
)

Classifier = Callable[[str], Optional[str]]


class ContractError(ValueError):
    """A field of a decide line is missing or invalid."""


def _choice(
    data: Mapping[str, Any], field: str, allowed: Iterable[str], default: Any = ..., prefix: str = ""
) -> Any:
    value = data.get(field)
    if value is None:
        if default is ...:
            raise ContractError(f"'{prefix}{field}' is required")
        return default  # null means "not stated": the policy's default applies
    if value not in allowed:
        raise ContractError(f"'{prefix}{field}' must be one of {', '.join(allowed)}; got {value!r}")
    return value


def _flag(
    data: Mapping[str, Any], field: str, default: Optional[bool], prefix: str = "order."
) -> Optional[bool]:
    value = data.get(field)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    raise ContractError(f"'{prefix}{field}' must be true or false; got {value!r}")


def parse_time(value: Any, field: str, required_offset: bool = False) -> Optional[datetime]:
    """Parse an ISO 8601 time; ``now`` must carry its UTC offset."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ContractError(f"'{field}' must be an ISO 8601 string; got {value!r}")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ContractError(f"'{field}' is not an ISO 8601 time: {value!r}") from None
    if required_offset and moment.tzinfo is None:
        raise ContractError(f"'{field}' must include a UTC offset, e.g. +08:00")
    return moment


def parse_order(data: Any, classify: Optional[Classifier] = None) -> Optional[Order]:
    """Build an ``Order`` from the contract's ``order`` object (None stays None)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ContractError("'order' must be an object or null")
    order_id = data.get("order_id")
    if order_id is None or str(order_id).strip() == "":
        raise ContractError("'order.order_id' is required")
    amount = data.get("amount")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0):
        raise ContractError(f"'order.amount' must be a non-negative number; got {amount!r}")
    category = data.get("category")
    category_class = _choice(data, "category_class", CATEGORY_CLASSES, None, "order.")
    if category_class is None and "category_class" not in data and category and classify:
        category_class = classify(str(category))
    return Order(
        order_id=str(order_id),
        status=_choice(data, "status", STATUSES, prefix="order."),
        signed_at=parse_time(data.get("signed_at"), "order.signed_at"),
        completed_at=parse_time(data.get("completed_at"), "order.completed_at"),
        customs_released_at=parse_time(data.get("customs_released_at"), "order.customs_released_at"),
        category=None if category is None else str(category),
        category_class=category_class,
        fulfillment=_choice(data, "fulfillment", FULFILLMENTS, "domestic", "order."),
        amount=None if amount is None else float(amount),
        free_shipping=bool(_flag(data, "free_shipping", True)),
        shipping_insurance=bool(_flag(data, "shipping_insurance", False)),
        seven_day_label=_flag(data, "seven_day_label", None),
        buyer_confirmed_exclusion=bool(_flag(data, "buyer_confirmed_exclusion", False)),
        condition=_choice(data, "condition", CONDITIONS, "unopened", "order."),
    )


def parse_line(line: str, classify: Optional[Classifier] = None) -> Dict[str, Any]:
    """Parse one input line into decide's arguments (without the rules)."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise ContractError(f"not valid JSON: {error.msg} at column {error.colno}") from None
    if not isinstance(data, dict):
        raise ContractError("a line must be a JSON object")
    evidence = data.get("evidence", [])
    if evidence is None:
        evidence = []
    if not isinstance(evidence, list):
        raise ContractError("'evidence' must be a list")
    amount = data.get("requested_amount")
    if amount is not None and (isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0):
        raise ContractError(f"'requested_amount' must be a non-negative number; got {amount!r}")
    return {
        "request": AfterSalesRequest(
            platform=_choice(data, "platform", PLATFORMS),
            request=_choice(data, "request", REQUESTS),
            reason=_choice(data, "reason", REASONS),
            evidence=tuple(evidence),
            escalation=bool(_flag(data, "escalation", False, prefix="")),
            stated_condition=_choice(data, "stated_condition", CONDITIONS, None),
            remedy=_choice(data, "remedy", REMEDIES, None),
            requested_amount=None if amount is None else float(amount),
        ),
        "order": parse_order(data.get("order"), classify),
        "now": parse_time(data.get("now"), "now", required_offset=True),
    }


def decide_lines(
    lines: Iterable[str],
    rulesets: Mapping[str, RuleSet],
    default_now: Callable[[], datetime],
    classify: Optional[Classifier] = None,
) -> Iterator[str]:
    """Decide every non-blank line; yield one JSON line per input line.

    Args:
        lines: JSON objects of the decide contract, one per line.
        rulesets: platform → rule set (legal floor + platform defaults).
        default_now: the clock used when a line has no ``now``.
        classify: category name → category class, for orders that give only
            the category.

    Yields:
        The decision, or ``{"error": ...}`` for a malformed line.
    """
    for line in lines:
        if not line.strip():
            continue
        try:
            args = parse_line(line, classify)
            now = args["now"] or default_now()
            decision = decide(args["request"], args["order"], rulesets[args["request"].platform], now)
            yield json.dumps(decision.as_json(), ensure_ascii=False)
        except ContractError as error:
            yield json.dumps({"error": str(error)}, ensure_ascii=False)
        except OverflowError:
            yield json.dumps({"error": "a time is out of range (windows would end after year 9999)"})
