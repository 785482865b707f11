"""Build ``model.RuleSet`` objects from the database rows.

``decide`` never reads the database: it gets a frozen RuleSet with the floor, the
shop's procedure, the platform's defaults and, for a shop, that shop's own
promises (which the loader has already checked are better for the buyer).

The floor is PRC law (the ``law`` rows) for the platforms selling into mainland
China. A platform with rows of its own for the floor keys (Lazada: the loader
requires all or none of them) is outside PRC law, and its rule set holds no law
row at all (POLICY.md section 1).
"""

from __future__ import annotations

import zoneinfo
from typing import Dict

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.rules import vocabulary
from bot.rules.keys import FLOOR_KEYS, LAW_SCOPE, PROCEDURE_SCOPE
from bot.rules.model import Rule, RuleSet
from bot.rules.schema import RuleRow, Shop, ShopPromise

# A shop's promise binds the shop: under PRC law by the CRPL Implementing
# Regulation Art. 12 (S3); elsewhere it is the shop's own policy.
PRC_PROMISE_SOURCES = ("S3",)
OWN_PROMISE_SOURCES = ("POLICY",)
SHOP_PROMISE_CERTAINTY = "O"
SHOP_SCOPE = "shop"


class UnknownShopError(LookupError):
    """The shop id is not in the rule base."""


def _rule(row: RuleRow) -> Rule:
    return Rule(
        rule_id=row.rule_id,
        key=row.key,
        value=row.value,
        unit=row.unit,
        counted_from=row.counted_from,
        source_ids=tuple(row.source_ids or ()),
        certainty=row.certainty,
        note=row.note,
        scope=row.scope,
    )


def _promise_rule(promise: ShopPromise, under_prc_law: bool) -> Rule:
    return Rule(
        rule_id=promise.rule_id,
        key=promise.key,
        value=promise.value,
        unit=promise.unit,
        counted_from=promise.counted_from,
        source_ids=PRC_PROMISE_SOURCES if under_prc_law else OWN_PROMISE_SOURCES,
        certainty=SHOP_PROMISE_CERTAINTY,
        note=promise.note,
        scope=SHOP_SCOPE,
    )


def rulesets(session: Session) -> Dict[str, RuleSet]:
    """One RuleSet per platform in the database: floor, procedure and platform rows.

    Args:
        session: an open session.

    Returns:
        platform id → RuleSet (empty when the rule base was never loaded). A
        platform under PRC law gets the law rows; one with its own floor rows gets
        none of them.
    """
    rows = session.execute(select(RuleRow)).scalars().all()
    law = {row.key: _rule(row) for row in rows if row.scope == LAW_SCOPE}
    procedure = {row.key: _rule(row) for row in rows if row.scope == PROCEDURE_SCOPE}
    own: Dict[str, Dict[str, Rule]] = {}
    for row in rows:
        if row.scope in vocabulary.PLATFORMS:
            own.setdefault(row.scope, {})[row.key] = _rule(row)
    sets = {}
    for platform in vocabulary.PLATFORMS:
        if platform not in own:
            continue
        under_prc_law = not any(key in own[platform] for key in FLOOR_KEYS)
        floor = law if under_prc_law else {}
        sets[platform] = RuleSet(
            platform=platform,
            rules={**procedure, **floor, **own[platform]},
            under_prc_law=under_prc_law,
        )
    return sets


def ruleset_for_shop(session: Session, shop_id: str) -> RuleSet:
    """The shop's platform RuleSet with the shop's promises replacing those keys.

    Args:
        session: an open session.
        shop_id: the shop.

    Returns:
        The merged RuleSet; a promise keeps the shop's own ``rule_id`` so a
        decision cites the shop's promise, not the platform default.

    Raises:
        UnknownShopError: the shop is not in the database.
    """
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise UnknownShopError(f"unknown shop {shop_id!r}")
    base = rulesets(session).get(shop.platform)
    if base is None:
        raise UnknownShopError(
            f"no rules for platform {shop.platform!r}: run `python -m bot.rules load`"
        )
    promises = session.execute(
        select(ShopPromise).where(ShopPromise.shop_id == shop_id)
    ).scalars()
    merged = dict(base.rules)
    merged.update({promise.key: _promise_rule(promise, base.under_prc_law) for promise in promises})
    return RuleSet(platform=shop.platform, rules=merged, under_prc_law=base.under_prc_law)


def platform_timezone(session: Session, platform: str) -> zoneinfo.ZoneInfo:
    """The platform's ``timezone`` rule (relative and naive times are read in it).

    Raises:
        LookupError: the rule base has no timezone row for the platform.
    """
    row = session.execute(
        select(RuleRow).where(RuleRow.scope == platform, RuleRow.key == "timezone")
    ).scalar_one_or_none()
    if row is None:
        raise LookupError(
            f"platform {platform!r} has no rules in the database: "
            "run `python -m bot.rules load` first"
        )
    return zoneinfo.ZoneInfo(row.value)
