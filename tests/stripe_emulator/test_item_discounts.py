"""Item-level discounts (`items[N][discounts]`): applied to their item's line before the
subscription's discounts, expandable on the item, and ended by the coupon's duration."""

from __future__ import annotations

from typing import Any

import stripe

from .clocked import DAY, T0, Clocked, clocked  # noqa: F401  (fixture)
from .conftest import Connected, monthly_price, paying_customer


def _coupon(client: stripe.StripeClient, account: Connected, **terms: Any) -> str:
    return str(client.v1.coupons.create(terms, account.opts).id)  # type: ignore[arg-type]


def _amounts(entries: list[Any] | None) -> list[tuple[int, str]]:
    return [(entry.amount, entry.discount) for entry in entries or []]


def _line_of(invoice: stripe.Invoice, item: str) -> stripe.InvoiceLineItem:
    for line in invoice.lines.data:
        details = line.parent.subscription_item_details if line.parent else None
        if details is not None and details.subscription_item == item:
            return line
    raise AssertionError(f"no line for {item}")


def test_an_item_discount_applies_to_its_line_only(
    client: stripe.StripeClient, account: Connected
) -> None:
    coupon = _coupon(client, account, percent_off=50, duration="forever")
    gold, silver = monthly_price(client, account, 2000), monthly_price(client, account, 1000)
    sub = client.v1.subscriptions.create(
        {
            "customer": paying_customer(client, account),
            "items": [{"price": gold, "discounts": [{"coupon": coupon}]}, {"price": silver}],
            "expand": ["latest_invoice", "items.data.discounts"],
        },
        account.opts,
    )
    items = {item.price.id: item for item in sub["items"].data}
    (discount,) = items[gold].discounts
    assert isinstance(discount, stripe.Discount)
    assert discount.source.coupon == coupon
    assert (discount.subscription, discount.subscription_item) == (sub.id, items[gold].id)
    assert items[silver].discounts == []
    assert sub.discounts == []
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    assert (invoice.subtotal, invoice.total, invoice.amount_paid) == (3000, 2000, 2000)
    assert invoice.discounts == []
    assert _amounts(invoice.total_discount_amounts) == [(1000, discount.id)]
    gold_line = _line_of(invoice, items[gold].id)
    assert gold_line.discounts == [discount.id]
    assert _amounts(gold_line.discount_amounts) == [(1000, discount.id)]
    silver_line = _line_of(invoice, items[silver].id)
    assert (silver_line.discounts, silver_line.discount_amounts) == ([], [])


def test_item_discounts_apply_before_the_subscription_discount(
    client: stripe.StripeClient, account: Connected
) -> None:
    item_coupon = _coupon(client, account, amount_off=500, currency="usd", duration="forever")
    sub_coupon = _coupon(client, account, percent_off=10, duration="forever")
    gold, silver = monthly_price(client, account, 2000), monthly_price(client, account, 1000)
    sub = client.v1.subscriptions.create(
        {
            "customer": paying_customer(client, account),
            "items": [{"price": gold, "discounts": [{"coupon": item_coupon}]}, {"price": silver}],
            "discounts": [{"coupon": sub_coupon}],
            "expand": ["latest_invoice"],
        },
        account.opts,
    )
    invoice = sub.latest_invoice
    assert isinstance(invoice, stripe.Invoice)
    gold_item = next(i for i in sub["items"].data if i.price.id == gold)
    silver_item = next(i for i in sub["items"].data if i.price.id == silver)
    (sub_discount,) = sub.discounts
    # 2000 - 500 = 1500 and 1000 are left; 10 % of 2500 is 250, shared 150 / 100.
    assert (invoice.subtotal, invoice.total) == (3000, 2250)
    assert invoice.discounts == [sub_discount]
    gold_line, silver_line = _line_of(invoice, gold_item.id), _line_of(invoice, silver_item.id)
    item_discount = gold_item.discounts[0]
    assert _amounts(gold_line.discount_amounts) == [(500, item_discount), (150, sub_discount)]
    assert _amounts(silver_line.discount_amounts) == [(100, sub_discount)]
    assert sorted(_amounts(invoice.total_discount_amounts)) == sorted(
        [(500, item_discount), (250, sub_discount)]
    )


def test_retrieving_an_item_expands_its_discounts(
    client: stripe.StripeClient, account: Connected
) -> None:
    coupon = _coupon(client, account, percent_off=20, duration="forever")
    sub = client.v1.subscriptions.create(
        {
            "customer": paying_customer(client, account),
            "items": [{"price": monthly_price(client, account, 1000)}],
        },
        account.opts,
    )
    item_id = sub["items"].data[0].id
    updated = client.v1.subscription_items.update(
        item_id,
        {"discounts": [{"coupon": coupon}], "proration_behavior": "none"},
        account.opts,
    )
    (discount_id,) = updated.discounts
    assert isinstance(discount_id, str)
    item = client.v1.subscription_items.retrieve(item_id, {"expand": ["discounts"]}, account.opts)
    (discount,) = item.discounts
    assert isinstance(discount, stripe.Discount)
    assert (discount.id, discount.source.coupon, discount.subscription_item) == (
        discount_id,
        coupon,
        item_id,
    )
    cleared = client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item_id, "discounts": ""}]}, account.opts
    )
    assert cleared["items"].data[0].discounts == []


def test_a_once_item_discount_is_used_by_the_first_invoice(clocked: Clocked) -> None:  # noqa: F811
    client, opts = clocked.client, clocked.opts
    once = client.v1.coupons.create({"percent_off": 50, "duration": "once"}, opts).id
    forever = client.v1.coupons.create(
        {"amount_off": 100, "currency": "usd", "duration": "forever"}, opts
    ).id
    sub = client.v1.subscriptions.create(
        {
            "customer": clocked.customer(),
            "items": [
                {"price": clocked.price(1000), "discounts": [{"coupon": once}]},
                {"price": clocked.price(400), "discounts": [{"coupon": forever}]},
            ],
        },
        opts,
    )
    clocked.advance(T0 + 35 * DAY)
    first, renewal = clocked.invoices(sub.id)
    assert (first.subtotal, first.total) == (1400, 800)  # 1000 - 500, 400 - 100
    assert (renewal.subtotal, renewal.total, renewal.status) == (1400, 1300, "paid")
    items = clocked.subscription(sub.id)["items"].data
    discounts = {item.price.unit_amount: item.discounts for item in items}
    assert discounts[1000] == []
    assert len(discounts[400]) == 1
