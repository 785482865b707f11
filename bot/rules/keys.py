"""The rule keys ``decide`` reads, and which direction is better for the buyer.

This table is the contract between the YAML rule files and the code: the loader
refuses a platform that lacks a required key, and a shop promise that moves a
value in the ``worse`` direction (POLICY.md: a shop may override a value only
towards the buyer).
"""

from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

LAW_SCOPE = "law"


@dataclasses.dataclass(frozen=True)
class KeySpec:
    """How one rule key is stored and compared.

    Attributes:
        scope: ``law`` (one row for all platforms) or ``platform`` (one per platform).
        kind: ``window`` (number + unit + counted_from), ``duration`` (number + unit),
            ``flag`` (bool), ``text`` (string), ``amount`` (CNY), ``object`` (mapping)
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
    # Legal floor and procedure (POLICY.md sections 1 and 3), cited by decide.
    "law_no_reason_return": KeySpec(LAW_SCOPE, "citation"),
    "law_statutory_exclusions": KeySpec(LAW_SCOPE, "citation"),
    "law_confirm_exclusions": KeySpec(LAW_SCOPE, "citation"),
    "law_intact": KeySpec(LAW_SCOPE, "citation"),
    "law_no_reason_shipping": KeySpec(LAW_SCOPE, "citation"),
    "law_quality_return": KeySpec(LAW_SCOPE, "citation"),
    "law_quality_evidence": KeySpec(LAW_SCOPE, "citation"),
    "law_transit_risk": KeySpec(LAW_SCOPE, "citation"),
    "law_refund_before_delivery": KeySpec(LAW_SCOPE, "citation"),
    "law_counterfeit_evidence": KeySpec(LAW_SCOPE, "citation"),
    "law_health_safety": KeySpec(LAW_SCOPE, "citation"),
    "proc_unknown_order": KeySpec(LAW_SCOPE, "citation"),
    "proc_closed_order": KeySpec(LAW_SCOPE, "citation"),
    "proc_partial_refund": KeySpec(LAW_SCOPE, "citation"),
    "proc_needs_return": KeySpec(LAW_SCOPE, "citation"),
    "proc_escalation_threat": KeySpec(LAW_SCOPE, "citation"),
    "proc_missing_facts": KeySpec(LAW_SCOPE, "citation"),
    # Platform defaults (POLICY.md section 2); shops may improve the marked ones.
    "timezone": KeySpec("platform", "text"),
    "no_reason_window": KeySpec(
        "platform", "window", "higher", DAY_UNITS, ("day_after_signing", "delivery_time")
    ),
    "seven_day_label_required": KeySpec("platform", "flag", "false"),
    "seven_day_label_default": KeySpec("platform", "flag", "true"),
    "seller_response": KeySpec("platform", "duration", "lower", TIMER_UNITS),
    "unshipped_refund_response": KeySpec("platform", "duration", "lower", TIMER_UNITS),
    "return_confirm": KeySpec("platform", "duration", "lower", TIMER_UNITS),
    "quality_window": KeySpec(
        "platform",
        "window",
        "higher",
        DAY_UNITS,
        ("completed_else_signed", "day_after_signing", "delivery_time"),
    ),
    "dispute_window": KeySpec("platform", "duration", None, TIMER_UNITS, nullable=True),
    "silent_outcome": KeySpec("platform", "text"),
    "return_address": KeySpec("platform", "text"),
    "customs_tax_window": KeySpec("platform", "object", nullable=True),
    "goodwill_refund_cap": KeySpec("platform", "amount", "higher"),
    # Who carries a no-reason return parcel: `buyer` (or the buyer's 运费险) under
    # PRC law, `none` where the platform's reverse logistics take it back free (Lazada).
    "no_reason_return_leg": KeySpec("platform", "text"),
}
RETURN_LEGS = ("buyer", "none")

LAW_KEYS = tuple(k for k, spec in RULE_KEYS.items() if spec.scope == LAW_SCOPE)
PLATFORM_KEYS = tuple(k for k, spec in RULE_KEYS.items() if spec.scope == "platform")
