"""Handoffs: conversations the bot passed to a person, and when they came back.

Revision ID: 0002_handoffs
Revises: 0001_initial
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_handoffs"
down_revision = "0001_initial"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``handoffs``."""
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("decisions.id"), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resumed_by", sa.String(64), nullable=True),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])


def downgrade() -> None:
    """Drop ``handoffs``."""
    op.drop_index("ix_handoffs_conversation_id", table_name="handoffs")
    op.drop_table("handoffs")
