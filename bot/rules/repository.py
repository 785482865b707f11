"""Orders and the decision log: small keyword-only data-access functions.

The action server and the command line call these; they never commit (the
caller's ``db.session_scope`` does), so an import that fails on row 40 leaves
rows 1-39 unwritten too.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any, Dict, Iterable, List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.rules import model
from bot.rules.lexicon import category_class_for
from bot.rules.order_rows import parse_order_row
from bot.rules.rulesets import platform_timezone
from bot.rules.schema import Buyer, DecisionRow, OrderRow, Platform, Shop
from bot.rules.validation import Where, row_label

ORDER_FIELDS = tuple(field.name for field in dataclasses.fields(model.Order))


@dataclasses.dataclass
class ImportReport:
    """How many orders an import inserted, changed and left as they were."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    shops_created: List[str] = dataclasses.field(default_factory=list)
    buyers_created: int = 0


def import_orders(
    session: Session,
    *,
    rows: Iterable[Any],
    now: dt.datetime,
    source: str = "orders",
) -> ImportReport:
    """Upsert orders (decide ``order`` fields plus ``buyer_id``, ``shop_id``, ``platform``).

    Every row is validated before anything is written. An unknown shop is
    created with its platform's defaults (no promises, platform return
    address); an unknown buyer is created. Relative times are resolved against
    ``now`` in the platform's timezone. When a row gives a ``category`` but no
    ``category_class``, the class comes from the category lexicon.

    Args:
        session: an open session (not committed here).
        rows: the order rows (mappings).
        now: aware "now" for relative times and new rows' ``created_at``.
        source: file name shown in errors.

    Returns:
        Counts of inserted, updated and unchanged orders.

    Raises:
        validation.RuleFileError: a row is invalid (names the row and field); nothing is
            written.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cleaned = _validate_rows(session, list(rows), now=now, source=source)
    report = ImportReport()
    for clean in cleaned:
        _ensure_shop_and_buyer(session, clean, report)
        _upsert_order(session, clean, now=now, report=report)
    session.flush()
    return report


def _validate_rows(
    session: Session, rows: List[Any], *, now: dt.datetime, source: str
) -> List[Dict[str, Any]]:
    """Parse every row and check ids and platforms across rows and the database."""
    where = Where(source)
    timezones: Dict[str, Any] = {}
    seen_orders: Dict[str, str] = {}
    owners: Dict[tuple, str] = {}
    cleaned = []
    for index, raw in enumerate(rows, start=1):
        ident = raw.get("order_id") if isinstance(raw, dict) else None
        here = where.at(row_label(index, ident))

        def timezone_for(name: str, here: Where = here) -> Any:
            if name not in timezones:
                try:
                    timezones[name] = platform_timezone(session, name)
                except LookupError as error:
                    raise here.error("platform", str(error)) from None
            return timezones[name]

        clean = parse_order_row(here, raw, now=now, timezone_for=timezone_for)
        if clean["order_id"] in seen_orders:
            raise here.error(
                "order_id", f"{clean['order_id']} is also {seen_orders[clean['order_id']]}"
            )
        seen_orders[clean["order_id"]] = here.row
        for table, field in ((Shop, "shop_id"), (Buyer, "buyer_id")):
            known = owners.get((field, clean[field]))
            if known is None:
                existing = session.get(table, clean[field])
                known = existing.platform if existing is not None else clean["platform"]
                owners[(field, clean[field])] = known
            if known != clean["platform"]:
                raise here.error(
                    "platform",
                    f"{field} {clean[field]} is on {known}, "
                    f"the order says {clean['platform']}",
                )
        existing_order = session.get(OrderRow, clean["order_id"])
        if existing_order is not None and existing_order.platform != clean["platform"]:
            raise here.error(
                "order_id", f"already stored as an order on {existing_order.platform}"
            )
        if "category_class" not in clean:
            clean["category_class"] = category_class_for(session, clean["category"])
        cleaned.append(clean)
    return cleaned


def _ensure_shop_and_buyer(
    session: Session, clean: Dict[str, Any], report: ImportReport
) -> None:
    """Create the shop (platform defaults, no promises) and buyer when unknown."""
    if session.get(Platform, clean["platform"]) is None:
        raise LookupError(
            f"platform {clean['platform']} missing: run `python -m bot.rules load`"
        )
    if session.get(Shop, clean["shop_id"]) is None:
        session.add(
            Shop(shop_id=clean["shop_id"], platform=clean["platform"], name=clean["shop_id"])
        )
        report.shops_created.append(clean["shop_id"])
    if session.get(Buyer, clean["buyer_id"]) is None:
        session.add(Buyer(buyer_id=clean["buyer_id"], platform=clean["platform"]))
        report.buyers_created += 1
    session.flush()


def assign_changed(obj: Any, values: Dict[str, Any]) -> bool:
    """Set only the fields whose value differs; return whether any did.

    Upserts of rules and orders use it so an unchanged reload writes nothing.
    """
    changed = False
    for field, value in values.items():
        if getattr(obj, field) != value:
            setattr(obj, field, value)
            changed = True
    return changed


def _upsert_order(
    session: Session, clean: Dict[str, Any], *, now: dt.datetime, report: ImportReport
) -> None:
    """Insert the order, or update only the fields that changed."""
    order = session.get(OrderRow, clean["order_id"])
    if order is None:
        session.add(OrderRow(**{"created_at": now, **clean, "updated_at": now}))
        report.inserted += 1
        return
    if assign_changed(order, clean):
        order.updated_at = now
        report.updated += 1
    else:
        report.unchanged += 1


def as_model(row: OrderRow) -> model.Order:
    """The row as the frozen ``model.Order`` that ``decide`` takes."""
    return model.Order(**{field: getattr(row, field) for field in ORDER_FIELDS})


def order_for(
    session: Session, *, order_id: str, buyer_id: Optional[str] = None
) -> Optional[model.Order]:
    """The order as ``decide`` sees it, or None.

    Args:
        session: an open session.
        order_id: the order number the buyer gave.
        buyer_id: when given, the order must be this buyer's (a buyer must not
            learn about someone else's order by guessing numbers).

    Returns:
        The order, or None when unknown or not this buyer's.
    """
    row = session.get(OrderRow, str(order_id).strip())
    if row is None or (buyer_id is not None and row.buyer_id != buyer_id):
        return None
    return as_model(row)


def recent_orders(
    session: Session,
    *,
    buyer_id: str,
    shop_id: Optional[str] = None,
    now: dt.datetime,
    days: int = 60,
) -> List[model.Order]:
    """The buyer's orders placed in the last ``days`` days, newest first.

    Lets the bot skip asking for an order number when the buyer has exactly one
    recent order (in this shop, when ``shop_id`` is given).

    Args:
        session: an open session.
        buyer_id: the buyer.
        shop_id: limit to this shop.
        now: aware "now".
        days: how far back.

    Returns:
        Orders with ``created_at`` within the period.
    """
    query = select(OrderRow).where(
        OrderRow.buyer_id == buyer_id,
        OrderRow.created_at >= now - dt.timedelta(days=days),
        OrderRow.created_at <= now,
    )
    if shop_id is not None:
        query = query.where(OrderRow.shop_id == shop_id)
    query = query.order_by(OrderRow.created_at.desc(), OrderRow.order_id)
    return [as_model(row) for row in session.execute(query).scalars()]


def _json_safe(value: Any) -> Any:
    """Round-trip through JSON so datetimes and tuples are stored as plain JSON."""

    def default(item: Any) -> Any:
        if isinstance(item, (dt.datetime, dt.date)):
            return item.isoformat()
        if dataclasses.is_dataclass(item):
            return dataclasses.asdict(item)
        return str(item)

    return json.loads(json.dumps(value, default=default, ensure_ascii=False))


def log_decision(
    session: Session,
    *,
    conversation_id: str,
    message: Optional[str],
    intent: Optional[str],
    confidence: Optional[float],
    request: Dict[str, Any],
    order_id: Optional[str],
    decision: model.Decision,
    now: dt.datetime,
) -> int:
    """Append one decision to the log.

    Args:
        session: an open session (not committed here).
        conversation_id: the Rasa sender / conversation id.
        message: the buyer's message the decision answered.
        intent: the NLU intent.
        confidence: the intent confidence.
        request: the decide input (stored as JSON).
        order_id: the order decided on, or None when none was found.
        decision: the decide output.
        now: aware time of the decision.

    Returns:
        The new row's id.
    """
    row = DecisionRow(
        conversation_id=conversation_id,
        message=message,
        intent=intent,
        confidence=confidence,
        created_at=now,
        request=_json_safe(request),
        order_id=order_id,
        verdict=decision.verdict,
        shipping_payer=decision.shipping_payer,
        decline_reason=decision.decline_reason,
        handoff_reason=decision.handoff_reason,
        rule_ids=list(decision.rule_ids),
        deadline=decision.deadline,
        notes=list(decision.notes),
    )
    session.add(row)
    session.flush()
    return row.id


# The decide input fields a decision log line repeats (what was decided on).
REQUEST_FIELDS = ("request", "reason", "remedy", "stated_condition", "requested_amount")


def decisions_for(session: Session, *, conversation_id: str) -> List[Dict[str, Any]]:
    """The conversation's decisions, oldest first, with the decide output's field names.

    Args:
        session: an open session.
        conversation_id: the conversation.

    Returns:
        One JSON-ready dict per decision: the decide output fields plus
        ``conversation_id``, ``message``, ``intent``, ``confidence``,
        ``created_at`` (ISO 8601), ``order_id`` and what was decided on: the
        decide input's ``request``, ``reason``, ``remedy``, ``stated_condition``
        and ``requested_amount``.
    """
    query = (
        select(DecisionRow)
        .where(DecisionRow.conversation_id == conversation_id)
        .order_by(DecisionRow.created_at, DecisionRow.id)
    )
    return [
        {
            "conversation_id": row.conversation_id,
            "created_at": row.created_at.isoformat(),
            "message": row.message,
            "intent": row.intent,
            "confidence": row.confidence,
            "order_id": row.order_id,
            "verdict": row.verdict,
            "shipping_payer": row.shipping_payer,
            "decline_reason": row.decline_reason,
            "handoff_reason": row.handoff_reason,
            "rule_ids": list(row.rule_ids or ()),
            "deadline": row.deadline.isoformat() if row.deadline else None,
            "notes": list(row.notes or ()),
            **{field: (row.request or {}).get(field) for field in REQUEST_FIELDS},
        }
        for row in session.execute(query).scalars()
    ]
