"""IM outbox claims: several Rasa servers share one outbox without sending a reply twice.

Revision ID: 0005_im_outbox_claims
Revises: 0004_agent_panel
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_im_outbox_claims"
down_revision = "0004_agent_panel"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``im_outbox.claimed_by`` and ``claimed_until``."""
    with op.batch_alter_table("im_outbox") as outbox:
        outbox.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        outbox.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop the claim columns."""
    with op.batch_alter_table("im_outbox") as outbox:
        outbox.drop_column("claimed_until")
        outbox.drop_column("claimed_by")
