"""`expand[]`: on retrieve, on lists with `data.`, nested, and the errors Stripe gives."""

from __future__ import annotations

import httpx
import pytest
import stripe

from tests.stripe_emulator.conftest import Connected


@pytest.fixture
def catalog(client: stripe.StripeClient, account: Connected) -> tuple[str, str]:
    """Create a product with a default price; return (product id, price id)."""
    product = client.v1.products.create(
        {
            "name": "Pro",
            "default_price_data": {
                "currency": "usd",
                "unit_amount": 900,
                "recurring": {"interval": "month"},
            },
        },
        account.opts,
    )
    assert isinstance(product.default_price, str)
    return product.id, product.default_price


def test_expand_on_retrieve(
    client: stripe.StripeClient, account: Connected, catalog: tuple[str, str]
) -> None:
    product_id, price_id = catalog
    price = client.v1.prices.retrieve(price_id, {"expand": ["product"]}, account.opts)
    assert isinstance(price.product, stripe.Product)
    assert price.product.id == product_id
    assert price.product.name == "Pro"


def test_nested_expansion_through_two_objects(
    client: stripe.StripeClient, account: Connected, catalog: tuple[str, str]
) -> None:
    _, price_id = catalog
    price = client.v1.prices.retrieve(price_id, {"expand": ["product.default_price"]}, account.opts)
    assert isinstance(price.product, stripe.Product)
    assert isinstance(price.product.default_price, stripe.Price)
    assert price.product.default_price.id == price_id


def test_list_expansions_need_the_data_prefix(
    client: stripe.StripeClient, account: Connected, catalog: tuple[str, str]
) -> None:
    product_id, _ = catalog
    prices = client.v1.prices.list({"expand": ["data.product"]}, account.opts)
    assert [p.product.id for p in prices.data] == [product_id]  # type: ignore[union-attr]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.list({"expand": ["product"]}, account.opts)
    assert "This property cannot be expanded (product)." in str(caught.value)


def test_unexpandable_fields_and_depth_limit_are_400(http: httpx.Client) -> None:
    created = http.post("/v1/customers", data={"email": "e@x.test"}).json()
    not_expandable = http.get(f"/v1/customers/{created['id']}", params={"expand[]": "email"})
    assert not_expandable.status_code == 400
    deep = http.get(f"/v1/customers/{created['id']}", params={"expand[0]": "a.b.c.d.e"})
    assert deep.status_code == 400
    assert "more than 4 levels" in deep.json()["error"]["message"]


def test_discount_coupon_expands_inside_the_customer(
    client: stripe.StripeClient, account: Connected, http: httpx.Client
) -> None:
    coupon = client.v1.coupons.create({"percent_off": 10, "duration": "forever"}, account.opts)
    response = http.post(
        "/v1/customers", data={"coupon": coupon.id}, headers={"Stripe-Account": account.id}
    )
    customer_id = response.json()["id"]
    customer = client.v1.customers.retrieve(
        customer_id, {"expand": ["discount.source.coupon"]}, account.opts
    )
    assert customer.discount is not None
    assert customer.discount.source.coupon.percent_off == 10  # type: ignore[union-attr]


def test_includable_fields_only_appear_when_expanded(
    client: stripe.StripeClient, account: Connected
) -> None:
    product = client.v1.products.create({"name": "Tiered"}, account.opts)
    price = client.v1.prices.create(
        {
            "product": product.id,
            "currency": "usd",
            "billing_scheme": "tiered",
            "tiers_mode": "graduated",
            "recurring": {"interval": "month"},
            "tiers": [{"up_to": 10, "unit_amount": 500}, {"up_to": "inf", "unit_amount": 400}],
        },
        account.opts,
    )
    assert "tiers" not in price
    expanded = client.v1.prices.retrieve(price.id, {"expand": ["tiers"]}, account.opts)
    assert [t.up_to for t in expanded.tiers or []] == [10, None]
    listed = client.v1.prices.list({"expand": ["data.tiers"]}, account.opts).data[0]
    assert listed.tiers is not None
    assert listed.tiers[1].unit_amount == 400
