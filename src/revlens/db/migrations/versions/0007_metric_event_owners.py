"""metrics: which customer each stored subscription or discount event belongs to

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None
BATCH = 5_000


def _owner(text: str | None) -> str | None:
    obj: Any = ((json.loads(text or "{}") or {}).get("data") or {}).get("object") or {}
    owner = obj.get("customer")
    if isinstance(owner, dict):
        owner = owner.get("id")
    return owner if isinstance(owner, str) and owner else None


def upgrade() -> None:
    """Create the index and fill it from the events already stored."""
    owners = op.create_table(
        "metric_event_owners",
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "event_id", name=op.f("pk_metric_event_owners")),
    )
    with op.batch_alter_table("metric_event_owners", schema=None) as batch_op:
        batch_op.create_index(
            "ix_metric_event_owners_customer", ["account_id", "customer_id"], unique=False
        )
    events = sa.table(
        "mirror_events",
        sa.column("account_id", sa.String),
        sa.column("event_id", sa.String),
        sa.column("type", sa.String),
        sa.column("data", sa.Text),
    )
    query = sa.select(
        events.c.account_id, events.c.event_id, sa.cast(events.c.data, sa.Text)
    ).where(
        sa.or_(
            events.c.type.like("customer.subscription.%"),
            events.c.type.like("customer.discount.%"),
        )
    )
    bind = op.get_bind()
    rows: list[dict[str, str]] = []
    for account_id, event_id, text in bind.execute(query):
        owner = _owner(text)
        if owner is not None:
            rows.append({"account_id": account_id, "event_id": event_id, "customer_id": owner})
        if len(rows) >= BATCH:
            bind.execute(owners.insert(), rows)
            rows = []
    if rows:
        bind.execute(owners.insert(), rows)


def downgrade() -> None:
    """Drop the index."""
    with op.batch_alter_table("metric_event_owners", schema=None) as batch_op:
        batch_op.drop_index("ix_metric_event_owners_customer")
    op.drop_table("metric_event_owners")
