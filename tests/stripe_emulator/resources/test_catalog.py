"""Products, prices and plans: shapes, validation, list filters and the price/plan mirror."""

from __future__ import annotations

from decimal import Decimal

import pytest
import stripe

from tests.stripe_emulator.conftest import Connected


def test_product_crud(client: stripe.StripeClient, account: Connected) -> None:
    product = client.v1.products.create(
        {"name": "Shirt", "description": "Grey", "id": "prod_shirt"}, account.opts
    )
    assert (product.id, product.object, product.active, product.type) == (
        "prod_shirt",
        "product",
        True,
        "service",
    )
    assert product.images == []
    assert product.default_price is None
    updated = client.v1.products.update(product.id, {"active": False}, account.opts)
    assert updated.active is False
    assert updated.updated >= product.updated
    assert client.v1.products.list({"active": True}, account.opts).data == []
    assert [p.id for p in client.v1.products.list({"ids": ["prod_shirt"]}, account.opts)] == [
        "prod_shirt"
    ]
    deleted = client.v1.products.delete(product.id, {}, account.opts)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.products.retrieve(product.id, {}, account.opts)
    assert caught.value.code == "resource_missing"


def test_product_with_prices_cannot_be_deleted(
    client: stripe.StripeClient, account: Connected
) -> None:
    product = client.v1.products.create(
        {"name": "P", "default_price_data": {"currency": "eur", "unit_amount": 100}}, account.opts
    )
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.products.delete(product.id, {}, account.opts)


def test_recurring_price_shape_and_plan_mirror(
    client: stripe.StripeClient, account: Connected
) -> None:
    product = client.v1.products.create({"name": "SaaS"}, account.opts)
    price = client.v1.prices.create(
        {
            "product": product.id,
            "currency": "USD",
            "unit_amount": 1500,
            "lookup_key": "pro_m",
            "recurring": {"interval": "month", "interval_count": 3},
            "transform_quantity": {"divide_by": 10, "round": "up"},
        },
        account.opts,
    )
    assert price.id.startswith("price_")
    assert price.type == "recurring"
    assert (price.currency, price.unit_amount, price.unit_amount_decimal) == (
        "usd",
        1500,
        Decimal(1500),
    )
    assert price.recurring is not None
    assert price.recurring.to_dict() == {
        "interval": "month",
        "interval_count": 3,
        "meter": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }
    assert price.transform_quantity is not None
    assert price.transform_quantity.divide_by == 10
    assert price.billing_scheme == "per_unit"
    assert price.tiers_mode is None
    plan = client.v1.plans.retrieve(price.id, {}, account.opts)
    assert (plan.amount, plan.interval, plan.interval_count, plan.product) == (
        1500,
        "month",
        3,
        product.id,
    )
    client.v1.prices.update(price.id, {"active": False, "nickname": "old"}, account.opts)
    plan = client.v1.plans.retrieve(price.id, {}, account.opts)
    assert (plan.active, plan.nickname) == (False, "old")


def test_price_list_defaults_to_active_and_filters(
    client: stripe.StripeClient, account: Connected
) -> None:
    product = client.v1.products.create({"name": "X"}, account.opts)
    one_time = client.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": 5}, account.opts
    )
    monthly = client.v1.prices.create(
        {
            "product": product.id,
            "currency": "eur",
            "unit_amount": 7,
            "lookup_key": "m",
            "recurring": {"interval": "month", "usage_type": "metered"},
        },
        account.opts,
    )
    archived = client.v1.prices.create(
        {"product": product.id, "currency": "usd", "unit_amount": 9, "active": False}, account.opts
    )

    def ids(params: dict[str, object]) -> set[str]:
        return {p.id for p in client.v1.prices.list(params, account.opts)}  # type: ignore[arg-type]

    assert ids({}) == {one_time.id, monthly.id}
    assert ids({"active": False}) == {archived.id}
    assert ids({"type": "recurring"}) == {monthly.id}
    assert ids({"currency": "eur"}) == {monthly.id}
    assert ids({"lookup_keys": ["m"]}) == {monthly.id}
    assert ids({"recurring": {"usage_type": "metered"}}) == {monthly.id}
    assert ids({"product": "prod_other"}) == set()


def test_lookup_keys_are_unique_unless_transferred(
    client: stripe.StripeClient, account: Connected
) -> None:
    product = client.v1.products.create({"name": "L"}, account.opts)
    base = {"product": product.id, "currency": "usd", "unit_amount": 1, "lookup_key": "k"}
    first = client.v1.prices.create(base, account.opts)  # type: ignore[arg-type]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.create(base, account.opts)  # type: ignore[arg-type]
    second = client.v1.prices.create({**base, "transfer_lookup_key": True}, account.opts)  # type: ignore[arg-type]
    assert client.v1.prices.retrieve(first.id, {}, account.opts).lookup_key is None
    assert second.lookup_key == "k"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"currency": "usd", "unit_amount": 1}, "product"),
        ({"currency": "usd", "product": "prod_missing", "unit_amount": 1}, "product"),
        ({"currency": "usd", "product_data": {"name": "n"}}, "unit_amount"),
        (
            {
                "currency": "usd",
                "product_data": {"name": "n"},
                "unit_amount": 1,
                "recurring": {"interval": "fortnight"},
            },
            "recurring[interval]",
        ),
    ],
)
def test_price_validation(
    client: stripe.StripeClient, params: dict[str, object], param: str
) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.create(params)  # type: ignore[arg-type]
    assert caught.value.param == param


def test_legacy_plan_with_inline_product(client: stripe.StripeClient, account: Connected) -> None:
    plan = client.v1.plans.create(
        {"currency": "usd", "interval": "year", "amount": 12000, "product": {"name": "Annual"}},
        account.opts,
    )
    assert plan.object == "plan"
    assert plan.id.startswith("price_")
    assert plan.amount_decimal == Decimal(12000)
    assert plan.usage_type == "licensed"
    price = client.v1.prices.retrieve(plan.id, {"expand": ["product"]}, account.opts)
    assert price.product.name == "Annual"  # type: ignore[union-attr]
    assert [p.id for p in client.v1.plans.list({}, account.opts)] == [plan.id]
    client.v1.plans.delete(plan.id, {}, account.opts)
    assert client.v1.prices.retrieve(plan.id, {}, account.opts).active is False
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.plans.retrieve(plan.id, {}, account.opts)
