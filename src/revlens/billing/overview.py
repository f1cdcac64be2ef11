"""Who pays and who does not: the operator's view of every account's plan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revlens.accounts.service import list_accounts
from revlens.billing.entitlements import LIVE, entitlements, plan_of_price
from revlens.billing.models import BillingAccount, BillingSubscription
from revlens.billing.plans import BillingConfig


def _iso(stripe_time: int | None) -> str | None:
    return datetime.fromtimestamp(stripe_time, UTC).isoformat() if stripe_time else None


def customer_rows(session: Session, billing: BillingConfig, *, now: int) -> list[dict[str, Any]]:
    """Return one row per connected account: its customer, plan, state and payments.

    Times are ISO 8601 in UTC, as in `GET /api/v1/accounts`.
    """
    rows: list[dict[str, Any]] = []
    for account in list_accounts(session):
        if not account.is_connected:
            continue
        access = entitlements(session, billing=billing, account_id=account.id, now=now)
        sub = access.subscription
        rows.append(
            {
                "account": account.id,
                "display_name": account.display_name,
                "customer": access.customer_id,
                "plan": access.plan.key,
                "plan_name": access.plan.name,
                "paying": access.paying,
                "status": access.status,
                "in_grace": access.grace_ends_at is not None,
                "grace_ends_at": _iso(access.grace_ends_at),
                "subscription": sub.stripe_id if sub else None,
                "cancel_at_period_end": bool(sub and sub.cancel_at_period_end),
                "current_period_end": _iso(sub.current_period_end if sub else None),
                "trial_end": _iso(sub.trial_end if sub else None),
                "last_paid_at": _iso(sub.last_paid_at if sub else None),
                "last_payment_failed_at": _iso(sub.last_payment_failed_at if sub else None),
                "connected": True,
            }
        )
    return rows + _without_workspace(session, billing)


def _without_workspace(session: Session, billing: BillingConfig) -> list[dict[str, Any]]:
    """Subscriptions still running whose customer pays for no connected account any more."""
    linked = select(BillingAccount.customer_id)
    orphans = session.scalars(
        select(BillingSubscription).where(
            BillingSubscription.status.in_(LIVE), BillingSubscription.customer_id.not_in(linked)
        )
    )
    rows: list[dict[str, Any]] = []
    for sub in orphans:
        plan = plan_of_price(session, billing, sub.price_id)
        metadata = sub.data.get("metadata") or {}
        rows.append(
            {
                "account": metadata.get("revlens_account"),
                "display_name": "(disconnected)",
                "customer": sub.customer_id,
                "plan": plan.key if plan else None,
                "plan_name": plan.name if plan else sub.price_id,
                "paying": sub.status in ("trialing", "active", "past_due"),
                "status": sub.status,
                "in_grace": False,
                "grace_ends_at": None,
                "subscription": sub.stripe_id,
                "cancel_at_period_end": sub.cancel_at_period_end,
                "current_period_end": _iso(sub.current_period_end),
                "trial_end": _iso(sub.trial_end),
                "last_paid_at": _iso(sub.last_paid_at),
                "last_payment_failed_at": _iso(sub.last_payment_failed_at),
                "connected": False,
            }
        )
    return rows
