"""Plain value types that ``decide`` works on: no database, no I/O.

The database layer (``bot.rules.db``) and the command line turn rows and JSON
into these; ``decide`` only ever sees these frozen dataclasses, which keeps it a
pure function that is cheap to test exhaustively.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any, Dict, Mapping, Optional, Tuple


@dataclasses.dataclass(frozen=True)
class Rule:
    """One rule row: a number or switch of POLICY.md with where it comes from.

    Attributes:
        rule_id: stable id cited in replies and the decision log ("TM.NO_REASON_WINDOW").
        key: what the value means to ``decide`` (see ``bot.rules.keys.RULE_KEYS``).
        value: the number, switch or name.
        unit: ``days``, ``hours``, ``working_days`` or None.
        counted_from: where a window starts (``day_after_signing``, ``delivery_time``,
            ``completed_else_signed``) or None.
        source_ids: ids of the sources in ``../shared/reference/after-sales-rules.md``.
        certainty: ``O``, ``O-p``, ``S`` or ``U`` as in that register.
        note: the rule in plain Chinese, quoted when a reply cites it.
        scope: ``law``, ``procedure``, a platform id, or ``shop`` for a shop's own
            promise (None when built by hand).
    """

    rule_id: str
    key: str
    value: Any
    unit: Optional[str] = None
    counted_from: Optional[str] = None
    source_ids: Tuple[str, ...] = ()
    certainty: str = "O"
    note: Optional[str] = None
    scope: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class RuleSet:
    """Every rule that applies to one platform (and shop): key → rule.

    Built by the loader from the floor (PRC law, or the platform's own policy
    outside it), the shop's procedure, the platform's defaults and the shop's own
    promises (which may only be better for the buyer).

    Attributes:
        platform: POLICY.md platform.
        rules: key → rule.
        under_prc_law: whether PRC law is the floor (False for Lazada: no law row,
            no PRC wording in its replies).
    """

    platform: str
    rules: Mapping[str, Rule]
    under_prc_law: bool

    def __getitem__(self, key: str) -> Rule:
        """The rule for ``key``; a missing key is a loader bug, so it raises."""
        return self.rules[key]

    def get(self, key: str) -> Optional[Rule]:
        """The rule for ``key`` or None when the platform has no such rule."""
        return self.rules.get(key)


@dataclasses.dataclass(frozen=True)
class Order:
    """The order fields of the decide contract, with POLICY.md's defaults.

    ``seven_day_label`` None means "not stated": the platform's
    ``seven_day_label_default`` rule decides.
    """

    order_id: str
    status: str
    signed_at: Optional[datetime] = None
    completed_at: Optional[datetime] = None
    customs_released_at: Optional[datetime] = None
    category: Optional[str] = None
    category_class: Optional[str] = None
    fulfillment: str = "domestic"
    amount: Optional[float] = None
    free_shipping: bool = True
    shipping_insurance: bool = False
    seven_day_label: Optional[bool] = None
    buyer_confirmed_exclusion: bool = False
    condition: str = "unopened"


@dataclasses.dataclass(frozen=True)
class AfterSalesRequest:
    """What the buyer asks for, on which platform, with which evidence.

    Attributes:
        platform: POLICY.md platform.
        request: POLICY.md request.
        reason: POLICY.md reason.
        evidence: photos and videos the buyer sent (any, at any time, counts).
        escalation: the buyer threatened a complaint or platform intervention: it
            never changes the verdict, only adds a handoff (POLICY §3).
        stated_condition: what the buyer said of the item (POLICY.md condition), or
            None; the worse of this and the order's record counts (§3 step 8).
        remedy: the remedy the buyer named (``vocabulary.REMEDIES``), or None; for a
            quality problem it is the remedy approved (§3 step 7).
        requested_amount: the compensation the buyer asked for, in the order's
            currency, or None (compared with the shop's goodwill cap).
    """

    platform: str
    request: str
    reason: str
    evidence: Tuple[Any, ...] = ()
    escalation: bool = False
    stated_condition: Optional[str] = None
    remedy: Optional[str] = None
    requested_amount: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class Decision:
    """The verdict and everything a reply or a human agent needs to act on it.

    Attributes:
        verdict: ``approve``, ``need_evidence``, ``decline`` or ``handoff``.
        shipping_payer: who pays the return leg (``buyer``, ``seller``,
            ``insurance``) or ``none`` when nothing is sent back.
        decline_reason: POLICY.md decline reason, or None.
        handoff_reason: POLICY.md handoff reason, or None.
        rule_ids: every rule row the decision applied, in the order applied.
        deadline: when the seller must answer under the platform timer.
        notes: machine-readable hints for the reply (``buyer_pays_outbound``,
            ``customs_tax_window``, ``offer_return_path``, ...).
    """

    verdict: str
    shipping_payer: str = "none"
    decline_reason: Optional[str] = None
    handoff_reason: Optional[str] = None
    rule_ids: Tuple[str, ...] = ()
    deadline: Optional[datetime] = None
    notes: Tuple[str, ...] = ()

    def as_json(self) -> Dict[str, Any]:
        """The decide contract's output object (ISO 8601 deadline)."""
        return {
            "verdict": self.verdict,
            "shipping_payer": self.shipping_payer,
            "decline_reason": self.decline_reason,
            "handoff_reason": self.handoff_reason,
            "rule_ids": list(self.rule_ids),
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "notes": list(self.notes),
        }
