"""Turn an order row (YAML, JSON or the shop's export) into clean field values.

Used by both the demo-order loader and ``orders import``, so a row is accepted
or refused the same way whichever door it comes through. Times may be given
relative to "now" (``{days_ago: 3, at: "15:00"}``, read in the platform's
timezone) so the demo orders stay inside or outside their windows whenever the
demo is loaded.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Dict

from bot.rules import vocabulary
from bot.rules.validation import (
    Where,
    is_number,
    require_bool,
    require_choice,
    require_mapping,
    require_text,
)

TIME_FIELDS = ("signed_at", "completed_at", "customs_released_at", "created_at")
RELATIVE_KEYS = ("days_ago", "hours_ago", "minutes_ago", "at")
CLOCK = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")
CROSS_BORDER = ("bonded", "direct_mail")

# Field → default when the row leaves it out (POLICY.md / model.Order defaults).
DEFAULTS: Dict[str, Any] = {
    "fulfillment": "domestic",
    "free_shipping": True,
    "shipping_insurance": False,
    "seven_day_label": None,
    "buyer_confirmed_exclusion": False,
    "condition": "unopened",
}
FIELDS = (
    "order_id",
    "buyer_id",
    "shop_id",
    "platform",
    "status",
    *TIME_FIELDS,
    "category",
    "category_class",
    "fulfillment",
    "amount",
    "free_shipping",
    "shipping_insurance",
    "seven_day_label",
    "buyer_confirmed_exclusion",
    "condition",
)


def parse_order_row(
    where: Where,
    row: Any,
    *,
    now: dt.datetime,
    timezone_for: Callable[[str], dt.tzinfo],
) -> Dict[str, Any]:
    """Validate one order row and resolve its times.

    Args:
        where: file and row label, for errors.
        row: the raw mapping.
        now: the aware "now" that relative times count back from.
        timezone_for: the platform's timezone (for relative and naive times).

    Returns:
        The clean fields. ``category_class`` is absent when the row did not give
        it (the caller may look the category up in the lexicon); ``created_at``
        is absent when not given.

    Raises:
        RuleFileError: naming the row and the field on any bad value.
    """
    row = require_mapping(where, row, FIELDS)
    clean: Dict[str, Any] = {}
    for field in ("order_id", "buyer_id", "shop_id"):
        clean[field] = require_text(where, row, field)
    clean["platform"] = require_choice(
        where, "platform", row.get("platform"), vocabulary.PLATFORMS
    )
    clean["status"] = require_choice(where, "status", row.get("status"), vocabulary.STATUSES)
    tz = timezone_for(clean["platform"])
    for field in TIME_FIELDS:
        if row.get(field) is not None:
            clean[field] = resolve_time(where, field, row[field], now=now, tz=tz)
        elif field != "created_at":
            clean[field] = None
    clean["category"] = require_text(where, row, "category", optional=True)
    if "category_class" in row:
        clean["category_class"] = require_choice(
            where,
            "category_class",
            row["category_class"],
            vocabulary.CATEGORY_CLASSES,
            nullable=True,
        )
    values = {**DEFAULTS, **{k: row[k] for k in DEFAULTS if k in row and row[k] is not None}}
    if "seven_day_label" in row:
        values["seven_day_label"] = row["seven_day_label"]
    clean["fulfillment"] = require_choice(
        where, "fulfillment", values["fulfillment"], vocabulary.FULFILLMENTS
    )
    clean["condition"] = require_choice(
        where, "condition", values["condition"], vocabulary.CONDITIONS
    )
    for field in ("free_shipping", "shipping_insurance", "buyer_confirmed_exclusion"):
        clean[field] = require_bool(where, field, values[field])
    clean["seven_day_label"] = require_bool(
        where, "seven_day_label", values["seven_day_label"], nullable=True
    )
    amount = row.get("amount")
    if amount is not None and (not is_number(amount) or amount < 0):
        raise where.error("amount", f"must be a non-negative number, got {amount!r}")
    clean["amount"] = float(amount) if amount is not None else None
    if clean["customs_released_at"] and clean["fulfillment"] not in CROSS_BORDER:
        raise where.error(
            "customs_released_at", "only bonded or direct_mail orders clear customs"
        )
    return clean


def resolve_time(
    where: Where, field: str, value: Any, *, now: dt.datetime, tz: dt.tzinfo
) -> dt.datetime:
    """An aware datetime from ISO text, a YAML timestamp or a relative mapping.

    Relative forms: ``{days_ago: 3, at: "15:00"}`` is 15:00 local time three
    calendar days before ``now``'s local date; ``{days_ago: 2, hours_ago: 5}``
    (any of ``days_ago``, ``hours_ago``, ``minutes_ago``) counts back from
    ``now``. Times without an offset are read in the platform timezone.

    Args:
        where: file and row, for errors.
        field: the field name, for errors.
        value: what the row gave.
        now: aware "now".
        tz: the platform timezone.

    Returns:
        An aware datetime.
    """
    if isinstance(value, dict):
        return _relative(where, field, value, now=now, tz=tz)
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise where.error(
                field, f"{value!r} is not an ISO 8601 time (e.g. 2026-11-20T15:00:00+08:00)"
            ) from None
    else:
        raise where.error(
            field, f"needs an ISO 8601 time or {{days_ago: N, at: 'HH:MM'}}, got {value!r}"
        )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


def _relative(
    where: Where, field: str, spec: dict, *, now: dt.datetime, tz: dt.tzinfo
) -> dt.datetime:
    """Resolve ``{days_ago, hours_ago, minutes_ago, at}`` against ``now``."""
    for key in spec:
        if key not in RELATIVE_KEYS:
            raise where.error(
                field, f"unknown relative key {key!r} (allowed: {', '.join(RELATIVE_KEYS)})"
            )
    counts = {}
    for key in ("days_ago", "hours_ago", "minutes_ago"):
        amount = spec.get(key, 0)
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise where.error(field, f"{key} must be a whole number ≥ 0, got {amount!r}")
        counts[key] = amount
    if "at" not in spec:
        if not any(counts.values()) and not spec:
            raise where.error(
                field, "a relative time needs days_ago, hours_ago or minutes_ago"
            )
        return now - dt.timedelta(
            days=counts["days_ago"], hours=counts["hours_ago"], minutes=counts["minutes_ago"]
        )
    if counts["hours_ago"] or counts["minutes_ago"]:
        raise where.error(field, "'at' goes with days_ago only")
    match = CLOCK.match(str(spec["at"]))
    if not match:
        raise where.error(
            field, f"at must be HH:MM in quotes (YAML reads 15:00 as 900), got {spec['at']!r}"
        )
    day = now.astimezone(tz).date() - dt.timedelta(days=counts["days_ago"])
    clock = dt.time(int(match.group(1)), int(match.group(2)))
    return dt.datetime.combine(day, clock, tzinfo=tz)
