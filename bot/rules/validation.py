"""Checks shared by the rule loader and the orders import.

A rule base that silently accepts "7 dyas" or a shop promise worse than the
law does more harm than one that refuses to load, so every field is checked
against ``bot.rules.keys`` and ``bot.rules.vocabulary`` and every error names
the file, the row and the field, which is what a reviewer needs to fix it.
"""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from numbers import Real
from typing import Any, Iterable, Optional

from bot.rules import vocabulary
from bot.rules.keys import RETURN_LEGS, KeySpec

SOURCE_ID = re.compile(r"^(S[1-9][0-9]*|POLICY)$")
RULE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)+$")
HOURS_PER_WORKING_DAY = 24


class RuleFileError(ValueError):
    """A data file (rule YAML, demo orders, an orders import) has a bad row.

    Attributes:
        file: the file (or source) the row came from.
        row: "row 3 (TM.SELLER_RESPONSE)"-style label, or None for the whole file.
        field: the offending field, or None.
        problem: what is wrong, in words a reviewer can act on.
    """

    def __init__(
        self, file: str, row: Optional[str], field: Optional[str], problem: str
    ) -> None:
        self.file, self.row, self.field, self.problem = file, row, field, problem
        where = ", ".join(
            part
            for part in (row, f"field '{field}'" if field else None)
            if part is not None
        )
        super().__init__(f"{file}: {where}: {problem}" if where else f"{file}: {problem}")


@dataclasses.dataclass(frozen=True)
class Where:
    """Where a value comes from, so a check can raise a precise error.

    Attributes:
        file: file name or source label shown in errors.
        row: the row label (see ``row_label``) or None.
    """

    file: str
    row: Optional[str] = None

    def error(self, field: Optional[str], problem: str) -> RuleFileError:
        """The error for ``field`` of this row."""
        return RuleFileError(self.file, self.row, field, problem)

    def at(self, row: str) -> "Where":
        """The same file, another row."""
        return Where(self.file, row)


def row_label(index: int, ident: Any = None) -> str:
    """``row 3`` or ``row 3 (TM.SELLER_RESPONSE)``: 1-based, with the id if known."""
    return f"row {index}" + (f" ({ident})" if ident not in (None, "") else "")


def is_number(value: Any) -> bool:
    """A real number that is not a bool (YAML ``yes`` must not count as 1)."""
    return isinstance(value, Real) and not isinstance(value, bool)


def require_mapping(where: Where, row: Any, allowed: Iterable[str]) -> dict:
    """The row as a dict; refuses non-mappings and unknown fields (typos)."""
    if not isinstance(row, dict):
        raise where.error(None, f"expected a mapping of fields, got {type(row).__name__}")
    allowed = tuple(allowed)
    for field in row:
        if field not in allowed:
            raise where.error(str(field), f"unknown field (allowed: {', '.join(allowed)})")
    return row


def require_text(
    where: Where, row: dict, field: str, *, optional: bool = False
) -> Optional[str]:
    """A non-empty string field (numbers from YAML, e.g. order ids, become strings)."""
    value = row.get(field)
    if value is None:
        if optional:
            return None
        raise where.error(field, "is required")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise where.error(field, f"must be a non-empty text, got {value!r}")
    return value.strip()


def require_choice(
    where: Where, field: str, value: Any, choices: Iterable[str], *, nullable: bool = False
) -> Optional[str]:
    """``value`` must be one of ``choices`` (or None when ``nullable``)."""
    choices = tuple(choices)
    if value is None and nullable:
        return None
    if value not in choices:
        raise where.error(field, f"{value!r} is not one of {', '.join(choices)}")
    return value


def require_bool(
    where: Where, field: str, value: Any, *, nullable: bool = False
) -> Optional[bool]:
    """A true/false field (None only when ``nullable``)."""
    if value is None and nullable:
        return None
    if not isinstance(value, bool):
        raise where.error(field, f"must be true or false, got {value!r}")
    return value


def check_sources(where: Where, source_ids: Any) -> tuple:
    """Every rule row names at least one source of the reference register."""
    if not isinstance(source_ids, list) or not source_ids:
        raise where.error(
            "source_ids", "must be a non-empty list of source ids (S1..S42, POLICY)"
        )
    for source in source_ids:
        if not isinstance(source, str) or not SOURCE_ID.match(source):
            raise where.error("source_ids", f"{source!r} is not a source id like S1 or POLICY")
    return tuple(source_ids)


def check_certainty(where: Where, certainty: Any) -> str:
    """One of the register's labels O, O-p, S, U."""
    return require_choice(where, "certainty", certainty, vocabulary.CERTAINTIES)


def check_rule_id(where: Where, rule_id: Any) -> str:
    """A dotted id such as ``TM.SELLER_RESPONSE``."""
    if not isinstance(rule_id, str) or not RULE_ID.match(rule_id):
        raise where.error("rule_id", f"{rule_id!r} is not a dotted id like TM.SELLER_RESPONSE")
    return rule_id


def check_value(where: Where, key: str, spec: KeySpec, row: dict) -> None:
    """Check ``value``, ``unit`` and ``counted_from`` of a rule row against its key.

    Args:
        where: the row, for errors.
        key: the rule key (for messages).
        spec: the key's specification from ``keys.RULE_KEYS``.
        row: the row with ``value`` and optional ``unit`` / ``counted_from``.

    Raises:
        RuleFileError: on a value of the wrong kind, a negative number, a unit or
            start not allowed for the key.
    """
    value, unit, counted_from = row.get("value"), row.get("unit"), row.get("counted_from")
    if spec.kind == "citation":
        _check_allowed(where, "unit", unit, (), key)
        _check_allowed(where, "counted_from", counted_from, (), key)
        return
    if value is None:
        if not spec.nullable:
            raise where.error("value", f"is required for {key}")
        _check_allowed(where, "unit", unit, (), key)
        _check_allowed(where, "counted_from", counted_from, (), key)
        return
    if spec.kind in ("window", "duration", "amount"):
        if not is_number(value):
            raise where.error("value", f"{key} needs a number, got {value!r}")
        if value < 0:
            raise where.error("value", f"{key} cannot be negative ({value})")
    elif spec.kind == "flag":
        require_bool(where, "value", value)
    elif spec.kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise where.error("value", f"{key} needs a non-empty text, got {value!r}")
        if key == "no_reason_return_leg" and value not in RETURN_LEGS:
            raise where.error("value", f"{key} is one of {', '.join(RETURN_LEGS)}, got {value!r}")
        if key == "timezone":
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise where.error("value", f"{value!r} is not an IANA timezone") from None
    elif spec.kind == "object":
        if not isinstance(value, dict) or not value:
            raise where.error("value", f"{key} needs a mapping, got {value!r}")
        for name, item in value.items():
            if not is_number(item) or item < 0:
                raise where.error("value", f"{key}.{name} must be a non-negative number")
    _check_allowed(where, "unit", unit, spec.units, key)
    _check_allowed(where, "counted_from", counted_from, spec.counted_from, key)


def _check_allowed(
    where: Where, field: str, value: Any, allowed: tuple, key: str
) -> None:
    """``value`` must be in ``allowed`` (required then), or absent when nothing is."""
    if not allowed:
        if value is not None:
            raise where.error(field, f"{key} takes no {field} (got {value!r})")
        return
    if value not in allowed:
        raise where.error(
            field, f"{value!r} is not allowed for {key} (allowed: {', '.join(allowed)})"
        )


def promise_problem(spec: KeySpec, promise: dict, platform: dict) -> Optional[tuple]:
    """Why a shop promise is not at least as good for the buyer, or None.

    POLICY.md section 2: a shop may override a value only towards the buyer. A
    value that cannot be compared safely (another window start, working days
    against hours) is refused rather than guessed.

    Args:
        spec: the key's specification (``better`` gives the direction).
        promise: the shop's ``value`` / ``unit`` / ``counted_from``.
        platform: the platform row's ``value`` / ``unit`` / ``counted_from``.

    Returns:
        ``(field, problem)`` when the promise is refused, else None.
    """
    value, base = promise.get("value"), platform.get("value")
    if spec.better is None:
        return "key", "this value is not one a shop may change (keys.RULE_KEYS better=None)"
    if base is None:
        return None
    if spec.kind == "flag":
        wanted = spec.better == "true"
        if value != base and value != wanted:
            return "value", f"{value!r} is worse for the buyer than the platform's {base!r}"
        return None
    if spec.kind == "window" and promise.get("counted_from") != platform.get("counted_from"):
        return "counted_from", (
            f"must match the platform's start {platform.get('counted_from')!r}: "
            "another start cannot be shown to be better for the buyer"
        )
    unit, base_unit = promise.get("unit"), platform.get("unit")
    if unit == base_unit:
        worse = value < base if spec.better == "higher" else value > base
        if worse:
            direction = "lower" if spec.better == "higher" else "higher"
            return "value", (
                f"{value} is {direction} than the platform's {base}: worse for the buyer"
            )
        return None
    if spec.better == "lower" and unit == "hours" and base_unit == "working_days":
        # A working day lasts at least 24 elapsed hours, so this comparison is safe.
        if value > base * HOURS_PER_WORKING_DAY:
            return "value", f"{value} hours is longer than the platform's {base} working days"
        return None
    return "unit", (
        f"{unit!r} cannot be shown to be at least as good as the platform's "
        f"{base} {base_unit}"
    )
