"""The rule keys ``decide`` reads, and which direction is better for the buyer.

This table is the contract between the YAML rule files and the code: the loader
refuses a platform that lacks a required key, and a shop promise that moves a
value in the ``worse`` direction (POLICY.md: a shop may override a value only
towards the buyer). The scope of a key says which file holds its rows and which
rule sets they join: PRC law is not part of a Lazada rule set (POLICY.md
section 1), so the keys ``decide`` needs everywhere are ``floor`` keys, filled by
the law on PRC platforms and by Lazada's own return policy on Lazada.
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

# Where a row lives and which rule sets it joins (see ``KeySpec.scope``).
LAW_SCOPE = "law"
FLOOR_SCOPE = "floor"
PLATFORM_SCOPE = "platform"
PROCEDURE_SCOPE = "procedure"


@dataclasses.dataclass(frozen=True)
class KeySpec:
    """How one rule key is stored and compared.

    Attributes:
        scope: where the row comes from and which rule sets hold it:
            ``law``: PRC law (``law.yml``), only in the rule sets of platforms under
            PRC law; ``decide`` cites it where the rule set has it.
            ``floor``: the rule every rule set needs under the platform's own: for a
            platform under PRC law the law row (``law.yml``), for a platform outside
            it (Lazada) the platform's own policy row (``platforms.yml``).
            ``platform``: one row per platform (``platforms.yml``).
            ``procedure``: the shop's own procedure (``procedure.yml``, POLICY.md
            section 3), one row for every platform.
        kind: ``window`` (number + unit + counted_from), ``duration`` (number + unit),
            ``flag`` (bool), ``text`` (string), ``amount`` (in the platform's currency:
            CNY, SGD on Lazada), ``object`` (mapping)
            or ``citation`` (a legal or procedural rule cited, value ignored).
        better: for shop promises: ``higher``, ``lower``, ``true``, ``false`` or None
            (not overridable by a shop).
        units: allowed units for windows and durations.
        counted_from: allowed window starts.
        nullable: whether the value may be null (the platform has no such rule).
    """

    scope: str
    kind: str
    better: Optional[str] = None
    units: Tuple[str, ...] = ()
    counted_from: Tuple[str, ...] = ()
    nullable: bool = False


DAY_UNITS = ("days",)
TIMER_UNITS = ("hours", "working_days")

RULE_KEYS = {
    # The floor (POLICY.md section 1): PRC law on the four PRC platforms; Lazada's
    # own return policy on Lazada (POLICY.md section 1: PRC law does not govern it).
    "no_reason_return": KeySpec(FLOOR_SCOPE, "citation"),
    "statutory_exclusions": KeySpec(FLOOR_SCOPE, "citation"),
    "confirm_exclusions": KeySpec(FLOOR_SCOPE, "citation"),
    "intact": KeySpec(FLOOR_SCOPE, "citation"),
    "quality_return": KeySpec(FLOOR_SCOPE, "citation"),
    "transit_risk": KeySpec(FLOOR_SCOPE, "citation"),
    "health_safety": KeySpec(FLOOR_SCOPE, "citation"),
    # PRC law with no counterpart elsewhere: who pays a buyer-paid return parcel, and
    # the customs layer of cross-border imports (apply <= 30 d, back <= 45 d).
    "no_reason_shipping": KeySpec(LAW_SCOPE, "citation"),
    "customs_tax_window": KeySpec(LAW_SCOPE, "object"),
    # The shop's procedure (POLICY.md section 3), the same on every platform.
    "unknown_order": KeySpec(PROCEDURE_SCOPE, "citation"),
    "closed_order": KeySpec(PROCEDURE_SCOPE, "citation"),
    "partial_refund": KeySpec(PROCEDURE_SCOPE, "citation"),
    "needs_return": KeySpec(PROCEDURE_SCOPE, "citation"),
    "escalation_threat": KeySpec(PROCEDURE_SCOPE, "citation"),
    "missing_facts": KeySpec(PROCEDURE_SCOPE, "citation"),
    # Platform defaults (POLICY.md section 2); shops may improve the marked ones.
    "timezone": KeySpec(PLATFORM_SCOPE, "text"),
    "no_reason_window": KeySpec(
        PLATFORM_SCOPE, "window", "higher", DAY_UNITS, ("day_after_signing", "delivery_time")
    ),
    "seven_day_label_required": KeySpec(PLATFORM_SCOPE, "flag", "false"),
    "seven_day_label_default": KeySpec(PLATFORM_SCOPE, "flag", "true"),
    "seller_response": KeySpec(PLATFORM_SCOPE, "duration", "lower", TIMER_UNITS),
    "unshipped_refund_response": KeySpec(PLATFORM_SCOPE, "duration", "lower", TIMER_UNITS),
    "return_confirm": KeySpec(PLATFORM_SCOPE, "duration", "lower", TIMER_UNITS),
    # health_safety and escalation_threat handoffs: the buyer hears from a person
    # within this, never the 24-48 h seller timer (POLICY.md section 2).
    "urgent_response": KeySpec(PLATFORM_SCOPE, "duration", "lower", TIMER_UNITS),
    "quality_window": KeySpec(
        PLATFORM_SCOPE,
        "window",
        "higher",
        DAY_UNITS,
        ("completed_else_signed", "day_after_signing", "delivery_time"),
    ),
    "dispute_window": KeySpec(PLATFORM_SCOPE, "duration", None, TIMER_UNITS, nullable=True),
    "silent_outcome": KeySpec(PLATFORM_SCOPE, "text"),
    "return_address": KeySpec(PLATFORM_SCOPE, "text"),
    "goodwill_refund_cap": KeySpec(PLATFORM_SCOPE, "amount", "higher"),
    # Who carries a no-reason return parcel: `buyer` (or the buyer's 运费险) under
    # PRC law, `none` where the platform's reverse logistics take it back free (Lazada).
    "no_reason_return_leg": KeySpec(PLATFORM_SCOPE, "text"),
    # What each platform's dispute rules say about evidence, parcels on their way and
    # authenticity (Taobao's rules for Taobao, Tmall and Tmall Global; JD's for JD).
    "quality_evidence": KeySpec(PLATFORM_SCOPE, "citation"),
    "refund_before_delivery": KeySpec(PLATFORM_SCOPE, "citation"),
    "counterfeit_evidence": KeySpec(PLATFORM_SCOPE, "citation"),
}
RETURN_LEGS = ("buyer", "none")


def keys_of(scope: str) -> Tuple[str, ...]:
    """The rule keys of one scope, in table order."""
    return tuple(key for key, spec in RULE_KEYS.items() if spec.scope == scope)


LAW_KEYS = keys_of(LAW_SCOPE)
FLOOR_KEYS = keys_of(FLOOR_SCOPE)
PLATFORM_KEYS = keys_of(PLATFORM_SCOPE)
PROCEDURE_KEYS = keys_of(PROCEDURE_SCOPE)
# law.yml holds one row per PRC-law and floor key.
LAW_FILE_KEYS = LAW_KEYS + FLOOR_KEYS
