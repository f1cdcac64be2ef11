"""Webhook endpoints registered by `revlens webhooks setup`, with their signing secrets.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import revlens.db.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the webhook_endpoints table."""
    op.create_table(
        "webhook_endpoints",
        sa.Column("stripe_id", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("connect", sa.Boolean(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("stripe_id", name=op.f("pk_webhook_endpoints")),
    )


def downgrade() -> None:
    """Drop the webhook_endpoints table."""
    op.drop_table("webhook_endpoints")
