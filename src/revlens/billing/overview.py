"""Who pays and who does not: the operator's view of every account's plan."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from revlens.accounts.service import list_accounts
from revlens.billing.entitlements import entitlements
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
            }
        )
    return rows
