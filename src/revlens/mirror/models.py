"""Tables of the mirror: objects, the event log, and the progress of every stream."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from revlens.db.base import Base
from revlens.db.types import UTCDateTime

# JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
RawJson = JSON().with_variant(JSONB(), "postgresql")


class MirroredObject(Base):
    """A Stripe object as last seen: raw JSON plus the columns that are filtered or joined on."""

    __tablename__ = "mirror_objects"
    __table_args__ = (
        UniqueConstraint("account_id", "object_type", "stripe_id"),
        Index("ix_mirror_objects_type_created", "account_id", "object_type", "created"),
        Index("ix_mirror_objects_customer", "account_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(40))
    stripe_id: Mapped[str] = mapped_column(String(255))
    livemode: Mapped[bool] = mapped_column(Boolean)
    created: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    customer_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    # Stripe time of the state stored (event `created`, or when it was read): the newer-than guard.
    source_ts: Mapped[int] = mapped_column(BigInteger)
    synced_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deleted_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(RawJson)


class StripeEvent(Base):
    """Every event revlens received, kept forever, stored before it is applied."""

    __tablename__ = "mirror_events"
    __table_args__ = (
        UniqueConstraint("account_id", "event_id"),
        Index("ix_mirror_events_account_created", "account_id", "created"),
        Index("ix_mirror_events_pending", "processed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(100))
    created: Mapped[int] = mapped_column(BigInteger)
    livemode: Mapped[bool] = mapped_column(Boolean)
    api_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    source: Mapped[str] = mapped_column(String(16))  # webhook | events_api
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(RawJson)


class SyncStream(Base):
    """The backfill of one stream of one account, and what it cost."""

    __tablename__ = "sync_streams"
    __table_args__ = (UniqueConstraint("account_id", "stream"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))  # running | complete | gap | failed
    lower_bound: Mapped[int] = mapped_column(BigInteger)
    frozen_until: Mapped[int] = mapped_column(BigInteger)  # the backfill lists created < this
    objects: Mapped[int] = mapped_column(BigInteger, default=0)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    rate_limited: Mapped[int] = mapped_column(BigInteger, default=0)
    retries: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    last_reconciled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SyncRange(Base):
    """A `created` range of a stream still being paged, checkpointed after every page."""

    __tablename__ = "sync_ranges"
    __table_args__ = (Index("ix_sync_ranges_open", "account_id", "stream", "done"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64))
    stream: Mapped[str] = mapped_column(String(40))
    gte: Mapped[int] = mapped_column(BigInteger)
    lt: Mapped[int] = mapped_column(BigInteger)
    starting_after: Mapped[str | None] = mapped_column(String(255), nullable=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class EventCursor(Base):
    """How far the Events API has been read for an account."""

    __tablename__ = "event_cursors"

    account_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created: Mapped[int] = mapped_column(BigInteger)
    # Ids already applied at second `created`: event ids are not ordered, seconds are.
    boundary_ids: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RateBudget(Base):
    """One request limit of one account, shared by every worker process (GCRA).

    `tat` is the theoretical arrival time (Unix seconds) of the next request when requests come
    exactly at `rate`: a request may go at `tat - burst` at the earliest, and moves it on by
    `1 / rate`. `rate` follows AIMD: cut on a 429, raised a little per success, up to `ceiling`.
    """

    __tablename__ = "rate_budgets"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # account | endpoint
    rate: Mapped[float] = mapped_column(Float)
    ceiling: Mapped[float] = mapped_column(Float)
    tat: Mapped[float] = mapped_column(Float)
