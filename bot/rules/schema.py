"""The rule base, orders and decision log as SQLAlchemy tables.

The YAML files under ``data/rules/`` are the source of truth for rules; these
tables are what the bot reads at run time. Orders come from the shop's order
system (``orders import``) or the demo file, and every decision the bot takes
is appended to ``decisions`` so a human agent can see why it answered as it did.

Schema changes go through Alembic (``bot/rules/migrations/``), never through
``create_all``: a deployed PostgreSQL database must be upgradable in place.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

Base = declarative_base()


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC.

    SQLite has no timezone type, and comparing timestamps in mixed offsets is a
    classic source of off-by-eight-hours bugs around the 7-day window. So every
    value is converted to UTC on the way in (naive values are refused: the
    caller must say which timezone it means) and comes back aware, in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Dialect) -> Any:
        """Refuse naive datetimes; store UTC (naive UTC on SQLite)."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: give a timezone")
        utc = value.astimezone(timezone.utc)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Optional[datetime], dialect: Dialect) -> Any:
        """Return an aware datetime in UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


# ``value`` columns hold JSON numbers, flags, strings or objects; a YAML null
# must stay SQL NULL so "the platform has no such rule" is queryable.
JSONValue = JSON(none_as_null=True)


class Platform(Base):
    """One of the five platforms of ``vocabulary.PLATFORMS``."""

    __tablename__ = "platforms"

    platform_id = Column(String(32), primary_key=True)
    name_zh = Column(String(64), nullable=False)


class RuleRow(Base):
    """A rule of the legal floor (scope ``law``) or a platform default.

    One row per (scope, key); ``rule_id`` is what decisions cite.
    """

    __tablename__ = "rules"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_rules_scope_key"),)

    rule_id = Column(String(64), primary_key=True)
    scope = Column(String(32), nullable=False, index=True)
    key = Column(String(64), nullable=False)
    value = Column(JSONValue, nullable=True)
    unit = Column(String(32), nullable=True)
    counted_from = Column(String(32), nullable=True)
    source_ids = Column(JSON, nullable=False)
    certainty = Column(String(8), nullable=False)
    note = Column(Text, nullable=True)


class Category(Base):
    """A lexicon entry: an everyday category name and its POLICY.md class.

    ``category_class`` is None for ordinary goods (no-reason return applies).
    """

    __tablename__ = "categories"

    name = Column(String(64), primary_key=True)
    category_class = Column(String(32), nullable=True)
    group = Column(String(32), nullable=False)


class Shop(Base):
    """A shop on one platform; ``return_address`` None means the platform default."""

    __tablename__ = "shops"

    shop_id = Column(String(64), primary_key=True)
    platform = Column(String(32), ForeignKey("platforms.platform_id"), nullable=False)
    name = Column(String(128), nullable=False)
    return_address = Column(Text, nullable=True)


class ShopPromise(Base):
    """A shop's own value for a platform key, only ever better for the buyer."""

    __tablename__ = "shop_promises"
    __table_args__ = (UniqueConstraint("shop_id", "key", name="uq_shop_promises_shop_key"),)

    id = Column(Integer, primary_key=True, autoincrement=True)
    shop_id = Column(
        String(64), ForeignKey("shops.shop_id", ondelete="CASCADE"), nullable=False
    )
    key = Column(String(64), nullable=False)
    value = Column(JSONValue, nullable=True)
    unit = Column(String(32), nullable=True)
    counted_from = Column(String(32), nullable=True)
    rule_id = Column(String(96), nullable=False, unique=True)
    note = Column(Text, nullable=True)


class Buyer(Base):
    """A buyer account; ids are per platform."""

    __tablename__ = "buyers"

    buyer_id = Column(String(64), primary_key=True)
    platform = Column(String(32), ForeignKey("platforms.platform_id"), nullable=False)


class OrderRow(Base):
    """An order with the fields of the decide contract.

    ``created_at`` is when the buyer placed the order (the first import time when
    the shop's system does not say); ``updated_at`` changes only when an import
    actually changed a field.
    """

    __tablename__ = "orders"

    order_id = Column(String(64), primary_key=True)
    shop_id = Column(String(64), ForeignKey("shops.shop_id"), nullable=False, index=True)
    buyer_id = Column(String(64), ForeignKey("buyers.buyer_id"), nullable=False, index=True)
    platform = Column(String(32), ForeignKey("platforms.platform_id"), nullable=False)
    status = Column(String(32), nullable=False)
    signed_at = Column(UTCDateTime, nullable=True)
    completed_at = Column(UTCDateTime, nullable=True)
    customs_released_at = Column(UTCDateTime, nullable=True)
    category = Column(String(128), nullable=True)
    category_class = Column(String(32), nullable=True)
    fulfillment = Column(String(32), nullable=False, default="domestic")
    amount = Column(Float, nullable=True)
    free_shipping = Column(Boolean, nullable=False, default=True)
    shipping_insurance = Column(Boolean, nullable=False, default=False)
    seven_day_label = Column(Boolean, nullable=True)
    buyer_confirmed_exclusion = Column(Boolean, nullable=False, default=False)
    condition = Column(String(32), nullable=False, default="unopened")
    created_at = Column(UTCDateTime, nullable=False)
    updated_at = Column(UTCDateTime, nullable=False)


class DecisionRow(Base):
    """One decision the bot took in a conversation (append-only log)."""

    __tablename__ = "decisions"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(256), nullable=False, index=True)
    message = Column(Text, nullable=True)
    intent = Column(String(64), nullable=True)
    confidence = Column(Float, nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    request = Column(JSON, nullable=False)
    order_id = Column(String(64), nullable=True)
    verdict = Column(String(32), nullable=False)
    shipping_payer = Column(String(32), nullable=False)
    decline_reason = Column(String(32), nullable=True)
    handoff_reason = Column(String(32), nullable=True)
    rule_ids = Column(JSON, nullable=False)
    deadline = Column(UTCDateTime, nullable=True)
    notes = Column(JSON, nullable=False)


class HandoffRow(Base):
    """A conversation handed to a person: why, by when, and when the bot got it back.

    The bot pauses itself (Rasa's ``ConversationPaused``) when it writes a row;
    ``resumed_at`` is set when an agent hands the conversation back. An open
    row (``resumed_at`` NULL) is what the agents' queue shows.
    """

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(256), nullable=False, index=True)
    reason = Column(String(32), nullable=False)
    priority = Column(String(16), nullable=False, default="normal")
    decision_id = Column(Integer, ForeignKey("decisions.id"), nullable=True)
    channel = Column(String(32), nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    answer_by = Column(UTCDateTime, nullable=True)
    resumed_at = Column(UTCDateTime, nullable=True)
    resumed_by = Column(String(64), nullable=True)
    taken_by = Column(String(64), nullable=True)
    taken_at = Column(UTCDateTime, nullable=True)


class AgentReplyRow(Base):
    """What an agent did with the panel's suggested reply (append-only log).

    ``choice`` is ``accepted`` (sent as suggested), ``edited`` (sent after
    changes) or ``rejected`` (discarded; ``text`` is then NULL). The shop learns
    from it which suggestions its agents trust; the sent text itself is also in
    the tracker as a ``bot`` event with ``metadata.anxin_agent``.
    """

    __tablename__ = "agent_replies"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(256), nullable=False, index=True)
    agent = Column(String(64), nullable=False)
    choice = Column(String(16), nullable=False)
    suggestion = Column(Text, nullable=True)
    text = Column(Text, nullable=True)
    decision_id = Column(Integer, ForeignKey("decisions.id"), nullable=True)
    channel = Column(String(32), nullable=True)
    created_at = Column(UTCDateTime, nullable=False, index=True)


class IMMessageRow(Base):
    """A message the IM platform pushed, kept so a retried push is not answered twice.

    The unique (platform, message_id) pair makes "first time or duplicate?" one
    atomic insert, across restarts and concurrent retries.
    """

    __tablename__ = "im_messages"
    __table_args__ = (
        UniqueConstraint("platform", "message_id", name="uq_im_messages_platform_message"),
    )

    id = Column(Integer, primary_key=True, autoincrement=True)
    platform = Column(String(32), nullable=False)
    message_id = Column(String(128), nullable=False)
    conversation_id = Column(String(256), nullable=False)
    received_at = Column(UTCDateTime, nullable=False)


class IMOutboxRow(Base):
    """A reply to send to the IM platform; kept until the send API accepted it.

    ``next_attempt_at`` moves back exponentially after each failed attempt;
    ``delivered_at`` is set once the platform answered 2xx. ``buttons`` keeps
    the reply's buttons so a buyer answering "2" presses the second one.
    ``claimed_by``/``claimed_until``: the Rasa server sending it right now, so a
    second server sharing the database does not send it too.
    """

    __tablename__ = "im_outbox"

    id = Column(Integer, primary_key=True, autoincrement=True)
    conversation_id = Column(String(256), nullable=False, index=True)
    reply_to = Column(String(128), nullable=False)
    buyer_id = Column(String(64), nullable=False)
    shop_id = Column(String(64), nullable=False)
    platform = Column(String(32), nullable=False)
    text = Column(Text, nullable=False)
    buttons = Column(JSON, nullable=True)
    created_at = Column(UTCDateTime, nullable=False)
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(UTCDateTime, nullable=False)
    delivered_at = Column(UTCDateTime, nullable=True, index=True)
    last_error = Column(Text, nullable=True)
    claimed_by = Column(String(64), nullable=True)
    claimed_until = Column(UTCDateTime, nullable=True)
