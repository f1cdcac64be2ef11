"""Customers: create, retrieve, update, delete, list filters and discounts."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.stripe_emulator.conftest import Connected


def test_create_has_stripes_shape(client: stripe.StripeClient, account: Connected) -> None:
    customer = client.v1.customers.create(
        {
            "email": "ada@x.test",
            "name": "Ada",
            "metadata": {"plan": "pro"},
            "address": {"city": "London", "country": "GB"},
        },
        account.opts,
    )
    assert customer.id.startswith("cus_")
    assert len(customer.id) == 18
    assert customer.object == "customer"
    assert (customer.email, customer.name, customer.livemode) == ("ada@x.test", "Ada", False)
    assert customer.metadata.to_dict() == {"plan": "pro"}
    assert customer.address is not None
    assert customer.address.to_dict() == {
        "city": "London",
        "country": "GB",
        "line1": None,
        "line2": None,
        "postal_code": None,
        "state": None,
    }
    assert (customer.balance, customer.delinquent, customer.discount) == (0, False, None)
    assert customer.tax_exempt == "none"
    assert customer.preferred_locales == []
    assert customer.invoice_prefix
    assert customer.next_invoice_sequence == 1


def test_update_merges_metadata_and_unsets_with_empty_strings(
    client: stripe.StripeClient, account: Connected
) -> None:
    customer = client.v1.customers.create(
        {"email": "a@x.test", "metadata": {"a": "1", "b": "2"}}, account.opts
    )
    updated = client.v1.customers.update(
        customer.id, {"metadata": {"b": "", "c": "3"}, "email": "", "name": "New"}, account.opts
    )
    assert updated.metadata.to_dict() == {"a": "1", "c": "3"}
    assert updated.email is None
    assert updated.name == "New"
    assert client.v1.customers.retrieve(customer.id, {}, account.opts).name == "New"


def test_delete_then_retrieve_shows_the_deleted_stub(
    client: stripe.StripeClient, account: Connected
) -> None:
    customer = client.v1.customers.create({}, account.opts)
    deleted = client.v1.customers.delete(customer.id, {}, account.opts)
    assert deleted.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    again = client.v1.customers.retrieve(customer.id, {}, account.opts)
    assert again.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.update(customer.id, {"name": "x"}, account.opts)


def test_list_filters_by_exact_email(client: stripe.StripeClient, account: Connected) -> None:
    match = client.v1.customers.create({"email": "Find@x.test"}, account.opts)
    client.v1.customers.create({"email": "find@x.test"}, account.opts)
    found = client.v1.customers.list({"email": "Find@x.test"}, account.opts).data
    assert [c.id for c in found] == [match.id]


def test_legacy_coupon_param_gives_a_discount_that_can_be_removed(
    client: stripe.StripeClient, account: Connected, http: httpx.Client
) -> None:
    coupon = client.v1.coupons.create(
        {"percent_off": 25, "duration": "repeating", "duration_in_months": 2}, account.opts
    )
    headers = {"Stripe-Account": account.id}
    customer = http.post("/v1/customers", data={"coupon": coupon.id}, headers=headers).json()
    discount = customer["discount"]
    assert discount["object"] == "discount"
    assert discount["id"].startswith("di_")
    assert discount["source"] == {"coupon": coupon.id, "type": "coupon"}
    assert discount["customer"] == customer["id"]
    assert discount["end"] - discount["start"] in range(59 * 86400, 63 * 86400)
    assert client.v1.coupons.retrieve(coupon.id, {}, account.opts).times_redeemed == 1
    removed = client.v1.customers.delete_discount(customer["id"], {}, account.opts)
    assert removed.deleted is True
    assert client.v1.customers.retrieve(customer["id"], {}, account.opts).discount is None


def test_missing_coupon_reference_is_a_400(http: httpx.Client) -> None:
    response = http.post("/v1/customers", data={"coupon": "NOPE"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "resource_missing"
    assert response.json()["error"]["param"] == "coupon"
