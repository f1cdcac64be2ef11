"""metrics: per-customer contributions, movements, cash days, dirty marks, API keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import revlens.db.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", revlens.db.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_keys_token_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_account_id"), ["account_id"], unique=False)

    op.create_table(
        "metric_cash_days",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("gross_volume", sa.BigInteger(), nullable=False),
        sa.Column("refunds", sa.BigInteger(), nullable=False),
        sa.Column("dispute_losses", sa.BigInteger(), nullable=False),
        sa.Column("fees", sa.BigInteger(), nullable=False),
        sa.Column("failed_charges", sa.BigInteger(), nullable=False),
        sa.Column("failed_amount", sa.BigInteger(), nullable=False),
        sa.Column("application_fees", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_cash_days")),
        sa.UniqueConstraint(
            "account_id",
            "currency",
            "day",
            name=op.f("uq_metric_cash_days_account_id_currency_day"),
        ),
    )
    op.create_table(
        "metric_customers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("preset", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_customers")),
        sa.UniqueConstraint(
            "account_id",
            "preset",
            "customer_id",
            name=op.f("uq_metric_customers_account_id_preset_customer_id"),
        ),
    )
    with op.batch_alter_table("metric_customers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_customers_version", ["account_id", "preset", "version"], unique=False
        )

    op.create_table(
        "metric_dirty",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("marked_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "subject", name=op.f("pk_metric_dirty")),
    )
    op.create_table(
        "metric_movements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("preset", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("currency", sa.String(length=8), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("before", sa.BigInteger(), nullable=False),
        sa.Column("after", sa.BigInteger(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_movements")),
    )
    with op.batch_alter_table("metric_movements", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_movements_customer", ["account_id", "preset", "customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_metric_movements_day", ["account_id", "preset", "currency", "day"], unique=False
        )

    op.create_table(
        "metric_states",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("preset", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("rebuilt_version", sa.BigInteger(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("computed_at", revlens.db.types.UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metric_states")),
        sa.UniqueConstraint(
            "account_id", "preset", name=op.f("uq_metric_states_account_id_preset")
        ),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("metric_states")
    with op.batch_alter_table("metric_movements", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_movements_day")
        batch_op.drop_index("ix_metric_movements_customer")

    op.drop_table("metric_movements")
    op.drop_table("metric_dirty")
    with op.batch_alter_table("metric_customers", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_customers_version")

    op.drop_table("metric_customers")
    op.drop_table("metric_cash_days")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_account_id"))

    op.drop_table("api_keys")
