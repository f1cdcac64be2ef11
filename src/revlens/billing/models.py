"""Tables of billing: plan prices, who pays for which account, and subscription states."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from revlens.db.base import Base
from revlens.db.types import UTCDateTime


class PlanPrice(Base):
    """The Stripe price of a plan in revlens' own account (configured or made by setup)."""

    __tablename__ = "billing_plan_prices"

    plan: Mapped[str] = mapped_column(String(40), primary_key=True)
    price_id: Mapped[str] = mapped_column(String(255), unique=True)
    product_id: Mapped[str] = mapped_column(String(255))
    amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    currency: Mapped[str] = mapped_column(String(3))
    interval: Mapped[str] = mapped_column(String(8))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BillingAccount(Base):
    """A connected account and the customer (in revlens' own account) that pays for it.

    Several accounts share a customer when one subscription covers them (the plan's
    `accounts`); the first is the one that subscribed.
    """

    __tablename__ = "billing_accounts"

    account_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("connected_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[str] = mapped_column(String(255), index=True)
    owner: Mapped[bool] = mapped_column(Boolean)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BillingSubscription(Base):
    """A subscription of revlens' own account as last seen (webhook, API answer or refetch)."""

    __tablename__ = "billing_subscriptions"
    __table_args__ = (Index("ix_billing_subscriptions_customer", "customer_id"),)

    stripe_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(255))
    price_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean)
    current_period_end: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    trial_end: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # When the unpaid period began (Stripe time): the grace period counts from here.
    past_due_since: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Stripe time of the state stored: an event's `created` or the time of a read.
    source_ts: Mapped[int] = mapped_column(BigInteger)
    last_paid_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_payment_failed_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
