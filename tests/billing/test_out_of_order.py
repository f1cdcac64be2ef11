"""Webhooks of revlens' own account in any order still give the right access."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import delete

from revlens.billing.models import BillingSubscription
from revlens.billing.service import cancel, change_plan, subscribe
from revlens.billing.state import BILLING_EVENTS, apply_billing_event
from revlens.db.types import utcnow
from revlens.mirror.models import StripeEvent
from revlens.stripe_api.fetch import PLATFORM
from tests.billing.conftest import DAY, Platform


def _history(platform: Platform) -> tuple[str, str, list[dict[str, Any]]]:
    """Trial, conversion, upgrade, cancel at period end, end: every platform event of it."""
    events: dict[str, dict[str, Any]] = {}

    def collect() -> None:  # the Events API keeps 30 days: read it as the story goes
        events.update({event["id"]: event for event in platform.platform_events()})

    account = platform.connect("Story Co")
    sub = subscribe(
        platform.database,
        platform.clients,
        platform.billing,
        account_id=account,
        plan_key="starter",
        payment_method="pm_card_visa",
    )
    collect()
    platform.advance(15 * DAY)  # the trial converts
    change_plan(
        platform.database, platform.clients, platform.billing, account_id=account, plan_key="pro"
    )
    platform.advance(DAY)
    cancel(platform.database, platform.clients, account_id=account)
    collect()
    platform.advance(31 * DAY)  # past the period's end: canceled
    collect()
    ordered = sorted(events.values(), key=lambda event: event["created"])
    kinds = [
        e["type"] for e in ordered if e["type"] in BILLING_EVENTS and "subscription" in e["type"]
    ]
    assert kinds == [
        "customer.subscription.created",
        "customer.subscription.updated",  # trialing → active
        "customer.subscription.updated",  # starter → pro
        "customer.subscription.updated",  # cancel_at_period_end
        "customer.subscription.deleted",
    ]
    return account, sub.stripe_id, ordered


def _forget(platform: Platform) -> None:
    with platform.database.unit_of_work() as session:
        session.execute(delete(BillingSubscription))
        session.execute(delete(StripeEvent).where(StripeEvent.account_id == PLATFORM))


def test_reversed_and_shuffled_deliveries_end_canceled(platform: Platform) -> None:
    account, sub_id, events = _history(platform)
    platform.deliver()
    with platform.database.read() as session:
        truth = session.get(BillingSubscription, sub_id)
    assert truth is not None
    assert truth.status == "canceled"
    for order in (list(reversed(events)), random.Random(9).sample(events, len(events))):
        _forget(platform)
        for event in order:
            assert platform.post_event(event).status_code == 200
        platform.wait_applied([event["id"] for event in order])
        with platform.database.read() as session:
            row = session.get(BillingSubscription, sub_id)
        assert row is not None
        assert (row.status, row.price_id, row.cancel_at_period_end) == (
            "canceled",
            truth.price_id,
            True,
        )
        access = platform.access(account)
        assert (access.plan.key, access.status) == ("free", "canceled")


def test_event_times_alone_order_the_states(platform: Platform) -> None:
    """Without re-reading Stripe, `created` decides: an older state never replaces a newer."""
    account, sub_id, events = _history(platform)
    billing_events = [e for e in events if e["type"] in BILLING_EVENTS]
    pro_price = next(
        e["data"]["object"]["items"]["data"][0]["price"]["id"]
        for e in reversed(billing_events)
        if e["type"] == "customer.subscription.deleted"
    )
    for seed in range(5):
        order = random.Random(seed).sample(billing_events, len(billing_events))
        with platform.database.unit_of_work() as session:
            session.execute(delete(BillingSubscription))
            for event in order:
                apply_billing_event(session, event=event, refetch=None, now=utcnow())
            row = session.get(BillingSubscription, sub_id)
            assert row is not None
            assert (row.status, row.price_id) == ("canceled", pro_price)
            assert row.last_paid_at == max(
                e["created"] for e in billing_events if e["type"] == "invoice.paid"
            )
    assert platform.access(account).plan.key == "free"
    # Mid-story, replayed backwards: the newest state (pro, active) stands.
    upgraded = [e for e in billing_events if e["created"] <= events[0]["created"] + 15 * DAY]
    with platform.database.unit_of_work() as session:
        session.execute(delete(BillingSubscription))
        for event in reversed(upgraded):
            apply_billing_event(session, event=event, refetch=None, now=utcnow())
        row = session.get(BillingSubscription, sub_id)
        assert row is not None
        assert (row.status, row.price_id) == ("active", pro_price)


def test_the_platforms_other_subscriptions_are_not_revlens_business(platform: Platform) -> None:
    """The platform's own customers (not revlens plans) are ignored, without a Stripe read."""
    customer = platform.stripe.v1.customers.create(
        {
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        }
    )
    price = platform.stripe.v1.prices.create(
        {
            "currency": "usd",
            "unit_amount": 500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Other"},
        }
    )
    platform.stripe.v1.subscriptions.create(
        {"customer": customer.id, "items": [{"price": price.id}]}
    )
    foreign = [e for e in platform.platform_events() if e["type"] in BILLING_EVENTS]
    assert {e["type"] for e in foreign} >= {"customer.subscription.created", "invoice.paid"}

    def refetch(subscription_id: str) -> tuple[dict[str, Any], int]:
        raise AssertionError(f"read {subscription_id} for an event that is not revlens'")

    with platform.database.unit_of_work() as session:
        for event in foreign:
            assert apply_billing_event(session, event=event, refetch=refetch, now=utcnow()) is None
        [created] = [e for e in foreign if e["type"] == "customer.subscription.created"]
        assert session.get(BillingSubscription, created["data"]["object"]["id"]) is None
