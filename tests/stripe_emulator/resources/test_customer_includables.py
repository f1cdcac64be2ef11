"""Customer fields Stripe returns only when expanded: `sources`, `subscriptions`, `tax_ids`."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.stripe_emulator.conftest import Connected, monthly_price, paying_customer


def _subscribed(client: stripe.StripeClient, account: Connected) -> tuple[str, list[str]]:
    customer = paying_customer(client, account)
    price = monthly_price(client, account, 900)
    subscriptions = [
        client.v1.subscriptions.create(
            {"customer": customer, "items": [{"price": price}]}, account.opts
        ).id
        for _ in range(3)
    ]
    return customer, subscriptions


def test_fields_are_absent_unless_expanded(client: stripe.StripeClient, account: Connected) -> None:
    customer, _ = _subscribed(client, account)
    plain = client.v1.customers.retrieve(customer, options=account.opts)
    for name in ("sources", "subscriptions", "tax_ids"):
        assert name not in plain
    listed = client.v1.customers.list({"limit": 1}, account.opts).data[0]
    assert "subscriptions" not in listed


def test_expanded_subscriptions_are_the_current_ones_newest_first(
    client: stripe.StripeClient, account: Connected
) -> None:
    customer, subscriptions = _subscribed(client, account)
    client.v1.subscriptions.cancel(subscriptions[0], options=account.opts)
    expanded = client.v1.customers.retrieve(
        customer, {"expand": ["subscriptions", "sources", "tax_ids"]}, account.opts
    )
    assert [s.id for s in expanded.subscriptions.data] == [subscriptions[2], subscriptions[1]]
    assert expanded.subscriptions.url == f"/v1/customers/{customer}/subscriptions"
    assert expanded.subscriptions.has_more is False
    assert expanded.subscriptions.data[0]["items"].data[0].price.unit_amount == 900
    assert (expanded.sources.data, expanded.sources.url) == (
        [],
        f"/v1/customers/{customer}/sources",
    )
    assert expanded.tax_ids.data == []
    # In lists the same expansion takes the `data.` prefix, and nested expansions work.
    listed = client.v1.customers.list(
        {"limit": 100, "expand": ["data.subscriptions.data.latest_invoice"]}, account.opts
    )
    mine = next(c for c in listed.data if c.id == customer)
    assert mine.subscriptions.data[0].latest_invoice.amount_paid == 900
    assert "tax_ids" not in mine


def test_customer_subscriptions_endpoint_pages_and_filters_by_status(
    client: stripe.StripeClient, account: Connected, http: httpx.Client
) -> None:
    customer, subscriptions = _subscribed(client, account)
    client.v1.subscriptions.cancel(subscriptions[0], options=account.opts)
    headers = {"Stripe-Account": account.id}
    url = f"/v1/customers/{customer}/subscriptions"
    first = http.get(url, params={"limit": 1}, headers=headers).json()
    assert ([s["id"] for s in first["data"]], first["has_more"]) == ([subscriptions[2]], True)
    rest = http.get(url, params={"starting_after": subscriptions[2]}, headers=headers).json()
    assert [s["id"] for s in rest["data"]] == [subscriptions[1]]
    every = http.get(url, params={"status": "all"}, headers=headers).json()
    assert [s["id"] for s in every["data"]] == list(reversed(subscriptions))
    missing = http.get("/v1/customers/cus_missing/subscriptions", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"


def test_tax_ids_from_create_and_their_own_endpoints(
    client: stripe.StripeClient, account: Connected, http: httpx.Client
) -> None:
    customer = client.v1.customers.create(
        {"tax_id_data": [{"type": "eu_vat", "value": "DE123456789"}]}, account.opts
    ).id
    added = client.v1.customers.tax_ids.create(
        customer, {"type": "us_ein", "value": "12-3456789"}, account.opts
    )
    assert added.id.startswith("txi_")
    assert (added.type, added.value, added.country, added.customer) == (
        "us_ein",
        "12-3456789",
        "US",
        customer,
    )
    assert added.verification is not None
    assert added.verification.status == "unavailable"
    listed = client.v1.customers.tax_ids.list(customer, options=account.opts)
    assert [(t.type, t.country) for t in listed.data] == [("us_ein", "US"), ("eu_vat", "DE")]
    expanded = client.v1.customers.retrieve(customer, {"expand": ["tax_ids"]}, account.opts)
    assert [t.id for t in expanded.tax_ids.data] == [t.id for t in listed.data]
    assert client.v1.customers.tax_ids.retrieve(customer, added.id, options=account.opts).value == (
        "12-3456789"
    )
    deleted = client.v1.customers.tax_ids.delete(customer, added.id, options=account.opts)
    assert (deleted.id, deleted.deleted) == (added.id, True)
    assert [t.type for t in client.v1.customers.tax_ids.list(customer, options=account.opts)] == [
        "eu_vat"
    ]
    events = client.v1.events.list({"type": "customer.tax_id.*"}, account.opts).data
    assert [e.type for e in events][:3] == [
        "customer.tax_id.deleted",
        "customer.tax_id.created",
        "customer.tax_id.created",
    ]
    with pytest.raises(stripe.InvalidRequestError) as bad:
        client.v1.customers.tax_ids.create(
            customer, {"type": "xx_nope", "value": "1"}, account.opts
        )
    assert bad.value.param == "type"
    other = client.v1.customers.create({}, account.opts).id
    gone = http.get(
        f"/v1/customers/{other}/tax_ids/{added.id}", headers={"Stripe-Account": account.id}
    )
    assert gone.status_code == 404
