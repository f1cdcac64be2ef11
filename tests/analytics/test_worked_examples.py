"""The twelve published worked examples of metrics.md section 6, as exact pure-data tests."""

from __future__ import annotations

from fractions import Fraction

import pytest

from revlens.analytics import rates
from revlens.analytics.ledger import build_ledger
from revlens.analytics.model import Duration, Interval
from revlens.analytics.movements import MovementKind, customer_ledger
from revlens.analytics.mrr import customer_mrr
from revlens.analytics.presets import PRESETS
from revlens.analytics.series import compute_period

from .factories import T0, at, coupon_discount, customer, day, item, price, subscription

STANDARD = PRESETS["standard"]


def test_1_monthly_and_yearly_subscriptions_sum_to_12500() -> None:
    monthly = [subscription(f"m{n}", "c", [item(price(10_000))]) for n in range(100)]
    yearly = [subscription(f"y{n}", "c", [item(price(60_000, Interval.YEAR))]) for n in range(50)]
    assert customer_mrr(customer("c", *monthly, *yearly), T0, STANDARD) == {"usd": 1_250_000}


def test_2_a_1200_a_year_subscription_is_100_a_month() -> None:
    sub = subscription("s", "c", [item(price(120_000, Interval.YEAR))])
    assert customer_mrr(customer("c", sub), T0, STANDARD) == {"usd": 10_000}


@pytest.mark.parametrize("preset", ["standard", "stripe"])
def test_3_forever_coupon_halves_mrr_and_a_once_coupon_does_not(preset: str) -> None:
    forever = coupon_discount(percent=50, duration=Duration.FOREVER)
    once = coupon_discount(percent=50, duration=Duration.ONCE)
    with_forever = subscription("s", "c", [item(price(10_000))], discounts=(forever,))
    with_once = subscription("s", "c", [item(price(10_000))], discounts=(once,))
    assert customer_mrr(customer("c", with_forever), T0, PRESETS[preset]) == {"usd": 5_000}
    assert customer_mrr(customer("c", with_once), T0, PRESETS[preset]) == {"usd": 10_000}


def test_4_ten_customers_at_10_a_month_make_100() -> None:
    customers = [
        customer(f"c{n}", subscription(f"s{n}", f"c{n}", [item(price(1_000))])) for n in range(10)
    ]
    ledger = build_ledger(customers, STANDARD)
    row = compute_period(ledger, currency="usd", start=day(2023, 12, 31), end=day(2024, 1, 31))
    assert row.mrr == 10_000
    assert row.paying_customers == 10


def test_5_lifetime_coupon_of_50_percent_on_10_a_month_is_5() -> None:
    lifetime = coupon_discount(percent=50, duration=Duration.FOREVER)
    sub = subscription("s", "c", [item(price(1_000))], discounts=(lifetime,))
    assert customer_mrr(customer("c", sub), T0, PRESETS["baremetrics"]) == {"usd": 500}


@pytest.mark.parametrize("duration", [Duration.FOREVER, Duration.REPEATING, Duration.ONCE])
def test_6_a_120_yearly_plan_with_10_percent_off_is_9_for_profitwell(duration: Duration) -> None:
    end = at(2025, 1, 1) if duration is Duration.REPEATING else None
    discount = coupon_discount(percent=10, duration=duration, end=end)
    sub = subscription("s", "c", [item(price(12_000, Interval.YEAR))], discounts=(discount,))
    assert customer_mrr(customer("c", sub), T0 + 86_400, PRESETS["profitwell"]) == {"usd": 900}


def test_7_and_8_seats_bought_then_expanded() -> None:
    seats = item(price(50_000, Interval.YEAR, id="price_seat"), 4, id="si_seat")
    extra = item(price(3_000, id="price_extra"), 2, id="si_extra")
    first = subscription("s1", "c", [seats])
    second = subscription("s2", "c", [extra], start=at(2024, 2, 10))
    ledger = customer_ledger(customer("c", first, second), PRESETS["chartmogul"])
    new, expansion = ledger.movements
    assert (new.kind, new.amount) == (MovementKind.NEW, 16_667)
    assert (expansion.kind, expansion.amount) == (MovementKind.EXPANSION, 6_000)
    assert expansion.changes[0].subscription == "s2"


def test_9_gross_and_net_mrr_churn_from_movements() -> None:
    assert rates.gross_mrr_churn_rate(
        mrr_at_start=10_000, churn=-1_000, contraction=-1_000
    ) == Fraction(1, 5)
    assert rates.net_mrr_churn_rate(
        mrr_at_start=10_000, churn=-1_000, contraction=-1_000, expansion=1_000, reactivation=0
    ) == Fraction(1, 10)
    # The same through data: $50 churns, $30 contracts to $20, $20 expands to $30.
    change = at(2024, 2, 15)
    customers = [
        customer("a", subscription("a", "a", [item(price(5_000))], ended_at=change)),
        customer(
            "b",
            subscription("b1", "b", [item(price(3_000))], ended_at=change),
            subscription("b2", "b", [item(price(2_000))], start=change),
        ),
        customer(
            "c",
            subscription("c1", "c", [item(price(2_000))]),
            subscription("c2", "c", [item(price(1_000))], start=change),
        ),
    ]
    row = compute_period(
        build_ledger(customers, STANDARD),
        currency="usd",
        start=day(2024, 1, 31),
        end=day(2024, 2, 29),
    )
    assert (row.churn, row.contraction, row.expansion) == (-5_000, -1_000, 1_000)
    assert row.gross_mrr_churn_rate == Fraction(6_000, 10_000)
    assert row.net_mrr_churn_rate == Fraction(5_000, 10_000)


def test_10_ltv_is_arpa_over_churn() -> None:
    assert (
        rates.ltv(arpa=Fraction(10_000), monthly_churn_rate=Fraction(5, 100), settings=STANDARD)
        == 200_000
    )


def test_11_cancelling_one_of_two_subscriptions_contracts_then_churns() -> None:
    first = subscription("s1", "c", [item(price(1_000))], ended_at=at(2024, 3, 1))
    second = subscription("s2", "c", [item(price(2_000))], ended_at=at(2024, 5, 1))
    ledger = customer_ledger(customer("c", first, second), STANDARD)
    kinds = [(m.kind, m.amount) for m in ledger.movements]
    assert kinds == [
        (MovementKind.NEW, 3_000),
        (MovementKind.CONTRACTION, -1_000),
        (MovementKind.CHURN, -2_000),
    ]
    assert ledger.movements[1].changes[0].subscription == "s1"


def test_12_ltv_at_zero_churn_depends_on_the_preset() -> None:
    arpa = Fraction(10_000)
    assert rates.ltv(arpa=arpa, monthly_churn_rate=Fraction(0), settings=STANDARD) is None
    assert rates.ltv(
        arpa=arpa, monthly_churn_rate=Fraction(0), settings=PRESETS["stripe"]
    ) == arpa / Fraction(167, 10_000)
    assert rates.ltv(arpa=arpa, monthly_churn_rate=Fraction(0), settings=PRESETS["chartmogul"]) == 0
    customers = [
        customer(f"c{n}", subscription(f"s{n}", f"c{n}", [item(price(10_000))])) for n in range(3)
    ]
    for preset, expected in (("standard", None), ("stripe", 598_802)):
        ledger = build_ledger(customers, PRESETS[preset])
        row = compute_period(ledger, currency="usd", start=day(2024, 2, 29), end=day(2024, 3, 31))
        assert row.customer_churn_rate == 0
        assert row.ltv == expected
