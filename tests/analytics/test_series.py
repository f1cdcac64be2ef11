"""Series rows, the ledger's incremental recompute, preset churn methods, cohorts and FX."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from revlens.analytics.cash import cash_by_day
from revlens.analytics.cohorts import cohorts
from revlens.analytics.days import SeriesInterval, period_ends
from revlens.analytics.fx import FxTable
from revlens.analytics.ledger import build_ledger, contribution
from revlens.analytics.model import Interval, Status
from revlens.analytics.mrr import customer_mrr
from revlens.analytics.presets import PRESETS, metric_settings
from revlens.analytics.series import compute_period, compute_series
from revlens.analytics.windows import churned_counts, retention_corrections

from .factories import at, changing, customer, day, item, price, subscription

STANDARD = PRESETS["standard"]


def _book() -> list:  # type: ignore[type-arg]
    return [
        customer(
            "a",
            subscription(
                "a", "a", [item(price(5_000))], start=at(2024, 1, 10), ended_at=at(2024, 3, 5)
            ),
        ),
        customer("b", subscription("b", "b", [item(price(3_000))], start=at(2024, 1, 20))),
        customer(
            "c",
            changing(
                "c",
                "c",
                [
                    (at(2024, 2, 2), Status.ACTIVE, (item(price(1_000, id="p1")),)),
                    (at(2024, 3, 20), Status.ACTIVE, (item(price(4_000, id="p4")),)),
                ],
            ),
        ),
        customer(
            "d", subscription("d", "d", [item(price(24_000, Interval.YEAR))], start=at(2024, 2, 28))
        ),
    ]


def test_period_ends_are_the_last_day_of_each_period() -> None:
    assert period_ends(day(2024, 1, 31), day(2024, 4, 15), SeriesInterval.MONTH) == [
        day(2024, 2, 29),
        day(2024, 3, 31),
        day(2024, 4, 15),
    ]
    weekly = period_ends(day(2024, 1, 1), day(2024, 1, 20), SeriesInterval.WEEK)
    assert weekly == [day(2024, 1, 7), day(2024, 1, 14), day(2024, 1, 20)]
    assert len(period_ends(day(2024, 1, 1), day(2024, 1, 31), SeriesInterval.DAY)) == 30


def test_monthly_series_levels_flows_and_rates() -> None:
    ledger = build_ledger(_book(), STANDARD)
    series = compute_series(
        ledger, currency="usd", start=day(2023, 12, 31), end=day(2024, 3, 31), interval="month"
    )
    jan, feb, mar = series.rows
    assert (jan.mrr, jan.new, jan.paying_customers, jan.arr) == (8_000, 8_000, 2, 96_000)
    assert (feb.mrr, feb.new) == (11_000, 3_000)
    assert (mar.mrr, mar.churn, mar.expansion) == (9_000, -5_000, 3_000)
    assert mar.customer_churn_rate == Fraction(1, 4)
    assert mar.gross_mrr_churn_rate == Fraction(5_000, 11_000)
    assert mar.nrr == Fraction(9_000, 11_000)
    assert mar.grr == Fraction(6_000, 11_000)
    assert mar.quick_ratio == Fraction(3_000, 5_000)
    assert mar.arpa == 3_000
    assert mar.ltv == 12_000  # ARPA $30 / 25 % monthly churn
    assert series.settings["preset"] == "standard"
    for previous, row in zip((None, jan, feb), (jan, feb, mar), strict=True):
        moved = row.new + row.expansion + row.contraction + row.churn + row.reactivation
        assert row.mrr - (previous.mrr if previous else 0) == moved


def test_series_total_is_the_sum_of_customer_rows() -> None:
    book = _book()
    ledger = build_ledger(book, STANDARD)
    rows = compute_series(
        ledger, currency="usd", start=day(2024, 1, 1), end=day(2024, 4, 30), interval="day"
    ).rows
    for row in rows[::7]:
        end = at(row.date.year, row.date.month, row.date.day, 23) + 3_599
        assert row.mrr == sum(customer_mrr(c, end, STANDARD).get("usd", 0) for c in book)


def test_recomputing_one_customer_replaces_only_its_rows() -> None:
    book = _book()
    ledger = build_ledger(book, STANDARD)
    upgraded = customer("b", subscription("b", "b", [item(price(3_000), 3)], start=at(2024, 1, 20)))
    ledger.put(contribution(upgraded, STANDARD))
    fresh = build_ledger([*book[:1], upgraded, *book[2:]], STANDARD)
    window = {
        "currency": "usd",
        "start": day(2023, 12, 31),
        "end": day(2024, 3, 31),
        "interval": "month",
    }
    assert compute_series(ledger, **window) == compute_series(fresh, **window)  # type: ignore[arg-type]
    ledger.remove("b")
    assert compute_series(ledger, **window).rows[-1].mrr == 9_000 - 3_000  # type: ignore[arg-type]


def test_stripe_churn_counts_signups_in_the_window_on_both_sides() -> None:
    book = [
        customer("old", subscription("old", "old", [item(price(1_000))], start=at(2024, 1, 1))),
        customer(
            "quick",
            subscription(
                "q", "quick", [item(price(1_000))], start=at(2024, 3, 10), ended_at=at(2024, 3, 20)
            ),
        ),
    ]
    stripe = compute_period(
        build_ledger(book, PRESETS["stripe"]),
        currency="usd",
        start=day(2024, 3, 1),
        end=day(2024, 3, 31),
    )
    assert stripe.customer_churn_rate == Fraction(1, 2)  # 1 churned / (1 active + 1 new)
    baremetrics = compute_period(
        build_ledger(book, PRESETS["baremetrics"]),
        currency="usd",
        start=day(2024, 3, 1),
        end=day(2024, 3, 31),
    )
    assert baremetrics.customer_churn_rate == Fraction(1, 1)
    standard = compute_period(
        build_ledger(book, STANDARD), currency="usd", start=day(2024, 3, 1), end=day(2024, 3, 31)
    )
    profitwell = compute_period(
        build_ledger(book, PRESETS["profitwell"]),
        currency="usd",
        start=day(2024, 3, 1),
        end=day(2024, 3, 31),
    )
    assert (
        standard.customer_churn_rate == 0 == profitwell.customer_churn_rate
    )  # sign-up-and-churn ignored


def test_trial_conversion_and_cash_in_rows() -> None:
    from revlens.analytics.model import Trial

    converted = replace(
        subscription("t1", "t", [item(price(1_000))]), trial=Trial(at(2024, 2, 5), True)
    )
    lost = replace(
        subscription("t2", "u", [item(price(1_000))], status=Status.TRIALING),
        trial=Trial(at(2024, 2, 9), False),
    )
    ledger = build_ledger([customer("t", converted), customer("u", lost)], STANDARD)
    cash = cash_by_day(
        charges=[
            {
                "id": "ch_1",
                "created": at(2024, 2, 5),
                "currency": "usd",
                "amount": 1_000,
                "amount_captured": 1_000,
                "status": "succeeded",
                "captured": True,
                "application_fee_amount": 50,
            },
            {
                "id": "ch_2",
                "created": at(2024, 2, 9),
                "currency": "usd",
                "amount": 1_000,
                "status": "failed",
            },
        ],
        refunds=[
            {
                "id": "re_1",
                "created": at(2024, 2, 12),
                "amount": 400,
                "currency": "usd",
                "status": "succeeded",
            }
        ],
        disputes=[
            {
                "id": "dp_1",
                "created": at(2024, 2, 13),
                "amount": 100,
                "currency": "usd",
                "status": "lost",
            }
        ],
        balance_transactions=[
            {"id": "txn_1", "created": at(2024, 2, 5), "fee": 59, "currency": "usd"}
        ],
    )
    row = compute_period(
        ledger, currency="usd", start=day(2024, 1, 31), end=day(2024, 2, 29), cash=cash
    )
    assert row.trial_conversion == Fraction(1, 2)
    assert (row.gross_volume, row.refunds, row.dispute_losses, row.fees) == (1_000, 400, 100, 59)
    assert row.net_revenue == 441
    assert (row.failed_charges, row.failed_amount, row.application_fees) == (1, 1_000, 50)


def test_cohorts_follow_customers_from_their_first_new_month() -> None:
    ledger = build_ledger(_book(), STANDARD)
    january, february = cohorts(ledger, currency="usd", through=day(2024, 3, 31))
    assert (january.customers, january.paying, january.mrr) == (2, (2, 2, 1), (8_000, 8_000, 3_000))
    assert january.customer_retention == (1, 1, Fraction(1, 2))
    assert january.net_mrr_retention[2] == Fraction(3, 8)
    assert (february.customers, february.mrr) == (2, (3_000, 6_000))


def test_fx_converts_at_the_service_period_start_and_reports_fx_impact() -> None:
    fx = FxTable.from_rows(
        "usd", [("eur", at(2024, 1, 1, 0), "1.10"), ("eur", at(2024, 2, 10, 0), "1.20")]
    )
    settings = metric_settings("standard", fx=fx)
    eur = replace(
        subscription(
            "e", "e", [item(price(1_000, currency="eur"))], currency="eur", start=at(2024, 1, 5)
        ),
        billing_anchor=at(2024, 1, 5),
    )
    ledger = build_ledger([customer("e", eur)], settings)
    feb, mar = compute_series(
        ledger, currency="usd", start=day(2024, 1, 31), end=day(2024, 3, 31)
    ).rows
    assert feb.mrr == 1_100  # the Feb 5 period started before the Feb 10 rate change
    assert (mar.mrr, mar.fx_impact, mar.expansion) == (1_200, 100, 0)
    assert ledger.currencies() == ["usd"]


def test_without_a_rate_table_each_currency_is_its_own_series() -> None:
    eur = subscription("e", "e", [item(price(1_000, currency="eur"))], currency="eur")
    usd = subscription("u", "u", [item(price(2_000))])
    ledger = build_ledger([customer("e", eur), customer("u", usd)], STANDARD)
    assert ledger.currencies() == ["eur", "usd"]


def test_daily_rows_from_movements_equal_the_per_customer_counts() -> None:
    # One day per row takes the churned counts and retention from the day's movements; they
    # must equal the per-customer computation, reactivations and same-day churns included.
    book = [
        *_book(),
        customer(
            "e",
            subscription(
                "e1", "e", [item(price(2_000))], start=at(2024, 1, 5), ended_at=at(2024, 2, 9)
            ),
            subscription("e2", "e", [item(price(2_500))], start=at(2024, 3, 1)),
        ),
        customer(
            "f",
            subscription(
                "f", "f", [item(price(900))], start=at(2024, 2, 9, 1), ended_at=at(2024, 2, 9, 20)
            ),
        ),
    ]
    ledger = build_ledger(book, STANDARD)
    first, last = day(2024, 1, 1), day(2024, 4, 30)
    rows = compute_series(ledger, currency="usd", start=first, end=last, interval="day").rows
    windows = [(d - 1, d) for d in range(first + 1, last + 1)]
    contributions = list(ledger.contributions())
    churned = churned_counts([c.episodes.get("usd", ()) for c in contributions], windows)
    nrr, grr = retention_corrections((c.daily["usd"] for c in contributions), windows)
    for row, (start, _), lost, kept, capped in zip(rows, windows, churned, nrr, grr, strict=True):
        at_start = compute_period(ledger, currency="usd", start=start - 1, end=start)
        before, paying = at_start.mrr, at_start.paying_customers
        assert row.customer_churn_rate == (Fraction(lost, paying) if paying else None)
        assert row.nrr == (Fraction(before + kept, before) if before else None)
        assert row.grr == (Fraction(before + capped, before) if before else None)
    assert sum(churned) == 2  # a and e (who comes back); f never paid at the end of a day
