"""The exact strings of POLICY.md section 0.

Tests, the decide command and other tools depend on these values; they are
defined once here and nowhere else.
"""

from __future__ import annotations

PLATFORMS = ("tmall_global", "tmall", "taobao", "jd_international", "lazada")
REQUESTS = ("refund", "return", "exchange", "quality_complaint")
REASONS = (
    "no_reason",
    "quality",
    "not_as_described",
    "wrong_item",
    "missing_parts",
    "damaged_in_transit",
    "not_received",
    "counterfeit_suspected",
    "health_safety",
)
QUALITY_REASONS = (
    "quality",
    "not_as_described",
    "wrong_item",
    "missing_parts",
    "damaged_in_transit",
)
STATUSES = ("unpaid", "paid_unshipped", "shipped", "signed", "completed", "closed")
FULFILLMENTS = ("domestic", "bonded", "direct_mail")
CATEGORY_CLASSES = ("statutory_excluded", "confirm_excluded", "one_time_seal")
VERDICTS = ("approve", "need_evidence", "decline", "handoff")
SHIPPING_PAYERS = ("buyer", "seller", "insurance", "none")
DECLINE_REASONS = (
    "window_expired",
    "statutory_excluded",
    "confirmed_excluded",
    "not_intact",
    "no_seven_day_label",
    "already_refunded",
    "needs_return",
)
HANDOFF_REASONS = (
    "counterfeit_claim",
    "health_safety",
    "escalation_threat",
    "beyond_quality_window",
    "partial_refund",
    "delivery_dispute",
    "unknown_order",
    "low_confidence",
    "buyer_asked",
    "missing_facts",
    "excluded_item",
)
# Handoffs a person answers within the shop's `urgent_response` (POLICY.md §2).
URGENT_HANDOFF_REASONS = ("health_safety", "escalation_threat")
CONDITIONS = ("unopened", "opened_inspected", "used", "tags_removed", "seal_broken", "activated")
INTACT_CONDITIONS = ("unopened", "opened_inspected")
# What the buyer asks to be done (DESIGN.md `remedy` entity, POLICY.md §3 step 7).
REMEDIES = ("return_refund", "exchange", "reship", "repair", "refund_only", "compensation")
CERTAINTIES = ("O", "O-p", "S", "U")
