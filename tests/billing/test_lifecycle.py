"""Subscriptions in revlens' own account through the SDK, kept current by its own webhooks."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

from revlens.billing.models import BillingAccount, BillingSubscription, PlanPrice
from revlens.billing.service import (
    BillingRefused,
    cancel,
    change_plan,
    refresh_subscriptions,
    setup_prices,
    subscribe,
)
from revlens.stripe_api.platform_billing import PaymentDeclined
from revlens.webhooks.service import setup_endpoints
from tests.billing.conftest import DAY, Platform


def _subscription(platform: Platform, stripe_id: str) -> BillingSubscription:
    with platform.database.read() as session:
        row = session.get(BillingSubscription, stripe_id)
    assert row is not None
    return row


def test_setup_creates_product_and_price_in_the_platform_account(platform: Platform) -> None:
    with platform.database.read() as session:
        prices = {row.plan: row for row in session.scalars(select(PlanPrice))}
    assert set(prices) == {"starter", "pro"}
    starter = platform.stripe.v1.prices.retrieve(prices["starter"].price_id)
    assert starter.unit_amount == 1900
    assert starter.currency == "usd"
    assert starter.recurring is not None
    assert starter.recurring.interval == "month"
    assert starter.lookup_key == "revlens_plan_starter"
    product = platform.stripe.v1.products.retrieve(str(starter.product))
    assert product.name == "revlens Starter"
    # A second run finds what the first made instead of creating more.
    again = setup_prices(platform.database, platform.clients, platform.billing)
    assert {line.plan: line.action for line in again} == {"starter": "found", "pro": "found"}
    listed = platform.stripe.v1.prices.list({"lookup_keys": ["revlens_plan_pro"]})
    assert len(listed.data) == 1


def test_trial_converts_and_access_follows(platform: Platform) -> None:
    account = platform.connect("Trial Co")
    assert platform.access(account).plan.key == "free"
    sub = subscribe(
        platform.database,
        platform.clients,
        platform.billing,
        account_id=account,
        plan_key="starter",
        payment_method="pm_card_visa",
        email="owner@trial.example",
    )
    assert sub.status == "trialing"
    assert sub.trial_end == platform.now() + 14 * DAY
    with platform.database.read() as session:
        link = session.get(BillingAccount, account)
    assert link is not None
    assert link.customer_id == sub.customer_id
    customer = platform.stripe.v1.customers.retrieve(sub.customer_id)
    assert customer.metadata["revlens_account"] == account
    access = platform.access(account)
    assert (access.plan.key, access.status, access.banner) == ("starter", "trialing", None)
    platform.deliver()
    platform.advance(15 * DAY)
    platform.deliver()
    converted = _subscription(platform, sub.stripe_id)
    assert converted.status == "active"
    assert converted.last_paid_at is not None
    assert converted.last_paid_at >= sub.trial_end
    access = platform.access(account)
    assert (access.plan.key, access.status) == ("starter", "active")
    invoices = platform.stripe.v1.invoices.list({"customer": sub.customer_id, "status": "paid"})
    assert sorted(invoice.amount_paid for invoice in invoices.data) == [0, 1900]


def test_failed_payment_past_due_grace_then_free(platform: Platform) -> None:
    account = platform.connect("Late Payer")
    sub = subscribe(
        platform.database,
        platform.clients,
        platform.billing,
        account_id=account,
        plan_key="starter",
        payment_method="pm_card_chargeCustomerFail",  # attaches; every charge fails
    )
    platform.deliver()
    trial_end = sub.trial_end
    assert trial_end is not None
    platform.advance(14 * DAY + 60)
    platform.deliver()
    late = _subscription(platform, sub.stripe_id)
    assert late.status == "past_due"
    assert late.past_due_since == trial_end
    assert late.last_payment_failed_at is not None
    within = platform.access(account, now=trial_end + 6 * DAY)
    assert within.plan.key == "starter"
    assert within.grace_ends_at == trial_end + 7 * DAY
    assert within.banner is not None
    assert "Update the card" in within.banner
    after = platform.access(account, now=trial_end + 7 * DAY)
    assert (after.plan.key, after.status, after.grace_ends_at) == ("free", "past_due", None)
    # The emulator retries at +3, +8 and +15 days, then cancels the subscription.
    platform.advance(16 * DAY)
    platform.deliver()
    ended = _subscription(platform, sub.stripe_id)
    assert ended.status == "canceled"
    assert ended.past_due_since is None
    assert platform.access(account).plan.key == "free"


def test_cancel_at_period_end_keeps_the_plan_until_then(platform: Platform) -> None:
    account = platform.connect("Leaving Co")
    sub = subscribe(
        platform.database,
        platform.clients,
        platform.billing,
        account_id=account,
        plan_key="pro",
        payment_method="pm_card_visa",
    )
    assert sub.status == "active"
    period_end = sub.current_period_end
    assert period_end is not None
    cancel(platform.database, platform.clients, account_id=account)
    platform.deliver()
    scheduled = _subscription(platform, sub.stripe_id)
    assert scheduled.cancel_at_period_end is True
    assert platform.access(account).plan.key == "pro"
    # Taken back, then scheduled again.
    cancel(platform.database, platform.clients, account_id=account, at_period_end=False)
    assert _subscription(platform, sub.stripe_id).cancel_at_period_end is False
    cancel(platform.database, platform.clients, account_id=account)
    platform.advance(period_end - platform.now() + 60)
    platform.deliver()
    ended = _subscription(platform, sub.stripe_id)
    assert ended.status == "canceled"
    assert ended.data["ended_at"] == period_end
    assert platform.access(account).plan.key == "free"
    with pytest.raises(BillingRefused, match="no subscription to cancel"):
        cancel(platform.database, platform.clients, account_id=account)
    # Subscribing again reuses the customer with a new subscription.
    again = subscribe(
        platform.database,
        platform.clients,
        platform.billing,
        account_id=account,
        plan_key="starter",
        payment_method="pm_card_visa",
    )
    assert again.customer_id == sub.customer_id
    assert again.stripe_id != sub.stripe_id
    assert (platform.access(account).plan.key, platform.access(account).status) == (
        "starter",
        "trialing",
    )


def test_upgrade_downgrade_and_refusals(platform: Platform) -> None:
    account = platform.connect("Growing Co")
    with pytest.raises(PaymentDeclined, match="declined"):
        subscribe(
            platform.database,
            platform.clients,
            platform.billing,
            account_id=account,
            plan_key="pro",
            payment_method="pm_card_chargeDeclined",
        )
    assert platform.access(account).plan.key == "free"
    with pytest.raises(BillingRefused, match="no plan 'gold'"):
        subscribe(
            platform.database,
            platform.clients,
            platform.billing,
            account_id=account,
            plan_key="gold",
            payment_method="pm_card_visa",
        )
    sub = subscribe(
        platform.database,
        platform.clients,
        platform.billing,
        account_id=account,
        plan_key="starter",
        payment_method="pm_card_visa",
    )
    with pytest.raises(BillingRefused, match="already has a subscription"):
        subscribe(
            platform.database,
            platform.clients,
            platform.billing,
            account_id=account,
            plan_key="pro",
            payment_method="pm_card_visa",
        )
    change_plan(
        platform.database, platform.clients, platform.billing, account_id=account, plan_key="pro"
    )
    platform.deliver()
    assert platform.access(account).plan.key == "pro"
    with platform.database.read() as session:
        pro_price = session.get(PlanPrice, "pro")
    assert pro_price is not None
    assert _subscription(platform, sub.stripe_id).price_id == pro_price.price_id
    # One customer all along: the declined attempt's customer was reused.
    customers = platform.stripe.v1.customers.list({"limit": 100}).data
    assert [c.metadata["revlens_account"] for c in customers].count(account) == 1
    # Downgrading to the free plan cancels at the period's end.
    change_plan(
        platform.database, platform.clients, platform.billing, account_id=account, plan_key="free"
    )
    assert _subscription(platform, sub.stripe_id).cancel_at_period_end is True
    assert platform.access(account).plan.key == "pro"


def test_signed_deliveries_of_the_platform_endpoint_keep_access_current(
    platform: Platform,
) -> None:
    """`webhooks setup`'s account endpoint and real, shuffled deliveries: no replays."""
    setup = setup_endpoints(platform.database, platform.clients, platform.settings)
    assert len(setup.created) == 2
    knobs = {"shuffle_window": 4, "shuffle_wait_ms": 50, "seed": 3}
    assert platform.control.post("/_emulator/webhooks", json=knobs).status_code == 200
    account = platform.connect("Delivered Co")
    sub = subscribe(
        platform.database,
        platform.clients,
        platform.billing,
        account_id=account,
        plan_key="starter",
        payment_method="pm_card_chargeCustomerFail",
    )

    def state() -> str:
        return _subscription(platform, sub.stripe_id).status

    platform.advance(14 * DAY + 60)
    _eventually(lambda: state() == "past_due")
    platform.sign_in(account)
    page = platform.client.get(f"/accounts/{account}/settings")
    assert 'id="billing-banner"' in page.text
    platform.advance(16 * DAY)
    _eventually(lambda: state() == "canceled")
    assert platform.access(account).plan.key == "free"
    # Let every delivery and the jobs it started finish before the database goes away.
    _eventually(lambda: not platform.pending_deliveries())
    platform.wait_applied([event["id"] for event in platform.platform_events()])


def _eventually(check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the deliveries did not arrive"
        time.sleep(0.05)


def test_refresh_repairs_a_state_whose_webhook_was_lost(platform: Platform) -> None:
    account = platform.connect("Lost Hook Co")
    sub = subscribe(
        platform.database,
        platform.clients,
        platform.billing,
        account_id=account,
        plan_key="starter",
        payment_method="pm_card_visa",
    )
    platform.advance(15 * DAY)  # converted at Stripe; revlens heard nothing
    assert _subscription(platform, sub.stripe_id).status == "trialing"
    assert refresh_subscriptions(platform.database, platform.clients) == 1
    assert _subscription(platform, sub.stripe_id).status == "active"
    assert platform.access(account).status == "active"
