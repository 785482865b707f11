"""IM channel: pushed message ids (de-duplication) and the outbox of replies.

Revision ID: 0003_im_channel
Revises: 0002_handoffs
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_im_channel"
down_revision = "0002_handoffs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``im_messages`` and ``im_outbox``."""
    op.create_table(
        "im_messages",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("message_id", sa.String(128), nullable=False),
        sa.Column("conversation_id", sa.String(256), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("platform", "message_id", name="uq_im_messages_platform_message"),
    )
    op.create_table(
        "im_outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(256), nullable=False),
        sa.Column("reply_to", sa.String(128), nullable=False),
        sa.Column("buyer_id", sa.String(64), nullable=False),
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("buttons", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_im_outbox_conversation_id", "im_outbox", ["conversation_id"])
    op.create_index("ix_im_outbox_delivered_at", "im_outbox", ["delivered_at"])


def downgrade() -> None:
    """Drop ``im_outbox`` and ``im_messages``."""
    op.drop_index("ix_im_outbox_delivered_at", table_name="im_outbox")
    op.drop_index("ix_im_outbox_conversation_id", table_name="im_outbox")
    op.drop_table("im_outbox")
    op.drop_table("im_messages")
