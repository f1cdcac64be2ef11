"""MRR of a subscription and a customer: status rule, intervals, tiers, discounts, rounding."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revlens.analytics.days import LocalDays
from revlens.analytics.discounts import apply
from revlens.analytics.model import (
    BillingScheme,
    Duration,
    Interval,
    Price,
    Status,
    Tier,
    TiersMode,
    UsageType,
)
from revlens.analytics.money import monthly_factor, round_minor, to_major
from revlens.analytics.mrr import customer_mrr, customer_steps, daily_steps, subscription_mrr
from revlens.analytics.presets import PRESETS, DiscountRule, metric_settings
from revlens.analytics.pricing import monthly_amount, period_amount

from .factories import T0, at, coupon_discount, customer, item, price, subscription

STANDARD = PRESETS["standard"]
amounts = st.integers(min_value=0, max_value=10**7)
quantities = st.integers(min_value=0, max_value=10_000)


@pytest.mark.parametrize(
    ("status", "counted"),
    [(s, s in (Status.ACTIVE, Status.PAST_DUE)) for s in Status],
)
def test_only_active_and_past_due_count(status: Status, counted: bool) -> None:
    sub = subscription("s", "c", [item(price(1_000))], status=status)
    assert subscription_mrr(sub, T0, STANDARD) == (1_000 if counted else 0)


@pytest.mark.parametrize(
    ("interval", "count", "amount", "expected"),
    [
        (Interval.DAY, 1, 100, Fraction(36_500, 12)),
        (Interval.WEEK, 2, 1_200, Fraction(1_200 * 52, 12 * 2)),
        (Interval.MONTH, 3, 30_000, 10_000),  # quarterly
        (Interval.YEAR, 1, 120_000, 10_000),
    ],
)
def test_normalisation_uses_interval_and_count(
    interval: Interval, count: int, amount: int, expected: Fraction
) -> None:
    assert monthly_amount(price(amount, interval, count), 1) == expected


@given(amounts, st.integers(min_value=1, max_value=36))
def test_n_months_billed_every_n_months_is_the_monthly_price(amount: int, n: int) -> None:
    assert monthly_amount(price(amount * n, Interval.MONTH, n), 1) == amount


@given(amounts, quantities)
def test_twelve_months_of_a_yearly_price_is_the_yearly_amount(amount: int, quantity: int) -> None:
    assert monthly_amount(price(amount, Interval.YEAR), quantity) * 12 == amount * quantity


def test_metered_and_one_time_prices_are_never_mrr() -> None:
    metered = Price("price_m", "usd", Fraction(5), usage_type=UsageType.METERED)
    assert monthly_amount(metered, 1_000) == 0
    assert monthly_amount(price(5_000, None), 1) == 0


def test_unit_amount_decimal_and_transform_quantity() -> None:
    per_pack = Price("price_p", "usd", Fraction("12.5"), transform_divide_by=10)
    assert period_amount(per_pack, 25) == Fraction("37.5")  # 3 packs, rounded up
    down = Price("price_d", "usd", Fraction(100), transform_divide_by=10, transform_round_up=False)
    assert period_amount(down, 25) == 200


TIERS = (
    Tier(5, Fraction(1_000)),
    Tier(10, Fraction(800), Fraction(500)),
    Tier(None, Fraction(500)),
)


def _tiered(mode: TiersMode) -> Price:
    return Price(
        "price_t", "usd", billing_scheme=BillingScheme.TIERED, tiers_mode=mode, tiers=TIERS
    )


def test_volume_tiers_price_every_unit_at_the_reached_tier() -> None:
    assert period_amount(_tiered(TiersMode.VOLUME), 7) == 7 * 800 + 500
    assert period_amount(_tiered(TiersMode.VOLUME), 12) == 12 * 500


def test_graduated_tiers_price_each_unit_in_its_own_tier() -> None:
    assert period_amount(_tiered(TiersMode.GRADUATED), 7) == 5 * 1_000 + 2 * 800 + 500
    assert period_amount(_tiered(TiersMode.GRADUATED), 12) == 5_000 + 4_000 + 500 + 2 * 500


def test_graduated_flat_fee_tier_bills_at_zero_quantity() -> None:
    flat = Price(
        "price_f",
        "usd",
        billing_scheme=BillingScheme.TIERED,
        tiers_mode=TiersMode.GRADUATED,
        tiers=(Tier(0, Fraction(0), Fraction(2_000)), Tier(None, Fraction(300))),
    )
    assert period_amount(flat, 0) == 2_000
    assert period_amount(flat, 4) == 3_200


@given(quantities, quantities)
def test_graduated_tiers_are_monotone_in_quantity(a: int, b: int) -> None:
    low, high = sorted((a, b))
    graduated = _tiered(TiersMode.GRADUATED)
    assert period_amount(graduated, low) <= period_amount(graduated, high)


@given(
    amounts,
    st.lists(
        st.one_of(
            st.integers(min_value=0, max_value=100).map(lambda p: coupon_discount(percent=p)),
            amounts.map(lambda a: coupon_discount(amount=a)),
        ),
        max_size=4,
    ),
    st.sampled_from(list(Interval)),
)
def test_discounts_never_drive_below_zero(amount: int, discounts: list, interval: Interval) -> None:  # type: ignore[type-arg]
    result = apply(
        Fraction(amount),
        discounts,
        rule=DiscountRule.ALL,
        at=T0,
        currency="usd",
        cadence=(interval, 1),
    )
    assert 0 <= result <= amount


def test_amount_off_is_normalised_like_the_price() -> None:
    off = coupon_discount(amount=1_200)  # $12 off each yearly invoice = $1 a month
    sub = subscription("s", "c", [item(price(12_000, Interval.YEAR))], discounts=(off,))
    assert subscription_mrr(sub, T0, STANDARD) == 900


def test_item_discounts_apply_before_subscription_discounts() -> None:
    item_off = coupon_discount(amount=1_000, id="di_item")
    sub_half = coupon_discount(percent=50, id="di_sub")
    sub = subscription("s", "c", [item(price(5_000), discounts=(item_off,))], discounts=(sub_half,))
    assert subscription_mrr(sub, T0, STANDARD) == 2_000  # (5000 - 1000) x 50 %


@pytest.mark.parametrize(
    ("preset", "during", "after"),
    [("standard", 5_000, 10_000), ("stripe", 10_000, 10_000), ("profitwell", 5_000, 10_000)],
)
def test_repeating_discount_counts_until_its_end_by_preset(
    preset: str, during: int, after: int
) -> None:
    end = at(2024, 4, 1)
    repeating = coupon_discount(percent=50, duration=Duration.REPEATING, end=end)
    sub = subscription("s", "c", [item(price(10_000))], discounts=(repeating,))
    assert subscription_mrr(sub, end - 1, PRESETS[preset]) == during
    assert subscription_mrr(sub, end, PRESETS[preset]) == after


def test_once_discount_counts_for_one_billing_period_when_all_discounts_count() -> None:
    once = coupon_discount(percent=50, duration=Duration.ONCE)
    sub = subscription("s", "c", [item(price(10_000))], discounts=(once,))
    profitwell = PRESETS["profitwell"]
    assert subscription_mrr(sub, at(2024, 1, 20), profitwell) == 5_000
    assert subscription_mrr(sub, at(2024, 2, 1, 13), profitwell) == 10_000
    assert [v for _, v in customer_steps(customer("c", sub), profitwell)["usd"]] == [5_000, 10_000]


def test_no_discounts_rule_override() -> None:
    forever = coupon_discount(percent=50)
    sub = subscription("s", "c", [item(price(10_000))], discounts=(forever,))
    assert (
        subscription_mrr(sub, T0, metric_settings("standard", discount_rule=DiscountRule.NONE))
        == 10_000
    )


def test_round_half_away_from_zero() -> None:
    assert [round_minor(Fraction(n, 2)) for n in (1, 3, -1, -3)] == [1, 2, -1, -2]
    assert round_minor(Fraction(16_666_667, 1_000)) == 16_667


def test_customer_mrr_rounds_once_per_customer() -> None:
    thirds = [subscription(f"s{n}", "c", [item(price(1, Interval.MONTH, 3))]) for n in range(3)]
    # Each subscription is 1/3 of a cent: rounded per subscription the total would be 0.
    assert customer_mrr(customer("c", *thirds), T0, STANDARD) == {"usd": 1}


def test_zero_decimal_currencies_are_never_divided_by_100() -> None:
    yen = subscription("s", "c", [item(price(500, currency="jpy"))], currency="jpy")
    assert customer_mrr(customer("c", yen), T0, STANDARD) == {"jpy": 500}
    assert to_major(500, "jpy") == 500
    assert to_major(1_999, "usd") == Fraction(1_999, 100)


def test_currencies_are_kept_apart_without_rates() -> None:
    usd = subscription("s1", "c", [item(price(1_000))])
    eur = subscription("s2", "c", [item(price(2_000, currency="eur"))], currency="eur")
    assert customer_mrr(customer("c", usd, eur), T0, STANDARD) == {"usd": 1_000, "eur": 2_000}


def test_daily_steps_net_out_changes_inside_a_day() -> None:
    brief = subscription(
        "s1", "c", [item(price(1_000))], start=at(2024, 1, 5, 9), ended_at=at(2024, 1, 5, 17)
    )
    lasting = subscription("s2", "c", [item(price(2_000))], start=at(2024, 1, 5, 10))
    steps = customer_steps(customer("c", brief, lasting), STANDARD)["usd"]
    assert len(steps) == 3
    assert daily_steps(steps, LocalDays()) == [(at(2024, 1, 5) // 86_400 + 719_163, 2_000)]


def test_end_of_day_follows_the_timezone() -> None:
    late = subscription("s", "c", [item(price(1_000))], start=at(2024, 1, 5, 23))
    steps = customer_steps(customer("c", late), STANDARD)["usd"]
    utc_day = daily_steps(steps, LocalDays("UTC"))[0][0]
    tokyo_day = daily_steps(steps, LocalDays("Asia/Tokyo"))[0][0]
    assert tokyo_day == utc_day + 1


@given(
    st.lists(st.tuples(amounts, st.sampled_from(list(Interval)), st.integers(1, 12)), max_size=6)
)
def test_customer_total_is_the_rounded_exact_sum(prices: list[tuple[int, Interval, int]]) -> None:
    subs = [
        subscription(f"s{n}", "c", [item(price(a, i, k))]) for n, (a, i, k) in enumerate(prices)
    ]
    exact = sum((a * monthly_factor(i, k) for a, i, k in prices), Fraction(0))
    assert customer_mrr(customer("c", *subs), T0, STANDARD).get("usd", 0) == round_minor(exact)
