"""Tables of connected accounts, pending OAuth states and deletion records."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from revlens.db.base import Base
from revlens.db.types import UTCDateTime


class AccountStatus(enum.StrEnum):
    """Whether revlens may act for the account."""

    CONNECTED = "connected"
    DISCONNECTED = "disconnected"


class ConnectedAccount(Base):
    """A Stripe account connected with OAuth: the workspace of the people who connected it."""

    __tablename__ = "connected_accounts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # stripe_user_id, acct_…
    display_name: Mapped[str] = mapped_column(String(200))
    livemode: Mapped[bool] = mapped_column(Boolean)
    scope_requested: Mapped[str] = mapped_column(String(32))
    scope_granted: Mapped[str] = mapped_column(String(32))
    status: Mapped[AccountStatus] = mapped_column(
        Enum(
            AccountStatus,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    connected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_authorized_at: Mapped[datetime] = mapped_column(UTCDateTime())
    disconnected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    disconnect_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def is_connected(self) -> bool:
        """Whether revlens may act for this account."""
        return self.status is AccountStatus.CONNECTED

    @property
    def scope_narrowed(self) -> bool:
        """Whether Stripe granted less than revlens asked for."""
        return self.scope_granted != self.scope_requested


class OAuthState(Base):
    """A pending authorization: random, single-use, bound to one browser, short-lived."""

    __tablename__ = "oauth_states"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    browser_id: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class DeletionRecord(Base):
    """What a purge deleted: kept after the account's data is gone."""

    __tablename__ = "deletion_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connected_accounts.id", ondelete="RESTRICT"), index=True
    )
    reason: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    rows_deleted: Mapped[dict[str, Any]] = mapped_column(JSON)
