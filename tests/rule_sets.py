"""Rule sets with POLICY.md section 2's default values, built without a database.

``decide`` is tested against these so its tests do not depend on the YAML files;
``tests/test_rules_data.py`` checks that the shipped YAML produces the same values.
A PRC platform's rule set holds the law rows (``LAW.<KEY>``); Lazada's holds its own
rows for the floor keys (``LZ.<KEY>``) and no law row, as the loader builds them.
"""

from __future__ import annotations

from typing import Any, Dict

from bot.rules.keys import FLOOR_KEYS, LAW_KEYS, PROCEDURE_KEYS
from bot.rules.model import Rule, RuleSet

PREFIX = {"tmall_global": "TG", "tmall": "TM", "taobao": "TB", "jd_international": "JDI", "lazada": "LZ"}
OUTSIDE_PRC_LAW = ("lazada",)

POLICY_DEFAULTS: Dict[str, Dict[str, Any]] = {
    "tmall_global": {
        "timezone": ("Asia/Shanghai", None, None),
        "no_reason_window": (7, "days", "day_after_signing"),
        "seven_day_label_required": (True, None, None),
        "seven_day_label_default": (False, None, None),
        "seller_response": (36, "hours", None),
        "unshipped_refund_response": (24, "hours", None),
        "return_confirm": (48, "hours", None),
        "urgent_response": (2, "hours", None),
        "quality_window": (15, "days", "completed_else_signed"),
        "dispute_window": (24, "hours", None),
        "silent_outcome": ("auto_approve", None, None),
        "return_address": ("domestic_return_hub", None, None),
        "goodwill_refund_cap": (0, None, None),
        "no_reason_return_leg": ("buyer", None, None),
        "quality_evidence": (None, None, None),
        "refund_before_delivery": (None, None, None),
        "counterfeit_evidence": (None, None, None),
    },
}
POLICY_DEFAULTS["tmall"] = {
    **POLICY_DEFAULTS["tmall_global"],
    "seven_day_label_required": (False, None, None),
    "seven_day_label_default": (True, None, None),
    "dispute_window": (None, None, None),
    "return_address": ("shop_address", None, None),
}
POLICY_DEFAULTS["taobao"] = dict(POLICY_DEFAULTS["tmall"])
POLICY_DEFAULTS["jd_international"] = {
    **POLICY_DEFAULTS["tmall"],
    "seller_response": (24, "hours", None),
    "quality_window": (15, "days", "day_after_signing"),
    "dispute_window": (24, "hours", None),
    "silent_outcome": ("rules_on_evidence_seller_pays", None, None),
    "return_address": ("domestic_return_hub", None, None),
}
POLICY_DEFAULTS["lazada"] = {
    **POLICY_DEFAULTS["tmall"],
    "timezone": ("Asia/Singapore", None, None),
    "no_reason_window": (7, "days", "delivery_time"),
    "seller_response": (2, "working_days", None),
    "unshipped_refund_response": (2, "working_days", None),
    "return_confirm": (2, "working_days", None),
    "quality_window": (7, "days", "delivery_time"),
    "silent_outcome": ("auto_refund_le_sgd50_else_auto_return", None, None),
    "return_address": ("platform_reverse_logistics", None, None),
    "no_reason_return_leg": ("none", None, None),
}
# PRC law the loader puts in the four PRC platforms' rule sets (law.yml).
LAW_VALUES = {"customs_tax_window": {"apply_days": 30, "arrive_days": 45}}


def _citation(rule_id: str, key: str) -> Rule:
    return Rule(rule_id=rule_id, key=key, value=LAW_VALUES.get(key), source_ids=("S1",))


def rule_set(platform: str, **overrides: Any) -> RuleSet:
    """The POLICY.md defaults of ``platform``; overrides replace a rule's value."""
    prefix = PREFIX[platform]
    under_prc_law = platform not in OUTSIDE_PRC_LAW
    rules = {key: _citation(f"PROC.{key.upper()}", key) for key in PROCEDURE_KEYS}
    if under_prc_law:
        rules.update({key: _citation(f"LAW.{key.upper()}", key) for key in FLOOR_KEYS + LAW_KEYS})
    else:
        rules.update({key: _citation(f"{prefix}.{key.upper()}", key) for key in FLOOR_KEYS})
    for key, (value, unit, counted_from) in POLICY_DEFAULTS[platform].items():
        value = overrides.get(key, value)
        rules[key] = Rule(
            rule_id=f"{prefix}.{key.upper()}",
            key=key,
            value=value,
            unit=unit,
            counted_from=counted_from,
            source_ids=("S10",),
        )
    return RuleSet(platform=platform, rules=rules, under_prc_law=under_prc_law)
