"""Heartbeats: the rows that prove the queue and workers run.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import revlens.db.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the heartbeats table."""
    op.create_table(
        "heartbeats",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("process", sa.String(length=128), nullable=False),
        sa.Column("created_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeats")),
    )
    op.create_index(op.f("ix_heartbeats_created_at"), "heartbeats", ["created_at"])


def downgrade() -> None:
    """Drop the heartbeats table."""
    op.drop_index(op.f("ix_heartbeats_created_at"), table_name="heartbeats")
    op.drop_table("heartbeats")
