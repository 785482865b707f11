"""Initial rule base: platforms, rules, categories, shops, promises, buyers, orders, decisions.

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create every table of ``bot.rules.schema`` as of this revision."""
    op.create_table(
        "platforms",
        sa.Column("platform_id", sa.String(32), primary_key=True),
        sa.Column("name_zh", sa.String(64), nullable=False),
    )
    op.create_table(
        "rules",
        sa.Column("rule_id", sa.String(64), primary_key=True),
        sa.Column("scope", sa.String(32), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("counted_from", sa.String(32), nullable=True),
        sa.Column("source_ids", sa.JSON(), nullable=False),
        sa.Column("certainty", sa.String(8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("scope", "key", name="uq_rules_scope_key"),
    )
    op.create_index("ix_rules_scope", "rules", ["scope"])
    op.create_table(
        "categories",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("category_class", sa.String(32), nullable=True),
        sa.Column("group", sa.String(32), nullable=False),
    )
    op.create_table(
        "shops",
        sa.Column("shop_id", sa.String(64), primary_key=True),
        sa.Column(
            "platform", sa.String(32), sa.ForeignKey("platforms.platform_id"), nullable=False
        ),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("return_address", sa.Text(), nullable=True),
    )
    op.create_table(
        "shop_promises",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "shop_id",
            sa.String(64),
            sa.ForeignKey("shops.shop_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("unit", sa.String(32), nullable=True),
        sa.Column("counted_from", sa.String(32), nullable=True),
        sa.Column("rule_id", sa.String(96), nullable=False, unique=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("shop_id", "key", name="uq_shop_promises_shop_key"),
    )
    op.create_table(
        "buyers",
        sa.Column("buyer_id", sa.String(64), primary_key=True),
        sa.Column(
            "platform", sa.String(32), sa.ForeignKey("platforms.platform_id"), nullable=False
        ),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("shop_id", sa.String(64), sa.ForeignKey("shops.shop_id"), nullable=False),
        sa.Column("buyer_id", sa.String(64), sa.ForeignKey("buyers.buyer_id"), nullable=False),
        sa.Column(
            "platform", sa.String(32), sa.ForeignKey("platforms.platform_id"), nullable=False
        ),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("customs_released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("category", sa.String(128), nullable=True),
        sa.Column("category_class", sa.String(32), nullable=True),
        sa.Column("fulfillment", sa.String(32), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("free_shipping", sa.Boolean(), nullable=False),
        sa.Column("shipping_insurance", sa.Boolean(), nullable=False),
        sa.Column("seven_day_label", sa.Boolean(), nullable=True),
        sa.Column("buyer_confirmed_exclusion", sa.Boolean(), nullable=False),
        sa.Column("condition", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_orders_shop_id", "orders", ["shop_id"])
    op.create_index("ix_orders_buyer_id", "orders", ["buyer_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("intent", sa.String(64), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("order_id", sa.String(64), nullable=True),
        sa.Column("verdict", sa.String(32), nullable=False),
        sa.Column("shipping_payer", sa.String(32), nullable=False),
        sa.Column("decline_reason", sa.String(32), nullable=True),
        sa.Column("handoff_reason", sa.String(32), nullable=True),
        sa.Column("rule_ids", sa.JSON(), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_decisions_conversation_id", "decisions", ["conversation_id"])


def downgrade() -> None:
    """Drop every table (children first)."""
    op.drop_index("ix_decisions_conversation_id", table_name="decisions")
    op.drop_table("decisions")
    op.drop_index("ix_orders_buyer_id", table_name="orders")
    op.drop_index("ix_orders_shop_id", table_name="orders")
    op.drop_table("orders")
    op.drop_table("buyers")
    op.drop_table("shop_promises")
    op.drop_table("shops")
    op.drop_table("categories")
    op.drop_index("ix_rules_scope", table_name="rules")
    op.drop_table("rules")
    op.drop_table("platforms")
