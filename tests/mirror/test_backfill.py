"""Backfill against the emulator: every object, no duplicates, checkpoints and subdivision."""

from __future__ import annotations

from sqlalchemy import func, select

from revlens.mirror.models import MirroredObject, StripeEvent, SyncRange, SyncStream
from revlens.stripe_api.catalog import HISTORY_EVENT_TYPES, account_streams
from revlens.tasks.jobs import sync_account
from tests.mirror.conftest import Mirror


def _seed_catalog(mirror: Mirror) -> None:
    client, opts = mirror.platform, mirror.opts
    for n in range(3):
        product = client.v1.products.create({"name": f"Plan {n}"}, opts)
        price = client.v1.prices.create(
            {
                "product": product.id,
                "currency": "usd",
                "unit_amount": 1000 * (n + 1),
                "recurring": {"interval": "month"},
            },
            opts,
        )
        if n == 2:
            client.v1.prices.update(price.id, {"active": False}, opts)
    client.v1.coupons.create({"percent_off": 20, "duration": "forever"}, opts)
    client.v1.tax_rates.create({"display_name": "VAT", "percentage": 20, "inclusive": False}, opts)


def test_backfill_mirrors_every_object_exactly(mirror: Mirror) -> None:
    _seed_catalog(mirror)
    now = mirror.emulator.emulator.clock.now()
    mirror.bulk_customers(1234, start=now - 2 * 365 * 86400, spread=2 * 365 * 86400 - 10)
    queued = mirror.queue.enqueue(sync_account, account_id=mirror.account).get()
    assert queued == len(account_streams()) + 1  # one range per stream, plus the event log
    expected_customers = mirror.stripe_list("/v1/customers")
    assert len(expected_customers) == 1235
    assert mirror.stored("customer") == expected_customers
    assert mirror.stored("product") == mirror.stripe_list("/v1/products")
    prices = {**mirror.stripe_list("/v1/prices", active="true")}
    prices.update(mirror.stripe_list("/v1/prices", active="false"))
    assert len(prices) == 3
    assert mirror.stored("price") == prices
    assert mirror.stored("coupon") == mirror.stripe_list("/v1/coupons")
    assert mirror.stored("tax_rate") == mirror.stripe_list("/v1/tax_rates")
    plans = {**mirror.stripe_list("/v1/plans", active="true")}
    plans.update(mirror.stripe_list("/v1/plans", active="false"))
    assert mirror.stored("plan") == plans
    with mirror.database.read() as session:
        streams = {s.stream: s for s in session.scalars(select(SyncStream))}
        rows = session.scalar(select(func.count()).select_from(MirroredObject))
        split = session.scalar(
            select(func.count()).select_from(SyncRange).where(SyncRange.stream == "customers")
        )
        events = session.scalar(select(func.count()).select_from(StripeEvent))
    expected_rows = len(expected_customers) + len(prices) + len(plans) + 3 + 1 + 1
    assert rows == expected_rows  # products 3, coupon 1, tax rate 1: nothing else, nothing twice
    assert all(s.status == "complete" for s in streams.values()), {
        k: v.status for k, v in streams.items()
    }
    assert streams["customers"].objects == 1235
    # 1,235 customers need 13 full pages; subdivision must not cost many more.
    assert 13 <= streams["customers"].requests <= 13 + 12
    assert split is not None
    assert split > 1  # the created range was subdivided
    assert events == 0  # the catalog's creation events are not history the analytics read


def test_the_event_history_is_the_subscription_and_discount_events(mirror: Mirror) -> None:
    client, opts = mirror.platform, mirror.opts
    product = client.v1.products.create({"name": "Seat"}, opts)
    price = client.v1.prices.create(
        {
            "product": product.id,
            "currency": "eur",
            "unit_amount": 900,
            "recurring": {"interval": "month"},
        },
        opts,
    )
    coupon = client.v1.coupons.create({"percent_off": 10, "duration": "forever"}, opts)
    for n in range(3):
        customer = client.v1.customers.create(
            {
                "email": f"h{n}@history.example",
                "invoice_settings": {"default_payment_method": "pm_card_visa"},
            },
            opts,
        )
        subscription = client.v1.subscriptions.create(
            {"customer": customer.id, "items": [{"price": price.id}]}, opts
        )
        client.v1.subscriptions.update(
            subscription.id, {"discounts": [{"coupon": coupon.id}]}, opts
        )
        if n == 2:
            client.v1.subscriptions.cancel(subscription.id, options=opts)
    everything = mirror.stripe_list("/v1/events")
    wanted = {i: e for i, e in everything.items() if e["type"] in HISTORY_EVENT_TYPES}
    # The account has other events too (customers, invoices, charges), which are not logged.
    assert {e["type"] for e in everything.values()} - set(HISTORY_EVENT_TYPES) >= {
        "customer.created",
        "invoice.paid",
        "charge.succeeded",
    }
    assert {e["type"] for e in wanted.values()} >= {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
    mirror.queue.enqueue(sync_account, account_id=mirror.account)
    with mirror.database.read() as session:
        logged = {e.event_id: e.data for e in session.scalars(select(StripeEvent))}
        stream = session.scalars(select(SyncStream).where(SyncStream.stream == "events")).one()
    assert logged == wanted
    assert stream.status == "complete"
    assert stream.objects == len(wanted)


def test_a_second_sync_is_a_no_op_and_full_resyncs(mirror: Mirror) -> None:
    mirror.platform.v1.customers.create({"email": "a@b.example"}, mirror.opts)
    mirror.queue.enqueue(sync_account, account_id=mirror.account)
    assert mirror.queue.enqueue(sync_account, account_id=mirror.account).get() == 0
    assert mirror.queue.enqueue(sync_account, account_id=mirror.account, full=True).get() > 0
    assert len(mirror.stored("customer")) == 1


def test_invoice_items_page_by_date(mirror: Mirror) -> None:
    """Invoice items carry `date`, not `created`: more than a page of them still backfills."""
    client, opts = mirror.platform, mirror.opts
    customer = client.v1.customers.create({"email": "items@x.example"}, opts)
    for n in range(105):
        client.v1.invoice_items.create(
            {"customer": customer.id, "amount": 100 + n, "currency": "usd"}, opts
        )
    mirror.queue.enqueue(sync_account, account_id=mirror.account)
    expected = mirror.stripe_list("/v1/invoiceitems")
    assert len(expected) == 105
    assert mirror.stored("invoiceitem") == expected
    with mirror.database.read() as session:
        status = session.scalars(
            select(SyncStream.status).where(SyncStream.stream == "invoiceitems")
        ).one()
    assert status == "complete"
