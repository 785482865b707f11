"""Agent panel: who took a conversation over, and what agents did with suggestions.

Revision ID: 0004_agent_panel
Revises: 0003_im_channel
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_agent_panel"
down_revision = "0003_im_channel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``handoffs.taken_by/taken_at``, create ``agent_replies``.

    Conversation ids widen to 256 characters, as long as the IM channel's
    ``im:<platform>:<shop>:<buyer>`` ids can be.
    """
    with op.batch_alter_table("decisions") as decisions:
        decisions.alter_column("conversation_id", type_=sa.String(256), existing_nullable=False)
    with op.batch_alter_table("handoffs") as handoffs:
        handoffs.alter_column("conversation_id", type_=sa.String(256), existing_nullable=False)
        handoffs.add_column(sa.Column("taken_by", sa.String(64), nullable=True))
        handoffs.add_column(sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "agent_replies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(256), nullable=False),
        sa.Column("agent", sa.String(64), nullable=False),
        sa.Column("choice", sa.String(16), nullable=False),
        sa.Column("suggestion", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("decision_id", sa.Integer(), sa.ForeignKey("decisions.id"), nullable=True),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_agent_replies_conversation_id", "agent_replies", ["conversation_id"])
    op.create_index("ix_agent_replies_created_at", "agent_replies", ["created_at"])


def downgrade() -> None:
    """Drop ``agent_replies`` and the takeover columns."""
    op.drop_index("ix_agent_replies_created_at", table_name="agent_replies")
    op.drop_index("ix_agent_replies_conversation_id", table_name="agent_replies")
    op.drop_table("agent_replies")
    with op.batch_alter_table("handoffs") as handoffs:
        handoffs.drop_column("taken_at")
        handoffs.drop_column("taken_by")
        handoffs.alter_column("conversation_id", type_=sa.String(128), existing_nullable=False)
    with op.batch_alter_table("decisions") as decisions:
        decisions.alter_column("conversation_id", type_=sa.String(128), existing_nullable=False)
