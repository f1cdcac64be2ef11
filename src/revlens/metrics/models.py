"""Tables of derived metrics: per preset and customer, per account and day, and API keys.

Every table has an `account_id` column, so the account purge deletes it without being told.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from revlens.db.base import Base
from revlens.db.types import UTCDateTime

BigId = BigInteger().with_variant(Integer, "sqlite")


class MetricState(Base):
    """One materialised preset of an account: its version moves with every write of its rows.

    `version` is bumped by every recompute; rows written by it carry the new value, so a reader
    holding version v only needs the rows with a greater one. `rebuilt_version` is the version
    of the last full recompute: a reader older than it reloads everything.
    """

    __tablename__ = "metric_states"
    __table_args__ = (UniqueConstraint("account_id", "preset"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    preset: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # pending | ready
    version: Mapped[int] = mapped_column(BigInteger, default=0)
    rebuilt_version: Mapped[int] = mapped_column(BigInteger, default=0)
    customers: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)


class MetricCustomer(Base):
    """A customer's contribution under one preset: end-of-day MRR steps, movements, trials."""

    __tablename__ = "metric_customers"
    __table_args__ = (
        UniqueConstraint("account_id", "preset", "customer_id"),
        Index("ix_metric_customers_version", "account_id", "preset", "version"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    preset: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(255))
    version: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class MetricMovement(Base):
    """One customer movement under one preset, with the changes that explain it."""

    __tablename__ = "metric_movements"
    __table_args__ = (
        Index("ix_metric_movements_day", "account_id", "preset", "currency", "day"),
        Index("ix_metric_movements_customer", "account_id", "preset", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    preset: Mapped[str] = mapped_column(String(32))
    customer_id: Mapped[str] = mapped_column(String(255))
    currency: Mapped[str] = mapped_column(String(8))
    day: Mapped[int] = mapped_column(Integer)  # date.toordinal() in the preset's timezone
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    before: Mapped[int] = mapped_column(BigInteger)
    after: Mapped[int] = mapped_column(BigInteger)
    changes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class MetricCashDay(Base):
    """An account's cash of one currency on one UTC day (charges, refunds, disputes, fees)."""

    __tablename__ = "metric_cash_days"
    __table_args__ = (UniqueConstraint("account_id", "currency", "day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(8))
    day: Mapped[int] = mapped_column(Integer)
    gross_volume: Mapped[int] = mapped_column(BigInteger, default=0)
    refunds: Mapped[int] = mapped_column(BigInteger, default=0)
    dispute_losses: Mapped[int] = mapped_column(BigInteger, default=0)
    fees: Mapped[int] = mapped_column(BigInteger, default=0)
    failed_charges: Mapped[int] = mapped_column(BigInteger, default=0)
    failed_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    application_fees: Mapped[int] = mapped_column(BigInteger, default=0)


class MetricDirty(Base):
    """Something an applied event changed whose metrics are not yet recomputed.

    `subject` is a customer id, or `CASH` for the account's cash.
    """

    __tablename__ = "metric_dirty"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MetricEventOwner(Base):
    """Which customer a stored subscription or discount event belongs to.

    Stored events are raw JSON: this index lets a one-customer refresh read that customer's
    events without parsing every event of the account.
    """

    __tablename__ = "metric_event_owners"
    __table_args__ = (Index("ix_metric_event_owners_customer", "account_id", "customer_id"),)

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255))


class ApiKey(Base):
    """A key that reads one account's metrics API; only its SHA-256 is stored."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("token_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))  # shown so a key can be recognised
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
