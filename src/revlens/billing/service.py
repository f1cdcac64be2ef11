"""Subscribing, changing plan and canceling: each step its own unit of work, Stripe between."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revlens.accounts.service import get_account
from revlens.billing.entitlements import (
    LIVE,
    Access,
    customer_of,
    entitlements,
    linked_accounts,
)
from revlens.billing.models import BillingAccount, BillingSubscription, PlanPrice
from revlens.billing.plans import BillingConfig, Plan
from revlens.billing.state import record_subscription
from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.errors import RevlensError
from revlens.stripe_api import platform_billing
from revlens.stripe_api.client import StripeClients


class BillingRefused(RevlensError):
    """A billing request that cannot be done as asked; the message says why."""


def price_for(session: Session, plan: Plan) -> str | None:
    """Return the Stripe price of a paid plan (configured, or made by `billing setup`)."""
    if plan.price:
        return plan.price
    return session.scalars(select(PlanPrice.price_id).where(PlanPrice.plan == plan.key)).first()


def current_subscription(session: Session, account_id: str) -> BillingSubscription | None:
    """Return the newest subscription of the account's customer that still runs."""
    customer = customer_of(session, account_id)
    if customer is None:
        return None
    return session.scalars(
        select(BillingSubscription)
        .where(BillingSubscription.customer_id == customer, BillingSubscription.status.in_(LIVE))
        .order_by(BillingSubscription.source_ts.desc())
    ).first()


def link_account(session: Session, *, account_id: str, customer_id: str, owner: bool) -> None:
    """Record that a customer pays for an account (kept when it already does)."""
    if session.get(BillingAccount, account_id) is None:
        session.add(
            BillingAccount(
                account_id=account_id, customer_id=customer_id, owner=owner, linked_at=utcnow()
            )
        )
        session.flush()


def _paid_plan(billing: BillingConfig, key: str) -> Plan:
    plan = billing.plan(key)
    if plan is None:
        raise BillingRefused(f"plan: there is no plan {key!r}")
    if plan.free:
        raise BillingRefused(f"plan: {plan.name} is free; nothing to subscribe to")
    return plan


def ensure_customer(
    database: Database, clients: StripeClients, *, account_id: str, email: str | None
) -> str:
    """Return the customer paying for the account, creating it in revlens' account if needed."""
    with database.read() as session:
        existing = customer_of(session, account_id)
        account = get_account(session, account_id)
    if existing is not None:
        return existing
    if account is None:
        raise BillingRefused(f"account: {account_id} is not connected")
    created = platform_billing.create_customer(
        clients, account_id=account_id, name=account.display_name, email=email
    )
    with database.unit_of_work() as session:
        link_account(session, account_id=account_id, customer_id=str(created["id"]), owner=True)
        return customer_of(session, account_id) or str(created["id"])


def _store(database: Database, obj: dict[str, Any], seen_at: int) -> None:
    with database.unit_of_work() as session:
        record_subscription(session, obj=obj, seen_at=seen_at, now=utcnow())


def subscribe(
    database: Database,
    clients: StripeClients,
    billing: BillingConfig,
    *,
    account_id: str,
    plan_key: str,
    payment_method: str,
    email: str | None = None,
) -> BillingSubscription:
    """Subscribe the account's customer to a plan, charging the collected payment method.

    Raises BillingRefused (bad plan, already subscribed) or PaymentDeclined (card refused).
    """
    plan = _paid_plan(billing, plan_key)
    with database.read() as session:
        price = price_for(session, plan)
        running = current_subscription(session, account_id)
    if price is None:
        raise BillingRefused(
            f"plan: {plan.name} has no Stripe price yet; run `revlens billing setup`"
        )
    if running is not None:
        raise BillingRefused("plan: this workspace already has a subscription; change it instead")
    customer = ensure_customer(database, clients, account_id=account_id, email=email)
    platform_billing.attach_default_payment_method(
        clients, customer=customer, payment_method=payment_method
    )
    obj, seen_at = platform_billing.create_subscription(
        clients,
        customer=customer,
        price=price,
        trial_days=plan.trial_days,
        metadata={"revlens_account": account_id, "revlens_plan": plan.key},
    )
    _store(database, obj, seen_at)
    with database.read() as session:
        stored = session.get(BillingSubscription, obj["id"])
    assert stored is not None
    return stored


def change_plan(
    database: Database,
    clients: StripeClients,
    billing: BillingConfig,
    *,
    account_id: str,
    plan_key: str,
) -> None:
    """Move the running subscription to another plan; the free plan cancels at period end."""
    target = billing.plan(plan_key)
    if target is None:
        raise BillingRefused(f"plan: there is no plan {plan_key!r}")
    with database.read() as session:
        running = current_subscription(session, account_id)
        price = None if target.free else price_for(session, target)
    if running is None:
        raise BillingRefused("plan: this workspace has no subscription to change")
    if target.free:
        cancel(database, clients, account_id=account_id, at_period_end=True)
        return
    if price is None:
        raise BillingRefused(f"plan: {target.name} has no Stripe price yet")
    if price == running.price_id:
        raise BillingRefused(f"plan: the workspace is already on {target.name}")
    obj, seen_at = platform_billing.change_price(clients, subscription=running.data, price=price)
    _store(database, obj, seen_at)


def cancel(
    database: Database, clients: StripeClients, *, account_id: str, at_period_end: bool = True
) -> None:
    """Cancel the running subscription at its period end (or take the cancellation back)."""
    with database.read() as session:
        running = current_subscription(session, account_id)
    if running is None:
        raise BillingRefused("plan: this workspace has no subscription to cancel")
    obj, seen_at = platform_billing.set_cancel_at_period_end(
        clients, subscription_id=running.stripe_id, cancel=at_period_end
    )
    _store(database, obj, seen_at)


def release_account(database: Database, clients: StripeClients, *, account_id: str) -> bool:
    """Stop charging for an account being disconnected, unless other accounts share its plan.

    The subscription ends at the period's end (what was paid for is served); returns whether
    one was scheduled to end.
    """
    with database.read() as session:
        customer = customer_of(session, account_id)
        shared = customer is not None and linked_accounts(session, customer) > 1
        running = current_subscription(session, account_id)
    if shared or running is None or running.cancel_at_period_end:
        return False
    obj, seen_at = platform_billing.set_cancel_at_period_end(
        clients, subscription_id=running.stripe_id, cancel=True
    )
    _store(database, obj, seen_at)
    return True


def refresh_subscriptions(database: Database, clients: StripeClients) -> int:
    """Re-read every subscription that still runs (a webhook may have been lost); count them."""
    with database.read() as session:
        running = list(
            session.scalars(
                select(BillingSubscription.stripe_id).where(BillingSubscription.status.in_(LIVE))
            )
        )
    for stripe_id in running:
        obj, seen_at = platform_billing.retrieve_subscription(clients, stripe_id)
        _store(database, obj, seen_at)
    return len(running)


def access_now(database: Database, billing: BillingConfig, account_id: str, now: int) -> Access:
    """Return the account's entitlements in a read of its own."""
    with database.read() as session:
        return entitlements(session, billing=billing, account_id=account_id, now=now)


@dataclass(frozen=True)
class SetupLine:
    """What `revlens billing setup` did for one plan."""

    plan: str
    price_id: str
    action: str  # created | found | configured


def setup_prices(
    database: Database, clients: StripeClients, billing: BillingConfig
) -> list[SetupLine]:
    """Make sure every paid plan has a recurring price in revlens' own account; record them."""
    lines: list[SetupLine] = []
    for plan in billing.paid_plans:
        if plan.price:
            price = platform_billing.retrieve_price(clients, plan.price)
            action = "configured"
        else:
            found = platform_billing.find_price(clients, lookup_key=plan.lookup_key)
            action = "found" if found is not None else "created"
            if found is None:
                # parse_plan refuses a plan with neither price nor amount and currency.
                assert plan.amount is not None
                assert plan.currency is not None
                found = platform_billing.create_plan_price(
                    clients,
                    plan_key=plan.key,
                    name=plan.name,
                    amount=plan.amount,
                    currency=plan.currency,
                    interval=plan.interval,
                    lookup_key=plan.lookup_key,
                )
            price = found
        recurring = price.get("recurring") or {}
        if not recurring:
            raise BillingRefused(f"billing.plans.{plan.key}.price: {price['id']} is not recurring")
        with database.unit_of_work() as session:
            row = session.get(PlanPrice, plan.key) or PlanPrice(plan=plan.key)
            row.price_id = str(price["id"])
            product = price.get("product")
            row.product_id = str(product["id"] if isinstance(product, dict) else product)
            row.amount = price.get("unit_amount")
            row.currency = str(price.get("currency"))
            row.interval = str(recurring.get("interval", plan.interval))
            row.recorded_at = utcnow()
            session.add(row)
        lines.append(SetupLine(plan.key, str(price["id"]), action))
    return lines
