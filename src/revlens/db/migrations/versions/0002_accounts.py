"""Connected accounts, OAuth states and deletion records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import revlens.db.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the accounts tables."""
    op.create_table(
        "connected_accounts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("scope_requested", sa.String(length=32), nullable=False),
        sa.Column("scope_granted", sa.String(length=32), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "connected", "disconnected", name="accountstatus", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("connected_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_authorized_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("disconnected_at", revlens.db.types.UTCDateTime(), nullable=True),
        sa.Column("disconnect_reason", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connected_accounts")),
    )
    op.create_table(
        "oauth_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser_id", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("created_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", revlens.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_states")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_states_state_hash")),
    )
    op.create_index(op.f("ix_oauth_states_expires_at"), "oauth_states", ["expires_at"])
    op.create_table(
        "deletion_records",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("deleted_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("rows_deleted", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["connected_accounts.id"],
            name=op.f("fk_deletion_records_account_id_connected_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deletion_records")),
    )
    op.create_index(op.f("ix_deletion_records_account_id"), "deletion_records", ["account_id"])


def downgrade() -> None:
    """Drop the accounts tables."""
    op.drop_index(op.f("ix_deletion_records_account_id"), table_name="deletion_records")
    op.drop_table("deletion_records")
    op.drop_index(op.f("ix_oauth_states_expires_at"), table_name="oauth_states")
    op.drop_table("oauth_states")
    op.drop_table("connected_accounts")
