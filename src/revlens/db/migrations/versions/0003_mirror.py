"""mirror: objects, events, sync streams and ranges, event cursors

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import revlens.db.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "event_cursors",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("boundary_ids", sa.JSON(), nullable=False),
        sa.Column("updated_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_event_cursors")),
    )
    op.create_table(
        "mirror_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("api_version", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("processed_at", revlens.db.types.UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirror_events")),
        sa.UniqueConstraint(
            "account_id", "event_id", name=op.f("uq_mirror_events_account_id_event_id")
        ),
    )
    with op.batch_alter_table("mirror_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mirror_events_account_created", ["account_id", "created"], unique=False
        )
        batch_op.create_index("ix_mirror_events_pending", ["processed_at"], unique=False)

    op.create_table(
        "mirror_objects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=40), nullable=False),
        sa.Column("stripe_id", sa.String(length=255), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("source_ts", sa.BigInteger(), nullable=False),
        sa.Column("synced_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", sa.BigInteger(), nullable=True),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirror_objects")),
        sa.UniqueConstraint(
            "account_id",
            "object_type",
            "stripe_id",
            name=op.f("uq_mirror_objects_account_id_object_type_stripe_id"),
        ),
    )
    with op.batch_alter_table("mirror_objects", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mirror_objects_customer", ["account_id", "customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_mirror_objects_type_created", ["account_id", "object_type", "created"], unique=False
        )

    op.create_table(
        "sync_ranges",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("gte", sa.BigInteger(), nullable=False),
        sa.Column("lt", sa.BigInteger(), nullable=False),
        sa.Column("starting_after", sa.String(length=255), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("leased_until", revlens.db.types.UTCDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_ranges")),
    )
    with op.batch_alter_table("sync_ranges", schema=None) as batch_op:
        batch_op.create_index("ix_sync_ranges_open", ["account_id", "stream", "done"], unique=False)

    op.create_table(
        "sync_streams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lower_bound", sa.BigInteger(), nullable=False),
        sa.Column("frozen_until", sa.BigInteger(), nullable=False),
        sa.Column("objects", sa.BigInteger(), nullable=False),
        sa.Column("requests", sa.BigInteger(), nullable=False),
        sa.Column("rate_limited", sa.BigInteger(), nullable=False),
        sa.Column("retries", sa.BigInteger(), nullable=False),
        sa.Column("started_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("completed_at", revlens.db.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_reconciled_at", revlens.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_streams")),
        sa.UniqueConstraint("account_id", "stream", name=op.f("uq_sync_streams_account_id_stream")),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("sync_streams")
    with op.batch_alter_table("sync_ranges", schema=None) as batch_op:
        batch_op.drop_index("ix_sync_ranges_open")

    op.drop_table("sync_ranges")
    with op.batch_alter_table("mirror_objects", schema=None) as batch_op:
        batch_op.drop_index("ix_mirror_objects_type_created")
        batch_op.drop_index("ix_mirror_objects_customer")

    op.drop_table("mirror_objects")
    with op.batch_alter_table("mirror_events", schema=None) as batch_op:
        batch_op.drop_index("ix_mirror_events_pending")
        batch_op.drop_index("ix_mirror_events_account_created")

    op.drop_table("mirror_events")
    op.drop_table("event_cursors")
