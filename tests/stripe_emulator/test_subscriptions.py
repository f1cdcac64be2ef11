"""Subscriptions: the first invoice and payment, trials, declines, discounts, changes, cancel."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from .conftest import Connected


def _customer(client: stripe.StripeClient, account: Connected, card: str = "pm_card_visa") -> str:
    customer = client.v1.customers.create({"email": "s@x.test"}, account.opts)
    method = client.v1.payment_methods.attach(card, {"customer": customer.id}, account.opts)
    client.v1.customers.update(
        customer.id, {"invoice_settings": {"default_payment_method": method.id}}, account.opts
    )
    return customer.id


def _price(
    client: stripe.StripeClient, account: Connected, amount: int = 2000, currency: str = "usd"
) -> str:
    product = client.v1.products.create({"name": "Gold"}, account.opts)
    price = client.v1.prices.create(
        {
            "product": product.id,
            "unit_amount": amount,
            "currency": currency,
            "recurring": {"interval": "month"},
        },
        account.opts,
    )
    return price.id


def _subscribe(
    client: stripe.StripeClient, account: Connected, customer: str, price: str, **extra: Any
) -> stripe.Subscription:
    return client.v1.subscriptions.create(
        {"customer": customer, "items": [{"price": price}], "expand": ["latest_invoice"], **extra},
        account.opts,
    )


def _types(client: stripe.StripeClient, account: Connected) -> list[str]:
    events = client.v1.events.list({"limit": 100}, account.opts).data
    return [event.type for event in reversed(events)]


def test_create_pays_the_first_invoice(client: stripe.StripeClient, account: Connected) -> None:
    customer, price = _customer(client, account), _price(client, account)
    sub = _subscribe(client, account, customer, price, application_fee_percent=10)
    assert sub.status == "active"
    item = sub["items"].data[0]
    assert item.price.id == price
    assert item.plan.id == price
    assert item.current_period_end > item.current_period_start == sub.start_date
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.status, invoice.billing_reason, invoice.total, invoice.amount_paid) == (
        "paid",
        "subscription_create",
        2000,
        2000,
    )
    assert invoice.parent is not None
    assert invoice.parent.subscription_details is not None
    assert invoice.parent.subscription_details.subscription == sub.id
    line = invoice.lines.data[0]
    assert line.description == "1 \u00d7 Gold (at $20.00 / month)"
    assert line.pricing is not None
    assert line.pricing.price_details is not None
    assert line.pricing.price_details.price == price
    assert (line.period.start, line.period.end) == (
        item.current_period_start,
        item.current_period_end,
    )
    assert line.parent is not None
    assert line.parent.subscription_item_details is not None
    assert line.parent.subscription_item_details.proration is False
    types = _types(client, account)
    assert types[-9:] == [
        "invoice.created",
        "payment_intent.created",
        "invoice.finalized",
        "charge.succeeded",
        "payment_intent.succeeded",
        "invoice_payment.paid",
        "invoice.paid",
        "invoice.payment_succeeded",
        "customer.subscription.created",
    ]
    fees = [
        f for f in client.v1.application_fees.list({"limit": 100}).data if f.account == account.id
    ]
    assert [f.amount for f in fees] == [200]
    payments = client.v1.invoice_payments.list({"invoice": invoice.id}, account.opts).data
    assert [(p.status, p.amount_paid) for p in payments] == [("paid", 2000)]


def test_declining_card_leaves_subscription_incomplete(
    client: stripe.StripeClient, account: Connected
) -> None:
    customer = _customer(client, account, "pm_card_chargeCustomerFail")
    sub = _subscribe(client, account, customer, _price(client, account))
    assert sub.status == "incomplete"
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.status, invoice.attempt_count, invoice.amount_remaining) == ("open", 1, 2000)
    failed = client.v1.events.list({"type": "invoice.payment_failed"}, account.opts).data
    assert [e.data.object["id"] for e in failed] == [invoice.id]
    created = client.v1.events.list({"type": "customer.subscription.created"}, account.opts)
    assert created.data[0].data.object["status"] == "incomplete"
    good = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer}, account.opts)
    paid = client.v1.invoices.pay(invoice.id, {"payment_method": good.id}, account.opts)
    assert paid.status == "paid"
    assert client.v1.subscriptions.retrieve(sub.id, options=account.opts).status == "active"
    updated = client.v1.events.list({"type": "customer.subscription.updated"}, account.opts)
    assert updated.data[0].data.previous_attributes is not None
    assert updated.data[0].data.previous_attributes["status"] == "incomplete"


def test_error_if_incomplete_creates_nothing(
    client: stripe.StripeClient, account: Connected
) -> None:
    customer = _customer(client, account, "pm_card_chargeCustomerFail")
    with pytest.raises(stripe.CardError) as caught:
        _subscribe(
            client,
            account,
            customer,
            _price(client, account),
            payment_behavior="error_if_incomplete",
        )
    assert caught.value.code == "card_declined"
    assert client.v1.subscriptions.list({"status": "all"}, account.opts).data == []


def test_trial_starts_trialing_with_a_zero_invoice(
    client: stripe.StripeClient, account: Connected
) -> None:
    sub = _subscribe(
        client, account, _customer(client, account), _price(client, account), trial_period_days=14
    )
    assert sub.status == "trialing"
    assert sub.trial_start is not None
    assert sub.trial_end == sub.trial_start + 14 * 86400
    assert sub["items"].data[0].current_period_end == sub.trial_end
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.status, invoice.total, invoice.amount_paid) == ("paid", 0, 0)
    assert invoice.lines.data[0].description == "Trial period for Gold"
    assert "charge.succeeded" not in _types(client, account)


def test_coupon_discounts_the_invoice(client: stripe.StripeClient, account: Connected) -> None:
    coupon = client.v1.coupons.create({"percent_off": 25, "duration": "forever"}, account.opts)
    sub = _subscribe(
        client,
        account,
        _customer(client, account),
        _price(client, account),
        discounts=[{"coupon": coupon.id}],
    )
    sub = client.v1.subscriptions.retrieve(
        sub.id, {"expand": ["discounts", "latest_invoice"]}, account.opts
    )
    discount = sub.discounts[0]
    assert isinstance(discount, stripe.Discount)
    assert discount.source.coupon == coupon.id
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.subtotal, invoice.total, invoice.amount_paid) == (2000, 1500, 1500)
    assert [(d.amount, d.discount) for d in invoice.total_discount_amounts or []] == [
        (500, discount.id)
    ]
    line = invoice.lines.data[0]
    assert [(d.amount, d.discount) for d in line.discount_amounts or []] == [(500, discount.id)]


def test_twelve_items_cap_the_embedded_lists(
    client: stripe.StripeClient, account: Connected
) -> None:
    customer = _customer(client, account)
    prices = [_price(client, account, amount=100 * (n + 1)) for n in range(12)]
    sub = client.v1.subscriptions.create(
        {
            "customer": customer,
            "items": [{"price": p} for p in prices],
            "expand": ["latest_invoice"],
        },
        account.opts,
    )
    assert len(sub["items"].data) == 10
    assert sub["items"].has_more is True
    assert sub["items"].url == f"/v1/subscription_items?subscription={sub.id}"
    items = client.v1.subscription_items.list({"subscription": sub.id, "limit": 5}, account.opts)
    assert sorted(i.price.id for i in items.auto_paging_iter()) == sorted(prices)
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert invoice.total == sum(100 * (n + 1) for n in range(12))
    assert (len(invoice.lines.data), invoice.lines.has_more) == (10, True)
    lines = client.v1.invoices.line_items.list(invoice.id, {"limit": 5}, account.opts)
    assert len(list(lines.auto_paging_iter())) == 12


def test_quantity_change_prorates(client: stripe.StripeClient, account: Connected) -> None:
    sub = _subscribe(client, account, _customer(client, account), _price(client, account))
    item = sub["items"].data[0]
    updated = client.v1.subscriptions.update(
        sub.id,
        {"items": [{"id": item.id, "quantity": 3}], "proration_behavior": "create_prorations"},
        account.opts,
    )
    assert updated["items"].data[0].quantity == 3
    pending = client.v1.invoice_items.list({"pending": True}, account.opts).data
    amounts = sorted(i.amount for i in pending)
    assert all(i.proration for i in pending)
    assert amounts[0] < 0 < amounts[1]
    assert abs(amounts[0]) * 3 == pytest.approx(amounts[1], abs=3)
    event = client.v1.events.list({"type": "customer.subscription.updated"}, account.opts).data[0]
    previous = event.data.previous_attributes
    assert previous is not None
    assert previous["items"]["data"][0]["quantity"] == 1
    again = client.v1.subscriptions.update(
        sub.id,
        {"items": [{"id": item.id, "quantity": 1}], "proration_behavior": "always_invoice"},
        account.opts,
    )
    latest = client.v1.invoices.retrieve(str(again.latest_invoice), options=account.opts)
    assert latest.billing_reason == "subscription_update"
    assert len(latest.lines.data) == 4
    assert client.v1.invoice_items.list({"pending": True}, account.opts).data == []


def test_cancel_at_period_end_then_cancel_now(
    client: stripe.StripeClient, account: Connected
) -> None:
    price = _price(client, account)
    sub = _subscribe(client, account, _customer(client, account), price)
    end = sub["items"].data[0].current_period_end
    scheduled = client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True}, account.opts)
    assert (scheduled.status, scheduled.cancel_at, scheduled.cancel_at_period_end) == (
        "active",
        end,
        True,
    )
    assert scheduled.canceled_at is not None
    canceled = client.v1.subscriptions.cancel(
        sub.id, {"prorate": True, "invoice_now": True}, account.opts
    )
    assert canceled.status == "canceled"
    assert canceled.ended_at is not None
    deleted = client.v1.events.list({"type": "customer.subscription.deleted"}, account.opts)
    assert deleted.data[0].data.object["status"] == "canceled"
    assert client.v1.subscriptions.list({}, account.opts).data == []
    assert [s.id for s in client.v1.subscriptions.list({"status": "all"}, account.opts).data] == [
        sub.id
    ]
    assert len(client.v1.subscriptions.list({"status": "canceled"}, account.opts).data) == 1
    assert (
        len(client.v1.subscriptions.list({"price": price, "status": "all"}, account.opts).data) == 1
    )
    credit = client.v1.invoices.retrieve(str(canceled.latest_invoice), options=account.opts)
    assert credit.total < 0
    assert credit.status == "paid"


def test_list_filters(client: stripe.StripeClient, account: Connected) -> None:
    first, second = _price(client, account), _price(client, account, 500)
    customer = _customer(client, account)
    a = _subscribe(client, account, customer, first)
    b = _subscribe(client, account, customer, second, trial_period_days=3)
    listed = client.v1.subscriptions.list({"customer": customer}, account.opts).data
    assert [s.id for s in listed] == [b.id, a.id]
    assert [s.id for s in client.v1.subscriptions.list({"price": first}, account.opts).data] == [
        a.id
    ]
    trialing = client.v1.subscriptions.list({"status": "trialing"}, account.opts).data
    assert [s.id for s in trialing] == [b.id]


def test_pause_collection_keeps_the_status(client: stripe.StripeClient, account: Connected) -> None:
    sub = _subscribe(client, account, _customer(client, account), _price(client, account))
    paused = client.v1.subscriptions.update(
        sub.id, {"pause_collection": {"behavior": "void"}}, account.opts
    )
    assert paused.status == "active"
    assert paused.pause_collection is not None
    assert paused.pause_collection.behavior == "void"
    cleared = client.v1.subscriptions.update(sub.id, {"pause_collection": ""}, account.opts)
    assert cleared.pause_collection is None


def test_zero_decimal_subscription(client: stripe.StripeClient, account: Connected) -> None:
    price = _price(client, account, amount=980, currency="jpy")
    sub = _subscribe(client, account, _customer(client, account, "pm_card_jp"), price)
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.total, invoice.currency) == (980, "jpy")
    assert invoice.lines.data[0].description == "1 \u00d7 Gold (at \u00a5980 / month)"
    txns = client.v1.balance_transactions.list({"currency": "jpy"}, account.opts).data
    assert [(t.amount, t.fee) for t in txns] == [(980, 28)]
