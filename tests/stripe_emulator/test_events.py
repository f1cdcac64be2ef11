"""Events: what each change records, and the events list filters."""

from __future__ import annotations

import uuid

import pytest
import stripe

from stripe_emulator.config import PINNED_API_VERSION

from .conftest import Connected


def _events(
    client: stripe.StripeClient, account: Connected, **params: object
) -> list[stripe.Event]:
    return list(client.v1.events.list({"limit": 100, **params}, account.opts).data)  # type: ignore[arg-type]


def test_customer_lifecycle_creates_events_with_request_and_account(
    client: stripe.StripeClient, account: Connected
) -> None:
    key = str(uuid.uuid4())
    customer = client.v1.customers.create(
        {"email": "a@x.test"}, {"idempotency_key": key, **account.opts}
    )
    client.v1.customers.update(
        customer.id, {"name": "Ada", "metadata": {"tier": "gold"}}, account.opts
    )
    client.v1.customers.delete(customer.id, options=account.opts)

    deleted, updated, created = _events(client, account)
    assert [created.type, updated.type, deleted.type] == [
        "customer.created",
        "customer.updated",
        "customer.deleted",
    ]
    assert created.account == account.id
    assert created.api_version == PINNED_API_VERSION
    assert created.livemode is False
    assert created.pending_webhooks == 0
    assert created["request"]["idempotency_key"] == key
    assert created["request"]["id"] is not None
    assert created["request"]["id"].startswith("req_")
    assert created.data.object["email"] == "a@x.test"
    assert created.data.object["name"] is None
    assert updated.data.object["name"] == "Ada"
    assert updated.data.previous_attributes.to_dict() == {"metadata": {"tier": None}, "name": None}
    assert deleted.data.object["id"] == customer.id
    assert client.v1.events.retrieve(updated.id, options=account.opts).type == "customer.updated"


def test_platform_events_have_no_account(client: stripe.StripeClient) -> None:
    product = client.v1.products.create({"name": "Platform product"})
    events = client.v1.events.list({"type": "product.created", "limit": 5}).data
    event = next(e for e in events if e.data.object["id"] == product.id)
    assert "account" not in event


def test_update_without_change_creates_no_event(
    client: stripe.StripeClient, account: Connected
) -> None:
    customer = client.v1.customers.create({"name": "Same"}, account.opts)
    client.v1.customers.update(customer.id, {"name": "Same"}, account.opts)
    assert [e.type for e in _events(client, account)] == ["customer.created"]


def test_type_wildcard_types_and_created_filters(
    client: stripe.StripeClient, account: Connected
) -> None:
    client.v1.customers.create({}, account.opts)
    product = client.v1.products.create({"name": "P"}, account.opts)
    client.v1.products.update(product.id, {"name": "Q"}, account.opts)
    assert [e.type for e in _events(client, account, type="product.*")] == [
        "product.updated",
        "product.created",
    ]
    assert [e.type for e in _events(client, account, types=["customer.created"])] == [
        "customer.created"
    ]
    assert _events(client, account, type="invoice.*") == []
    first = _events(client, account)[-1]
    assert len(_events(client, account, created={"gte": first.created})) == 3
    assert len(_events(client, account, created={"lt": first.created})) == 0
    assert len(_events(client, account, delivery_success=True)) == 3
    with pytest.raises(stripe.InvalidRequestError) as caught:
        _events(client, account, type="customer.created", types=["customer.created"])
    assert caught.value.code == "parameters_exclusive"


def test_events_page_with_starting_after(client: stripe.StripeClient, account: Connected) -> None:
    for index in range(5):
        client.v1.customers.create({"name": f"c{index}"}, account.opts)
    page = client.v1.events.list({"limit": 2}, account.opts)
    assert page.has_more
    names = [e.data.object["name"] for e in page.auto_paging_iter()]
    assert names == ["c4", "c3", "c2", "c1", "c0"]
