"""The reference calculator on small hand-made ground truths with known answers."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest

from tests.reference.mrr import DAY, customer_mrr, period_amount, round_half_away

T0 = 1_704_067_200  # 2024-01-01 00:00 UTC


def _price(amount: int | None, interval: str = "month", count: int = 1, **extra: Any) -> Any:
    return {
        "currency": extra.pop("currency", "usd"),
        "type": "recurring",
        "billing_scheme": "per_unit",
        "unit_amount_decimal": None if amount is None else str(amount),
        "tiers_mode": None,
        "tiers": None,
        "transform_quantity": None,
        "interval": interval,
        "interval_count": count,
        "usage_type": "licensed",
        **extra,
    }


def _truth(
    subs: list[list[dict[str, Any]]],
    prices: dict[str, Any],
    coupons: dict[str, Any] | None = None,
    days: int = 3,
    currency: str = "usd",
) -> dict[str, Any]:
    return {
        "start": T0,
        "end": T0 + days * DAY,
        "accounts": [
            {
                "id": "acct_1",
                "currency": currency,
                "prices": prices,
                "coupons": coupons or {},
                "customers": [
                    {
                        "id": "cus_1",
                        "subscriptions": [
                            {"id": f"sub_{n}", "currency": currency, "timeline": timeline}
                            for n, timeline in enumerate(subs)
                        ],
                    }
                ],
            }
        ],
    }


def _entry(at: int, price: str, quantity: int = 1, status: str = "active", **extra: Any) -> Any:
    return {
        "at": at,
        "status": status,
        "items": [{"price": price, "quantity": quantity}],
        "discounts": extra.get("discounts", []),
    }


def _series(truth: dict[str, Any]) -> list[int]:
    return list(customer_mrr(truth)["cus_1"].values())


def test_intervals_normalise_to_a_month() -> None:
    prices = {
        "m": _price(10_000),
        "y": _price(120_000, "year"),
        "q": _price(30_000, "month", 3),
        "w": _price(700, "week"),
        "d": _price(100, "day"),
    }
    for price, expected in (("m", 10_000), ("y", 10_000), ("q", 10_000), ("w", 3033), ("d", 3042)):
        assert _series(_truth([[_entry(T0, price)]], prices)) == [expected] * 3


def test_published_examples() -> None:
    # metrics.md §6 #1: 100 x $100/month + 50 x $600/year = $12,500.
    prices = {"m": _price(10_000), "y": _price(60_000, "year")}
    subs = [[_entry(T0, "m")] for _ in range(100)] + [[_entry(T0, "y")] for _ in range(50)]
    assert _series(_truth(subs, prices))[0] == 1_250_000
    # #7: 4 seats x $500/year is $166.67 a month.
    assert _series(_truth([[_entry(T0, "s", 4)]], {"s": _price(50_000, "year")}))[0] == 16_667


def test_discount_durations() -> None:
    prices = {"m": _price(10_000)}
    coupons = {
        "half_forever": {"duration": "forever", "percent_off": 50, "currency": None},
        "half_once": {"duration": "once", "percent_off": 50, "currency": None},
        "off_repeating": {
            "duration": "repeating",
            "duration_in_months": 1,
            "percent_off": None,
            "amount_off": 2500,
            "currency": "usd",
        },
    }

    def with_coupon(coupon: str, end: int | None = None) -> list[int]:
        discount = {"coupon": coupon, "start": T0, "end": end}
        return _series(_truth([[_entry(T0, "m", discounts=[discount])]], prices, coupons))

    assert with_coupon("half_forever") == [5000, 5000, 5000]
    assert with_coupon("half_once") == [10_000, 10_000, 10_000]
    # Ends at the start of day 2: days 0 and 1 end before it.
    assert with_coupon("off_repeating", T0 + 2 * DAY) == [7500, 7500, 10_000]


def test_amount_off_never_goes_below_zero_and_needs_the_currency() -> None:
    prices = {"m": _price(1000)}
    coupons = {
        "big": {"duration": "forever", "amount_off": 5000, "currency": "usd"},
        "euro": {"duration": "forever", "amount_off": 500, "currency": "eur"},
    }
    for coupon, expected in (("big", 0), ("euro", 1000)):
        discount = {"coupon": coupon, "start": T0, "end": None}
        truth = _truth([[_entry(T0, "m", discounts=[discount])]], prices, coupons)
        assert _series(truth)[0] == expected


def test_statuses_and_end_of_day_state() -> None:
    prices = {"m": _price(3000)}
    timeline = [
        _entry(T0, "m", status="trialing"),
        _entry(T0 + DAY + 3600, "m", status="active"),
        _entry(T0 + 2 * DAY + 7200, "m", status="past_due"),
        _entry(T0 + 3 * DAY, "m", status="unpaid"),
        _entry(T0 + 4 * DAY - 1, "m", status="canceled"),
    ]
    assert _series(_truth([timeline], prices, days=5)) == [0, 3000, 3000, 0, 0]


def test_changes_within_a_day_net_out_and_subscriptions_add_up() -> None:
    prices = {"a": _price(1000), "b": _price(2500)}
    first = [_entry(T0 + 10, "a"), _entry(T0 + 20, "b", 2)]
    second = [_entry(T0 + DAY, "a"), _entry(T0 + DAY + 5, "a", status="canceled")]
    assert _series(_truth([first, second], prices)) == [5000, 5000, 5000]


def test_tiers_metered_and_zero_decimal() -> None:
    volume = _price(
        None,
        billing_scheme="tiered",
        tiers_mode="volume",
        tiers=[
            {"up_to": 10, "unit_amount_decimal": "1000", "flat_amount_decimal": None},
            {"up_to": None, "unit_amount_decimal": "800", "flat_amount_decimal": "100"},
        ],
    )
    graduated = {**volume, "tiers_mode": "graduated"}
    assert period_amount(volume, 10) == 10_000
    assert period_amount(volume, 11) == 11 * 800 + 100
    assert period_amount(graduated, 12) == 10 * 1000 + 2 * 800 + 100
    metered = _price(10, usage_type="metered")
    assert period_amount(metered, 50) == 0
    yen = _price(2900, currency="jpy")
    truth = _truth([[_entry(T0, "y")]], {"y": yen}, currency="jpy")
    assert _series(truth)[0] == 2900


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Fraction(5, 2), 3), (Fraction(-5, 2), -3), (Fraction(7, 3), 2), (Fraction(1, 2), 1)],
)
def test_rounding_is_half_away_from_zero(value: Fraction, expected: int) -> None:
    assert round_half_away(value) == expected
