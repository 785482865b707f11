"""Load the rule base from ``data/rules/*.yml`` (and demo orders) into the database.

The YAML files are reviewed in git and are the source of truth; the database
is a copy the bot can query. Loading is all or nothing: every file is read and
validated first, and only then is anything written, in the caller's single
transaction. Loading twice changes nothing; rows removed from the files are
removed from the database (rules, categories, shop promises).

Files under ``data_dir`` (usually ``data/``):
    rules/sources.yml     ``sources:`` the source register: title, quotable name, scope
    rules/law.yml         ``law:`` one row per PRC-law and floor key of keys.RULE_KEYS
    rules/procedure.yml   ``procedure:`` one row per procedure key (POLICY.md section 3)
    rules/platforms.yml   ``platforms:`` names and legal floor; ``defaults:`` one row per
                          platform and key (and per floor key outside PRC law)
    rules/categories.yml  ``categories:`` the category lexicon
    rules/shops.yml       ``shops:`` shops and their own (better) promises
    demo/orders.yml       ``orders:`` demo orders, times relative to now (optional)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import zoneinfo
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.rules import repository, vocabulary
from bot.rules.keys import (
    FLOOR_KEYS,
    LAW_FILE_KEYS,
    LAW_SCOPE,
    PLATFORM_KEYS,
    PLATFORM_SCOPE,
    PROCEDURE_KEYS,
    PROCEDURE_SCOPE,
    RULE_KEYS,
)
from bot.rules.lexicon import Lexicon, category_class_for
from bot.rules.order_rows import parse_order_row
from bot.rules.rulesets import ruleset_for_shop, rulesets
from bot.rules.schema import Category, Platform, RuleRow, Shop, ShopPromise
from bot.rules.sources import SourceRegister, read_sources
from bot.rules.validation import (
    RuleFileError,
    Where,
    check_certainty,
    check_rule_id,
    check_sources,
    check_value,
    promise_problem,
    require_choice,
    require_mapping,
    require_text,
    row_label,
)

__all__ = [
    "RuleFileError",
    "RuleBase",
    "LoadReport",
    "read_rule_base",
    "load_all",
    "rulesets",
    "ruleset_for_shop",
    "category_class_for",
]

LAW_FILE = "rules/law.yml"
PROCEDURE_FILE = "rules/procedure.yml"
PLATFORMS_FILE = "rules/platforms.yml"
CATEGORIES_FILE = "rules/categories.yml"
SHOPS_FILE = "rules/shops.yml"
DEMO_ORDERS_FILE = "demo/orders.yml"

RULE_FIELDS = (
    "rule_id",
    "scope",
    "key",
    "value",
    "unit",
    "counted_from",
    "source_ids",
    "certainty",
    "note",
)
PROMISE_FIELDS = ("key", "value", "unit", "counted_from", "rule_id", "note")
SHOP_FIELDS = ("shop_id", "platform", "name", "return_address", "promises")
CATEGORY_FIELDS = ("name", "category_class", "group")
# A PRC platform's window may not be shorter than the legal floor's ``days`` (law.yml).
FLOOR_OF = {"no_reason_window": "no_reason_return", "quality_window": "quality_return"}
# platforms.yml `legal_floor`: PRC law (law.yml rows join the rule set), or the
# platform's own policy rows for the floor keys (Lazada, POLICY.md section 1).
PRC_LAW, OWN_POLICY = "prc_law", "own_policy"
LEGAL_FLOORS = (PRC_LAW, OWN_POLICY)

PathLike = Union[str, pathlib.Path]


@dataclasses.dataclass
class RuleBase:
    """Everything the files hold, validated and ready to write (plain dicts).

    ``orders`` are the demo orders as clean fields: times resolved against
    "now" (aware), defaults filled in, ``category_class`` from the lexicon when
    the row leaves it out.
    """

    platforms: List[Dict[str, Any]]
    rules: List[Dict[str, Any]]
    categories: List[Dict[str, Any]]
    shops: List[Dict[str, Any]]
    promises: List[Dict[str, Any]]
    orders: List[Any]
    orders_file: Optional[str]

    def summary(self) -> str:
        """One line of counts, for ``rules validate``."""
        law = sum(1 for row in self.rules if row["scope"] == LAW_SCOPE)
        procedure = sum(1 for row in self.rules if row["scope"] == PROCEDURE_SCOPE)
        return (
            f"{law} law rows, {procedure} procedure rows, "
            f"{len(self.rules) - law - procedure} platform rows "
            f"({len(self.platforms)} platforms), {len(self.categories)} categories, "
            f"{len(self.shops)} shops ({len(self.promises)} promises), "
            f"{len(self.orders)} demo orders"
        )


@dataclasses.dataclass
class Counts:
    """Rows a load inserted, changed, removed and left alone in one table."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        total = self.inserted + self.updated + self.unchanged
        return (
            f"{total} ({self.inserted} new, {self.updated} changed, "
            f"{self.deleted} removed)"
        )


@dataclasses.dataclass
class LoadReport:
    """Per-table counts of one ``load_all``."""

    tables: Dict[str, Counts]
    orders: Optional[repository.ImportReport] = None

    @property
    def changed(self) -> bool:
        """Whether the load wrote anything."""
        table_changes = any(c.inserted or c.updated or c.deleted for c in self.tables.values())
        order_changes = bool(self.orders and (self.orders.inserted or self.orders.updated))
        return table_changes or order_changes

    def lines(self) -> List[str]:
        """Human-readable lines, one per table."""
        out = [f"{table}: {counts}" for table, counts in self.tables.items()]
        if self.orders is not None:
            o = self.orders
            out.append(
                f"orders: {o.inserted + o.updated + o.unchanged} "
                f"({o.inserted} new, {o.updated} changed)"
            )
        return out


# --------------------------------------------------------------------------- reading


def _read_yaml(data_dir: pathlib.Path, name: str, keys: Sequence[str]) -> Tuple[str, dict]:
    """Parse one file; it must be a mapping with only ``keys`` at the top."""
    path = data_dir / name
    label = str(path)
    if not path.is_file():
        raise RuleFileError(label, None, None, "file is missing")
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise RuleFileError(label, None, None, f"not valid YAML{at}: {problem}") from None
    if not isinstance(content, dict):
        raise RuleFileError(label, None, None, f"expected top-level keys {', '.join(keys)}")
    for key in content:
        if key not in keys:
            raise RuleFileError(
                label, None, str(key), f"unknown top-level key (allowed: {', '.join(keys)})"
            )
    for key in keys:
        if not isinstance(content.get(key), list):
            raise RuleFileError(label, None, key, "must be a list of rows")
    return label, content


def _home_file(key: str) -> str:
    """The file a key's rows belong in (for error messages)."""
    if key in LAW_FILE_KEYS:
        return "law.yml" + (" (or platforms.yml outside PRC law)" if key in FLOOR_KEYS else "")
    return "procedure.yml" if key in PROCEDURE_KEYS else "platforms.yml"


def _rule_row(
    where: Where,
    raw: Any,
    *,
    scope: str,
    allowed_keys: Sequence[str],
    sources: SourceRegister,
) -> dict:
    """Validate one law, procedure or platform rule row, its sources included."""
    row = require_mapping(where, raw, RULE_FIELDS)
    rule_id = check_rule_id(where, row.get("rule_id"))
    key = row.get("key")
    if key not in RULE_KEYS:
        raise where.error("key", f"unknown key {key!r} (see bot/rules/keys.py)")
    if key not in allowed_keys:
        raise where.error("key", f"{key} is not a {scope} key: it belongs in {_home_file(key)}")
    check_value(where, key, RULE_KEYS[key], row)
    source_ids = check_sources(where, row.get("source_ids"))
    problem = sources.out_of_scope(scope, source_ids)
    if problem is not None:
        raise where.error("source_ids", f"a {scope} row cites only sources of its scope: {problem}")
    note = require_text(where, row, "note", optional=scope not in (LAW_SCOPE, PROCEDURE_SCOPE))
    foreign = sources.foreign_quote(note, source_ids)
    if foreign is not None:
        raise where.error("note", f"quotes {foreign}, which is not one of the row's source_ids")
    return {
        "rule_id": rule_id,
        "scope": scope,
        "key": key,
        "value": row.get("value"),
        "unit": row.get("unit"),
        "counted_from": row.get("counted_from"),
        "source_ids": list(source_ids),
        "certainty": check_certainty(where, row.get("certainty")),
        "note": note,
    }


def _read_single_scope(
    data_dir: pathlib.Path, name: str, scope: str, keys: Sequence[str], sources: SourceRegister
) -> List[dict]:
    """law.yml or procedure.yml: exactly one row of ``scope`` per key of ``keys``."""
    label, content = _read_yaml(data_dir, name, (scope,))
    rows, seen = [], {}
    for index, raw in enumerate(content[scope], start=1):
        ident = raw.get("rule_id") if isinstance(raw, dict) else None
        where = Where(label, row_label(index, ident))
        if isinstance(raw, dict) and raw.get("scope", scope) != scope:
            raise where.error("scope", f"{name} rows have scope {scope}, got {raw['scope']!r}")
        row = _rule_row(where, raw, scope=scope, allowed_keys=keys, sources=sources)
        if row["key"] in seen:
            raise where.error("key", f"{row['key']} is already defined in {seen[row['key']]}")
        seen[row["key"]] = where.row
        rows.append(row)
    missing = [key for key in keys if key not in seen]
    if missing:
        raise RuleFileError(label, None, "key", f"missing {scope} rows for {', '.join(missing)}")
    return rows


def _read_platforms(
    data_dir: pathlib.Path, law: List[dict], sources: SourceRegister
) -> Tuple[List[dict], List[dict]]:
    label, content = _read_yaml(data_dir, PLATFORMS_FILE, ("platforms", "defaults"))
    platforms, floor_of = [], {}
    for index, raw in enumerate(content["platforms"], start=1):
        where = Where(label, "platforms " + row_label(index))
        row = require_mapping(where, raw, ("platform", "name_zh", "legal_floor"))
        platform = require_choice(where, "platform", row.get("platform"), vocabulary.PLATFORMS)
        if platform in floor_of:
            raise where.error("platform", f"{platform} is listed twice")
        floor_of[platform] = require_choice(
            where, "legal_floor", row.get("legal_floor"), LEGAL_FLOORS
        )
        name_zh = require_text(where, row, "name_zh")
        platforms.append({"platform_id": platform, "name_zh": name_zh})
    for platform in vocabulary.PLATFORMS:
        if platform not in floor_of:
            raise RuleFileError(label, "platforms", "platform", f"{platform} is missing")
    rows, seen = [], {}
    floors = {row["key"]: row["value"] for row in law}
    for index, raw in enumerate(content["defaults"], start=1):
        ident = raw.get("rule_id") if isinstance(raw, dict) else None
        where = Where(label, "defaults " + row_label(index, ident))
        scope = raw.get("scope") if isinstance(raw, dict) else None
        if scope in (LAW_SCOPE, PROCEDURE_SCOPE):
            raise where.error("scope", f"{scope} rows belong in {scope}.yml")
        require_choice(where, "scope", scope, vocabulary.PLATFORMS)
        own_floor = floor_of[scope] == OWN_POLICY
        allowed = PLATFORM_KEYS + (FLOOR_KEYS if own_floor else ())
        if not own_floor and isinstance(raw, dict) and raw.get("key") in FLOOR_KEYS:
            raise where.error(
                "key",
                f"{scope} is under PRC law (legal_floor: {PRC_LAW}): its {raw['key']} is the "
                "law.yml row",
            )
        row = _rule_row(where, raw, scope=scope, allowed_keys=allowed, sources=sources)
        if (scope, row["key"]) in seen:
            earlier = seen[scope, row["key"]]
            raise where.error("key", f"{scope} {row['key']} is already in {earlier}")
        seen[scope, row["key"]] = where.row
        if not own_floor:
            _check_floor(where, row, floors)
        rows.append(row)
    for platform in vocabulary.PLATFORMS:
        required = PLATFORM_KEYS + (FLOOR_KEYS if floor_of[platform] == OWN_POLICY else ())
        for key in required:
            if (platform, key) not in seen:
                raise RuleFileError(
                    label, f"platform {platform}", key, "required key has no row"
                )
    return platforms, rows


def _check_floor(where: Where, row: dict, floors: Dict[str, Any]) -> None:
    """A platform window below the legal floor's ``days`` is a data error."""
    law_key = FLOOR_OF.get(row["key"])
    floor = floors.get(law_key) if law_key else None
    if isinstance(floor, dict) and "days" in floor and row["value"] is not None:
        if row["value"] < floor["days"]:
            raise where.error(
                "value",
                f"{row['value']} days is below the legal floor of {floor['days']} days",
            )


def _read_categories(data_dir: pathlib.Path) -> List[dict]:
    label, content = _read_yaml(data_dir, CATEGORIES_FILE, ("categories",))
    rows, seen = [], set()
    for index, raw in enumerate(content["categories"], start=1):
        ident = raw.get("name") if isinstance(raw, dict) else None
        where = Where(label, row_label(index, ident))
        row = require_mapping(where, raw, CATEGORY_FIELDS)
        name = require_text(where, row, "name")
        if name in seen:
            raise where.error("name", f"{name} is listed twice")
        seen.add(name)
        rows.append(
            {
                "name": name,
                "category_class": require_choice(
                    where,
                    "category_class",
                    row.get("category_class"),
                    vocabulary.CATEGORY_CLASSES,
                    nullable=True,
                ),
                "group": require_text(where, row, "group"),
            }
        )
    return rows


def _read_shops(
    data_dir: pathlib.Path, platform_rows: List[dict]
) -> Tuple[List[dict], List[dict]]:
    label, content = _read_yaml(data_dir, SHOPS_FILE, ("shops",))
    defaults = {(row["scope"], row["key"]): row for row in platform_rows}
    shops, promises = [], []
    for index, raw in enumerate(content["shops"], start=1):
        ident = raw.get("shop_id") if isinstance(raw, dict) else None
        where = Where(label, row_label(index, ident))
        row = require_mapping(where, raw, SHOP_FIELDS)
        shop_id = require_text(where, row, "shop_id")
        if any(shop["shop_id"] == shop_id for shop in shops):
            raise where.error("shop_id", f"{shop_id} is listed twice")
        platform = require_choice(where, "platform", row.get("platform"), vocabulary.PLATFORMS)
        shops.append(
            {
                "shop_id": shop_id,
                "platform": platform,
                "name": require_text(where, row, "name"),
                "return_address": require_text(where, row, "return_address", optional=True),
            }
        )
        raw_promises = row.get("promises") or []
        if not isinstance(raw_promises, list):
            raise where.error("promises", "must be a list")
        keys = set()
        for number, raw_promise in enumerate(raw_promises, start=1):
            key = raw_promise.get("key") if isinstance(raw_promise, dict) else None
            here = where.at(f"{where.row} promise {number}" + (f" ({key})" if key else ""))
            promise = _promise(here, raw_promise, shop_id, defaults.get((platform, key)))
            if promise["key"] in keys:
                raise here.error("key", f"{shop_id} promises {promise['key']} twice")
            keys.add(promise["key"])
            promises.append(promise)
    return shops, promises


def _promise(where: Where, raw: Any, shop_id: str, platform_row: Optional[dict]) -> dict:
    """Validate one shop promise against the platform's own value."""
    row = dict(require_mapping(where, raw, PROMISE_FIELDS))
    key = row.get("key")
    if key not in RULE_KEYS:
        raise where.error("key", f"unknown key {key!r} (see bot/rules/keys.py)")
    spec = RULE_KEYS[key]
    if spec.scope != PLATFORM_SCOPE:
        raise where.error("key", f"{key} is the legal floor or procedure: a shop cannot change it")
    if spec.better is None:
        raise where.error("key", f"{key} is not a value a shop may change")
    # A promise that leaves out the unit or start means the platform's.
    for field in ("unit", "counted_from"):
        if row.get(field) is None and platform_row is not None:
            row[field] = platform_row[field]
    check_value(where, key, spec, row)
    problem = promise_problem(spec, row, platform_row or {})
    if problem is not None:
        raise where.error(*problem)
    rule_id = row.get("rule_id") or f"SHOP.{shop_id}.{key.upper()}"
    return {
        "shop_id": shop_id,
        "key": key,
        "value": row.get("value"),
        "unit": row.get("unit"),
        "counted_from": row.get("counted_from"),
        "rule_id": check_rule_id(where, rule_id),
        "note": require_text(where, row, "note", optional=True),
    }


def _read_orders(
    data_dir: pathlib.Path,
    platform_rows: List[dict],
    shops: List[dict],
    lexicon: Lexicon,
    now: dt.datetime,
) -> Tuple[List[Dict[str, Any]], Optional[str]]:
    """Validate the demo orders without a database (the import re-checks against it)."""
    if not (data_dir / DEMO_ORDERS_FILE).is_file():
        return [], None
    label, content = _read_yaml(data_dir, DEMO_ORDERS_FILE, ("orders",))
    zones = {
        row["scope"]: zoneinfo.ZoneInfo(row["value"])
        for row in platform_rows
        if row["key"] == "timezone"
    }
    shop_platform = {shop["shop_id"]: shop["platform"] for shop in shops}
    buyer_platform: Dict[str, str] = {}
    seen: Dict[str, str] = {}
    orders = []
    for index, raw in enumerate(content["orders"], start=1):
        ident = raw.get("order_id") if isinstance(raw, dict) else None
        where = Where(label, row_label(index, ident))
        clean = parse_order_row(where, raw, now=now, timezone_for=zones.__getitem__)
        if "category_class" not in clean:
            clean["category_class"] = lexicon.classify(clean["category"])
        orders.append(clean)
        if clean["order_id"] in seen:
            earlier = seen[clean["order_id"]]
            raise where.error("order_id", f"{clean['order_id']} is also {earlier}")
        seen[clean["order_id"]] = where.row
        for field, owners in (("shop_id", shop_platform), ("buyer_id", buyer_platform)):
            known = owners.setdefault(clean[field], clean["platform"])
            if known != clean["platform"]:
                raise where.error(
                    "platform",
                    f"{field} {clean[field]} is on {known}, "
                    f"the order says {clean['platform']}",
                )
    return orders, label


def read_rule_base(data_dir: PathLike, *, now: Optional[dt.datetime] = None) -> RuleBase:
    """Read and validate every file under ``data_dir``; touches no database.

    Args:
        data_dir: the project's ``data`` folder.
        now: aware "now" for the demo orders' relative times (default: now).

    Returns:
        The validated content.

    Raises:
        RuleFileError: the first problem found, naming the file, row and field.
    """
    data_dir = pathlib.Path(data_dir)
    now = now or dt.datetime.now(dt.timezone.utc)
    sources = read_sources(data_dir)
    law = _read_single_scope(data_dir, LAW_FILE, LAW_SCOPE, LAW_FILE_KEYS, sources)
    procedure = _read_single_scope(
        data_dir, PROCEDURE_FILE, PROCEDURE_SCOPE, PROCEDURE_KEYS, sources
    )
    platforms, platform_rows = _read_platforms(data_dir, law, sources)
    categories = _read_categories(data_dir)
    shops, promises = _read_shops(data_dir, platform_rows)
    rules = law + procedure + platform_rows
    seen: Dict[str, str] = {}
    for row in rules + promises:
        owner = row.get("scope") or f"shop {row['shop_id']}"
        if row["rule_id"] in seen:
            raise RuleFileError(
                str(data_dir / (SHOPS_FILE if "shop_id" in row else PLATFORMS_FILE)),
                owner,
                "rule_id",
                f"{row['rule_id']} is already used by {seen[row['rule_id']]}",
            )
        seen[row["rule_id"]] = owner
    lexicon = Lexicon({row["name"]: row["category_class"] for row in categories})
    orders, orders_file = _read_orders(data_dir, platform_rows, shops, lexicon, now)
    return RuleBase(platforms, rules, categories, shops, promises, orders, orders_file)


# --------------------------------------------------------------------------- writing


def _sync(
    session: Session,
    table: Any,
    key_fields: Tuple[str, ...],
    rows: List[dict],
    *,
    delete_missing: bool,
) -> Counts:
    """Make ``table`` hold ``rows`` (matched on ``key_fields``), touching only what differs."""
    counts = Counts()

    def natural_key(item: Any) -> tuple:
        get = item.get if isinstance(item, dict) else lambda f: getattr(item, f)
        return tuple(get(field) for field in key_fields)

    existing = {natural_key(obj): obj for obj in session.execute(select(table)).scalars()}
    wanted = {natural_key(row): row for row in rows}
    if delete_missing:
        for key, obj in existing.items():
            if key not in wanted:
                session.delete(obj)
                counts.deleted += 1
        session.flush()
    for key, row in wanted.items():
        obj = existing.get(key)
        if obj is None:
            session.add(table(**row))
            counts.inserted += 1
            continue
        changed = repository.assign_changed(obj, row)
        counts.updated += changed
        counts.unchanged += not changed
    session.flush()
    return counts


def load_all(
    session: Session, data_dir: PathLike, *, now: Optional[dt.datetime] = None
) -> LoadReport:
    """Validate every file, then write rules, lexicon, shops and demo orders.

    Nothing is written when any file is invalid. The caller commits (see
    ``db.session_scope``), so the whole load is one transaction.

    Args:
        session: an open session on a migrated database.
        data_dir: the project's ``data`` folder.
        now: aware "now" for the demo orders (default: now).

    Returns:
        Per-table counts.

    Raises:
        RuleFileError: a file is invalid (names the file, row and field).
    """
    now = now or dt.datetime.now(dt.timezone.utc)
    base = read_rule_base(data_dir, now=now)
    tables = {
        "platforms": _sync(
            session, Platform, ("platform_id",), base.platforms, delete_missing=False
        ),
        "rules": _sync(session, RuleRow, ("rule_id",), base.rules, delete_missing=True),
        "categories": _sync(
            session, Category, ("name",), base.categories, delete_missing=True
        ),
        "shops": _sync(session, Shop, ("shop_id",), base.shops, delete_missing=False),
        "shop_promises": _sync(
            session, ShopPromise, ("shop_id", "key"), base.promises, delete_missing=True
        ),
    }
    orders = None
    if base.orders_file is not None:
        orders = repository.import_orders(
            session, rows=base.orders, now=now, source=base.orders_file
        )
    return LoadReport(tables=tables, orders=orders)
