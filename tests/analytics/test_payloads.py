"""Reading prices, plans, coupons and discounts of any API version into the model."""

from __future__ import annotations

from fractions import Fraction

from revlens.analytics.model import BillingScheme, Duration, Interval, TiersMode, UsageType
from revlens.analytics.payloads import (
    Catalog,
    current_period,
    deep_merge,
    invoice_subscription,
    line_is_proration,
    line_price,
    parse_discount,
    parse_price,
    subscription_discounts,
)

TIERED = {
    "id": "price_tiered",
    "object": "price",
    "type": "recurring",
    "currency": "EUR",
    "billing_scheme": "tiered",
    "tiers_mode": "graduated",
    "unit_amount": None,
    "unit_amount_decimal": None,
    "recurring": {"interval": "week", "interval_count": 2, "usage_type": "licensed"},
    "tiers": [
        {
            "up_to": 10,
            "unit_amount": None,
            "unit_amount_decimal": "99.5",
            "flat_amount": 500,
            "flat_amount_decimal": "500",
        },
        {
            "up_to": None,
            "unit_amount": 80,
            "unit_amount_decimal": None,
            "flat_amount": None,
            "flat_amount_decimal": None,
        },
    ],
    "transform_quantity": None,
}


def test_tiered_price_with_decimal_amounts() -> None:
    price = parse_price(TIERED, Catalog())
    assert price is not None
    assert (price.currency, price.interval, price.interval_count) == ("eur", Interval.WEEK, 2)
    assert (price.billing_scheme, price.tiers_mode) == (BillingScheme.TIERED, TiersMode.GRADUATED)
    assert price.tiers[0].unit_amount == Fraction("99.5")
    assert (price.tiers[1].up_to, price.tiers[1].unit_amount) == (None, 80)


def test_legacy_plan_and_metered_and_one_time_prices() -> None:
    plan = {
        "id": "gold",
        "object": "plan",
        "amount": 2_000,
        "currency": "usd",
        "interval": "year",
        "interval_count": 1,
        "usage_type": "metered",
        "transform_usage": {"divide_by": 100, "round": "down"},
    }
    parsed = parse_price(plan, Catalog())
    assert parsed is not None
    assert (parsed.interval, parsed.usage_type) == (Interval.YEAR, UsageType.METERED)
    assert (parsed.transform_divide_by, parsed.transform_round_up) == (100, False)
    one_time = parse_price(
        {
            "id": "p",
            "object": "price",
            "type": "one_time",
            "currency": "usd",
            "unit_amount": 500,
            "recurring": None,
        },
        Catalog(),
    )
    assert one_time is not None
    assert not one_time.recurring


def test_discount_coupon_in_old_and_clover_shapes_and_by_id() -> None:
    coupon = {
        "id": "co_1",
        "object": "coupon",
        "percent_off": 12.5,
        "duration": "repeating",
        "duration_in_months": 2,
    }
    old = parse_discount(
        {"id": "di_1", "object": "discount", "coupon": coupon, "start": 1, "end": 9}, Catalog()
    )
    new = parse_discount(
        "di_1",
        Catalog(
            discounts={
                "di_1": {
                    "id": "di_1",
                    "object": "discount",
                    "start": 1,
                    "end": 9,
                    "source": {"type": "coupon", "coupon": "co_1"},
                }
            },
            coupons={"co_1": coupon},
        ),
    )
    assert old == new
    assert old is not None
    assert (old.coupon.percent_off, old.coupon.duration) == (Fraction("12.5"), Duration.REPEATING)


def test_subscription_shapes() -> None:
    assert current_period({"current_period_start": 1, "current_period_end": 2}) == (1, 2)
    basil = {
        "items": {
            "data": [
                {"current_period_start": 5, "current_period_end": 9},
                {"current_period_start": 4, "current_period_end": 8},
            ]
        }
    }
    assert current_period(basil) == (4, 9)
    legacy = {"discount": {"coupon": {"id": "co", "percent_off": 10, "duration": "forever"}}}
    assert [d.id for d in subscription_discounts(legacy, Catalog())] == ["coupon:co"]


def test_invoice_and_line_shapes() -> None:
    assert invoice_subscription({"subscription": "sub_1"}) == "sub_1"
    assert invoice_subscription({"subscription": {"id": "sub_2"}}) == "sub_2"
    assert (
        invoice_subscription({"parent": {"subscription_details": {"subscription": "sub_3"}}})
        == "sub_3"
    )
    new_line = {
        "pricing": {"price_details": {"price": "price_tiered"}},
        "parent": {"subscription_item_details": {"proration": True}},
    }
    price = line_price(new_line, Catalog(prices={"price_tiered": TIERED}))
    assert price is not None
    assert price.id == "price_tiered"
    assert line_is_proration(new_line)
    assert not line_is_proration({"proration": False})


def test_previous_attributes_overlay() -> None:
    obj = {"status": "active", "items": {"data": [1]}, "plan": {"id": "a", "amount": 5}}
    previous = {"status": "trialing", "plan": {"amount": 3}, "items": {"data": [0]}}
    assert deep_merge(obj, previous) == {
        "status": "trialing",
        "items": {"data": [0]},
        "plan": {"id": "a", "amount": 3},
    }
