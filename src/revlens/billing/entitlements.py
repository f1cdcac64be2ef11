"""What an account may use: the one function every gate asks, and the checks built on it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revlens.accounts.models import AccountStatus, ConnectedAccount
from revlens.billing.models import BillingAccount, BillingSubscription, PlanPrice
from revlens.billing.plans import BillingConfig, Plan, Unlocks

DAY_S = 86400
PAYING = frozenset({"trialing", "active"})
# Statuses of a subscription that still runs (it can be changed or canceled).
LIVE = frozenset({"trialing", "active", "past_due", "unpaid", "incomplete", "paused"})


class NotEntitled(Exception):
    """The account's plan does not include a feature; the message says which plan would."""

    def __init__(self, feature: str, message: str) -> None:
        super().__init__(message)
        self.feature = feature


@dataclass(frozen=True)
class Access:
    """An account's plan now, and why: its subscription's state and any grace period."""

    account_id: str
    plan: Plan
    customer_id: str | None
    subscription: BillingSubscription | None
    billing_enabled: bool
    grace_ends_at: int | None = None  # set while past_due within the grace period

    @property
    def unlocks(self) -> Unlocks:
        """What the plan gives."""
        return self.plan.unlocks

    @property
    def status(self) -> str:
        """The subscription's status, or `none`."""
        return self.subscription.status if self.subscription is not None else "none"

    @property
    def paying(self) -> bool:
        """Whether a paid plan is in force (trialing, active, or past_due within grace)."""
        return not self.plan.free

    @property
    def banner(self) -> str | None:
        """A warning for every page of the workspace while the payment is late."""
        if self.grace_ends_at is not None:
            until = datetime.fromtimestamp(self.grace_ends_at, UTC).date().isoformat()
            return (
                f"The last payment for {self.plan.name} failed. Update the card before {until}, "
                "or the workspace falls back to the free tier."
            )
        if self.subscription is not None and self.status in ("past_due", "unpaid"):
            return (
                f"Payment failed: the workspace is on the {self.plan.name} tier until it is paid."
            )
        return None


def plan_of_price(session: Session, billing: BillingConfig, price_id: str | None) -> Plan | None:
    """Return the plan sold at a price (configured, or recorded by `billing setup`)."""
    if price_id is None:
        return None
    for plan in billing.paid_plans:
        if plan.price == price_id:
            return plan
    key = session.scalars(select(PlanPrice.plan).where(PlanPrice.price_id == price_id)).first()
    return billing.plan(key) if key else None


def customer_of(session: Session, account_id: str) -> str | None:
    """Return the customer that pays for an account, if any."""
    row = session.get(BillingAccount, account_id)
    return row.customer_id if row is not None else None


def entitlements(session: Session, *, billing: BillingConfig, account_id: str, now: int) -> Access:
    """Return what an account may use at Stripe time `now`.

    trialing and active give the plan; past_due gives it until the grace period ends; every
    other state (unpaid, canceled, incomplete, none) gives the free tier. When a customer has
    several subscriptions, the one giving a paid plan wins, then the newest state.
    """
    free = billing.free_plan
    customer = customer_of(session, account_id)
    if not billing.enabled or customer is None:
        return Access(account_id, free, customer, None, billing.enabled)
    subscriptions = session.scalars(
        select(BillingSubscription)
        .where(BillingSubscription.customer_id == customer)
        .order_by(BillingSubscription.source_ts.desc())
    ).all()
    best: Access | None = None
    for sub in subscriptions:
        plan = plan_of_price(session, billing, sub.price_id)
        grace: int | None = None
        if plan is not None and sub.status == "past_due" and sub.past_due_since is not None:
            ends = sub.past_due_since + billing.grace_days * DAY_S
            grace = ends if now < ends else None
        granted = plan is not None and (sub.status in PAYING or grace is not None)
        candidate = Access(
            account_id, plan if granted and plan else free, customer, sub, True, grace
        )
        if granted:
            return candidate
        best = best or candidate
    return best or Access(account_id, free, customer, None, True)


def linked_accounts(session: Session, customer_id: str) -> int:
    """Return how many connected accounts a customer pays for."""
    count = session.scalar(
        select(func.count())
        .select_from(BillingAccount)
        .join(ConnectedAccount, ConnectedAccount.id == BillingAccount.account_id)
        .where(
            BillingAccount.customer_id == customer_id,
            ConnectedAccount.status == AccountStatus.CONNECTED,
        )
    )
    return int(count or 0)


def require_another_account(session: Session, access: Access) -> None:
    """Refuse connecting one more account to this plan when it covers no more."""
    limit = access.unlocks.accounts
    if not access.billing_enabled or limit is None:
        return
    used = linked_accounts(session, access.customer_id) if access.customer_id else 1
    if used >= limit:
        raise NotEntitled(
            "accounts",
            f"The {access.plan.name} plan covers {limit} connected account"
            f"{'s' if limit != 1 else ''}; upgrade to connect another.",
        )


def require_feature(access: Access, feature: str) -> None:
    """Refuse a feature (`csv_export`, `api`) the plan does not include."""
    allowed = {"csv_export": access.unlocks.csv_export, "api": access.unlocks.api}[feature]
    if not allowed:
        label = {"csv_export": "CSV export", "api": "API access"}[feature]
        raise NotEntitled(feature, f"{label} is not part of the {access.plan.name} plan.")


def earliest_day(access: Access, today: date) -> date | None:
    """Return the first day the plan shows history for (None: all of it)."""
    days = access.unlocks.history_days
    return None if days is None else today - timedelta(days=days)
