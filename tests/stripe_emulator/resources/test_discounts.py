"""Coupons, promotion codes and tax rates."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator.resources.discounts import add_months
from tests.stripe_emulator.conftest import Connected, monthly_price, paying_customer


def test_coupon_shapes_and_validation(client: stripe.StripeClient, account: Connected) -> None:
    coupon = client.v1.coupons.create(
        {"amount_off": 500, "currency": "usd", "duration": "once", "name": "5 off"}, account.opts
    )
    assert len(coupon.id) == 8
    assert coupon.id.isalnum()
    assert (coupon.amount_off, coupon.currency, coupon.percent_off) == (500, "usd", None)
    assert (coupon.valid, coupon.times_redeemed, coupon.duration_in_months) == (True, 0, None)
    named = client.v1.coupons.create(
        {"id": "SUMMER", "percent_off": 12.5, "duration": "forever"}, account.opts
    )
    assert named.id == "SUMMER"
    assert named.percent_off == 12.5
    with pytest.raises(stripe.InvalidRequestError) as duplicate:
        client.v1.coupons.create({"id": "SUMMER", "percent_off": 1}, account.opts)
    assert duplicate.value.code == "resource_already_exists"
    for bad in (
        {"duration": "forever"},
        {"percent_off": 5, "amount_off": 5},
        {"amount_off": 5},
        {"percent_off": 5, "duration": "repeating"},
    ):
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.coupons.create(bad, account.opts)  # type: ignore[arg-type]
    updated = client.v1.coupons.update(
        "SUMMER", {"metadata": {"k": "v"}, "name": "Sun"}, account.opts
    )
    assert updated.metadata.to_dict() == {"k": "v"}
    assert updated.name == "Sun"
    assert client.v1.coupons.delete("SUMMER", {}, account.opts).deleted is True
    assert [c.id for c in client.v1.coupons.list({}, account.opts)] == [coupon.id]


def test_promotion_codes(client: stripe.StripeClient, account: Connected) -> None:
    coupon = client.v1.coupons.create({"percent_off": 20}, account.opts)
    code = client.v1.promotion_codes.create(
        {"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "FALL20"}, account.opts
    )
    assert code.id.startswith("promo_")
    assert code.code == "FALL20"
    assert code.active is True
    assert code.promotion.to_dict() == {"coupon": coupon.id, "type": "coupon"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.promotion_codes.create(
            {"promotion": {"type": "coupon", "coupon": coupon.id}, "code": "FALL20"}, account.opts
        )
    expanded = client.v1.promotion_codes.retrieve(
        code.id, {"expand": ["promotion.coupon"]}, account.opts
    )
    assert expanded.promotion.coupon.percent_off == 20  # type: ignore[union-attr]
    client.v1.promotion_codes.update(code.id, {"active": False}, account.opts)
    assert client.v1.promotion_codes.list({"active": True}, account.opts).data == []
    assert [p.id for p in client.v1.promotion_codes.list({"code": "FALL20"}, account.opts)] == [
        code.id
    ]


def test_tax_rates(client: stripe.StripeClient, account: Connected) -> None:
    rate = client.v1.tax_rates.create(
        {
            "display_name": "VAT",
            "inclusive": False,
            "percentage": 19,
            "country": "DE",
            "tax_type": "vat",
        },
        account.opts,
    )
    assert rate.id.startswith("txr_")
    assert (rate.percentage, rate.effective_percentage, rate.inclusive) == (19, 19, False)
    assert (rate.country, rate.tax_type, rate.active) == ("DE", "vat", True)
    client.v1.tax_rates.update(rate.id, {"active": False}, account.opts)
    assert client.v1.tax_rates.list({"active": True}, account.opts).data == []
    assert [r.id for r in client.v1.tax_rates.list({"inclusive": False}, account.opts)] == [rate.id]
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.tax_rates.create({"display_name": "x", "inclusive": True}, account.opts)  # type: ignore[typeddict-item]
    assert caught.value.code == "parameter_missing"


def test_add_months_clamps_to_month_end() -> None:
    jan31 = 1706659200  # 2024-01-31T00:00:00Z
    assert add_months(jan31, 1) == 1709164800  # 2024-02-29
    assert add_months(jan31, 12) == 1738281600  # 2025-01-31


def test_expanded_subscription_and_invoice_discounts_have_stripes_shape(
    client: stripe.StripeClient, account: Connected
) -> None:
    coupon = client.v1.coupons.create({"percent_off": 25, "duration": "forever"}, account.opts).id
    customer = paying_customer(client, account)
    price = monthly_price(client, account, 2000)
    subscription = client.v1.subscriptions.create(
        {"customer": customer, "items": [{"price": price}], "discounts": [{"coupon": coupon}]},
        account.opts,
    )
    expanded = client.v1.subscriptions.retrieve(
        subscription.id, {"expand": ["discounts", "latest_invoice.discounts"]}, account.opts
    )
    discount = expanded.discounts[0]
    assert not isinstance(discount, str)
    assert "created" not in discount
    assert discount.source.coupon == coupon
    invoice = expanded.latest_invoice
    assert not isinstance(invoice, str)
    assert invoice.total == 1500
    invoice_discount = invoice.discounts[0]
    assert not isinstance(invoice_discount, str)
    assert "created" not in invoice_discount
    assert invoice_discount.id == discount.id
