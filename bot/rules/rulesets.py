"""Build ``model.RuleSet`` objects from the database rows.

``decide`` never reads the database: it gets a frozen RuleSet with the legal
floor, the platform's defaults and, for a shop, that shop's own promises (which
the loader has already checked are better for the buyer).
"""

from __future__ import annotations

import zoneinfo
from typing import Dict

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.rules import vocabulary
from bot.rules.keys import LAW_SCOPE
from bot.rules.model import Rule, RuleSet
from bot.rules.schema import RuleRow, Shop, ShopPromise

# A shop's promise binds the shop (CRPL Implementing Regulation Art. 12, S3).
SHOP_PROMISE_SOURCES = ("S3",)
SHOP_PROMISE_CERTAINTY = "O"


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
    )


def _promise_rule(promise: ShopPromise) -> Rule:
    return Rule(
        rule_id=promise.rule_id,
        key=promise.key,
        value=promise.value,
        unit=promise.unit,
        counted_from=promise.counted_from,
        source_ids=SHOP_PROMISE_SOURCES,
        certainty=SHOP_PROMISE_CERTAINTY,
        note=promise.note,
    )


def rulesets(session: Session) -> Dict[str, RuleSet]:
    """One RuleSet per platform in the database: law rows plus platform rows.

    Args:
        session: an open session.

    Returns:
        platform id → RuleSet (empty when the rule base was never loaded).
    """
    rows = session.execute(select(RuleRow)).scalars().all()
    law = {row.key: _rule(row) for row in rows if row.scope == LAW_SCOPE}
    by_platform: Dict[str, Dict[str, Rule]] = {}
    for row in rows:
        if row.scope in vocabulary.PLATFORMS:
            by_platform.setdefault(row.scope, dict(law))[row.key] = _rule(row)
    return {
        platform: RuleSet(platform=platform, rules=by_platform[platform])
        for platform in vocabulary.PLATFORMS
        if platform in by_platform
    }


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
    merged.update({promise.key: _promise_rule(promise) for promise in promises})
    return RuleSet(platform=shop.platform, rules=merged)


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
