"""Billing: plan prices, who pays for which account, and subscription states.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import revlens.db.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the billing tables."""
    op.create_table(
        "billing_plan_prices",
        sa.Column("plan", sa.String(length=40), nullable=False),
        sa.Column("price_id", sa.String(length=255), nullable=False),
        sa.Column("product_id", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("interval", sa.String(length=8), nullable=False),
        sa.Column("recorded_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("plan", name=op.f("pk_billing_plan_prices")),
        sa.UniqueConstraint("price_id", name=op.f("uq_billing_plan_prices_price_id")),
    )
    op.create_table(
        "billing_accounts",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.Boolean(), nullable=False),
        sa.Column("linked_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["connected_accounts.id"],
            name=op.f("fk_billing_accounts_account_id_connected_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_billing_accounts")),
    )
    op.create_index(
        op.f("ix_billing_accounts_customer_id"), "billing_accounts", ["customer_id"], unique=False
    )
    op.create_table(
        "billing_subscriptions",
        sa.Column("stripe_id", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.Column("price_id", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("current_period_end", sa.BigInteger(), nullable=True),
        sa.Column("trial_end", sa.BigInteger(), nullable=True),
        sa.Column("past_due_since", sa.BigInteger(), nullable=True),
        sa.Column("source_ts", sa.BigInteger(), nullable=False),
        sa.Column("last_paid_at", sa.BigInteger(), nullable=True),
        sa.Column("last_payment_failed_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", revlens.db.types.UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("stripe_id", name=op.f("pk_billing_subscriptions")),
    )
    op.create_index(
        "ix_billing_subscriptions_customer", "billing_subscriptions", ["customer_id"], unique=False
    )


def downgrade() -> None:
    """Drop the billing tables."""
    op.drop_index("ix_billing_subscriptions_customer", table_name="billing_subscriptions")
    op.drop_table("billing_subscriptions")
    op.drop_index(op.f("ix_billing_accounts_customer_id"), table_name="billing_accounts")
    op.drop_table("billing_accounts")
    op.drop_table("billing_plan_prices")
