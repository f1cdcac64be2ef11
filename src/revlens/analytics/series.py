"""Series over (start, end] by day, week or month: levels at the end of each row's last day, flows
summed over the row's period, rates over the period (or the preset's window)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction

from revlens.analytics import rates
from revlens.analytics.cash import CashByDay, CashIndex, CashTotals
from revlens.analytics.days import (
    Day,
    SeriesInterval,
    add_months_to_day,
    date_of,
    day_from_date,
    period_ends,
)
from revlens.analytics.ledger import Ledger
from revlens.analytics.money import round_minor
from revlens.analytics.presets import ChurnRateMethod
from revlens.analytics.windows import Window, churned_counts, retention_corrections

Rate = Fraction | None
WINDOW_DAYS = 30
_NO_CASH = CashTotals()


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """One period of a series; `date` is its last day, amounts are integer minor units."""

    date: date
    mrr: int
    arr: int
    paying_customers: int
    new: int
    expansion: int
    contraction: int
    churn: int
    reactivation: int
    fx_impact: int
    customer_churn_rate: Rate
    gross_mrr_churn_rate: Rate
    net_mrr_churn_rate: Rate
    nrr: Rate
    grr: Rate
    arpa: int | None
    ltv: int | None
    quick_ratio: Rate
    trial_conversion: Rate
    mrr_growth_rate: Rate
    gross_volume: int
    refunds: int
    dispute_losses: int
    fees: int
    net_revenue: int
    failed_charges: int
    failed_amount: int
    application_fees: int


@dataclass(frozen=True, slots=True)
class Series:
    """A series for one currency, carrying the settings that produced it."""

    currency: str
    interval: SeriesInterval
    start: date
    end: date
    settings: dict[str, str | int | None]
    rows: tuple[SeriesRow, ...]


def _as_day(value: date | Day) -> Day:
    return value if isinstance(value, int) else day_from_date(value)


def _round(value: Rate) -> int | None:
    return None if value is None else round_minor(value)


def compute_series(
    ledger: Ledger,
    *,
    currency: str,
    start: date | Day,
    end: date | Day,
    interval: SeriesInterval | str = SeriesInterval.MONTH,
    cash: CashByDay | None = None,
) -> Series:
    """Return the series of one currency over (start, end], one row per period."""
    first, last = _as_day(start), _as_day(end)
    ends = period_ends(first, last, SeriesInterval(interval))
    windows = [(ends[i - 1] if i else first, ends[i]) for i in range(len(ends))]
    rows = compute_rows(ledger, currency=currency, windows=windows, cash=cash)
    return Series(
        currency=currency,
        interval=SeriesInterval(interval),
        start=date_of(first),
        end=date_of(last),
        settings=ledger.settings.describe(),
        rows=tuple(rows),
    )


def compute_period(
    ledger: Ledger,
    *,
    currency: str,
    start: date | Day,
    end: date | Day,
    cash: CashByDay | None = None,
) -> SeriesRow:
    """Return every metric for one period (start, end] of any length."""
    window = (_as_day(start), _as_day(end))
    return compute_rows(ledger, currency=currency, windows=[window], cash=cash)[0]


def compute_rows(
    ledger: Ledger,
    *,
    currency: str,
    windows: Sequence[Window],
    cash: CashByDay | None = None,
) -> list[SeriesRow]:
    """Return one row per contiguous window (start, end], in order."""
    if not windows:
        return []
    cash_index = CashIndex(cash or {}, currency)
    if _one_day_rows(ledger, windows):
        # A one-day row depends on its day alone: kept per ledger state, shared by every window.
        known: dict[Day, SeriesRow] = ledger.derived(("day_rows", currency), dict)
        missing = [window for window in windows if window[1] not in known]
        for (_, end), row in zip(missing, _rows(ledger, currency, missing), strict=True):
            known[end] = row
        # With their cash too, while it is the same: cash is read anew for every request.
        priced: dict[Day, tuple[CashTotals, SeriesRow]] = ledger.derived(
            ("day_rows_with_cash", currency), dict
        )
        rows: list[SeriesRow] = []
        for start, end in windows:
            money = cash_index.between(start, end)
            seen = priced.get(end)
            if seen is None or seen[0] != money:
                seen = priced[end] = (money, _with_cash(known[end], money))
            rows.append(seen[1])
        return rows
    found = _rows(ledger, currency, windows)
    return [
        _with_cash(row, cash_index.between(start, end))
        for row, (start, end) in zip(found, windows, strict=True)
    ]


def _one_day_rows(ledger: Ledger, windows: Sequence[Window]) -> bool:
    """Return whether every row is one day long and no FX is involved."""
    return ledger.settings.fx is None and all(end - start == 1 for start, end in windows)


def _with_cash(row: SeriesRow, money: CashTotals) -> SeriesRow:
    """Return the row with the cash of its period."""
    if money == _NO_CASH:
        return row
    return replace(
        row,
        gross_volume=money.gross_volume,
        refunds=money.refunds,
        dispute_losses=money.dispute_losses,
        fees=money.fees,
        net_revenue=money.net_revenue,
        failed_charges=money.failed_charges,
        failed_amount=money.failed_amount,
        application_fees=money.application_fees,
    )


def _rows(ledger: Ledger, currency: str, windows: Sequence[Window]) -> list[SeriesRow]:
    """Return the rows of the windows without their cash (contiguous unless one day each)."""
    if not windows:
        return []
    settings = ledger.settings
    method = settings.churn_rate_method
    mrr, paying = ledger.full_dense(currency, "mrr"), ledger.full_dense(currency, "paying")
    flows = {
        name: ledger.full_dense(currency, name)
        for name in (
            "new",
            "expansion",
            "contraction",
            "churn",
            "reactivation",
            "fx_impact",
            "trials_ended",
            "trials_converted",
            "new_count",
            "reactivation_count",
            "churn_count",
        )
    }
    if _one_day_rows(ledger, windows):
        # One day per row: whoever paid at its start and moved that day has a movement, so the
        # per-customer counts are sums of the day's movements (exact while no FX is involved).
        period_churned = [flows["churn_count"].between(start, end) for start, end in windows]
        nrr_fix = [
            sum(flows[k].between(start, end) for k in ("expansion", "contraction", "churn"))
            for start, end in windows
        ]
        grr_fix = [
            flows["contraction"].between(start, end) + flows["churn"].between(start, end)
            for start, end in windows
        ]
    else:
        contributions = list(ledger.contributions())
        customer_episodes = [c.episodes.get(currency, ()) for c in contributions]
        period_churned = churned_counts(customer_episodes, windows)
        nrr_fix, grr_fix = retention_corrections(
            (c.daily[currency] for c in contributions if currency in c.daily), windows
        )
    # The churn rate LTV needs is monthly: a month back from each row's last day (or the preset's).
    month_churned_on = _month_churned(ledger, currency)
    if method is ChurnRateMethod.CALENDAR_MONTH:
        month_starts = [date_of(end).replace(day=1).toordinal() - 1 for _, end in windows]
    else:
        month_starts = [add_months_to_day(end, -1) for _, end in windows]
    month_churned = [month_churned_on(end) for _, end in windows]

    rows: list[SeriesRow] = []
    for index, (start, end) in enumerate(windows):
        flow = {name: dense_field.between(start, end) for name, dense_field in flows.items()}
        mrr_start, mrr_end = mrr.level(start), mrr.level(end)
        paying_start, paying_end = paying.level(start), paying.level(end)
        if method in (ChurnRateMethod.STRIPE_30_DAYS, ChurnRateMethod.BAREMETRICS_30_DAYS):
            window_start = end - WINDOW_DAYS
            churned = flows["churn_count"].between(window_start, end)
            active = paying.level(window_start)
            if method is ChurnRateMethod.STRIPE_30_DAYS:
                joined = flows["new_count"].between(window_start, end) + flows[
                    "reactivation_count"
                ].between(window_start, end)
                churn_rate = rates.stripe_customer_churn_rate(
                    churned_in_window=churned, active_at_start=active, new=joined
                )
            else:
                churn_rate = rates.baremetrics_customer_churn_rate(
                    cancelled_in_window=churned, active_at_start=active
                )
            monthly_churn = churn_rate
        else:
            month_start = month_starts[index]
            monthly_churn = rates.customer_churn_rate(
                paying_at_start=paying.level(month_start), churned=month_churned[index]
            )
            churn_rate = (
                monthly_churn
                if method is ChurnRateMethod.CALENDAR_MONTH
                else rates.customer_churn_rate(
                    paying_at_start=paying_start, churned=period_churned[index]
                )
            )
        arpa = rates.arpa(mrr=mrr_end, paying_customers=paying_end)
        money = _NO_CASH
        rows.append(
            SeriesRow(
                date=date_of(end),
                mrr=mrr_end,
                arr=12 * mrr_end,
                paying_customers=paying_end,
                new=flow["new"],
                expansion=flow["expansion"],
                contraction=flow["contraction"],
                churn=flow["churn"],
                reactivation=flow["reactivation"],
                fx_impact=flow["fx_impact"],
                customer_churn_rate=churn_rate,
                gross_mrr_churn_rate=rates.gross_mrr_churn_rate(
                    mrr_at_start=mrr_start, churn=flow["churn"], contraction=flow["contraction"]
                ),
                net_mrr_churn_rate=rates.net_mrr_churn_rate(
                    mrr_at_start=mrr_start,
                    churn=flow["churn"],
                    contraction=flow["contraction"],
                    expansion=flow["expansion"],
                    reactivation=flow["reactivation"],
                ),
                nrr=rates.net_revenue_retention(
                    mrr_at_start=mrr_start, retained_mrr_at_end=mrr_start + nrr_fix[index]
                ),
                grr=rates.gross_revenue_retention(
                    mrr_at_start=mrr_start, capped_mrr_at_end=mrr_start + grr_fix[index]
                ),
                arpa=_round(arpa),
                ltv=_round(
                    rates.ltv(arpa=arpa, monthly_churn_rate=monthly_churn, settings=settings)
                ),
                quick_ratio=rates.quick_ratio(
                    new=flow["new"],
                    expansion=flow["expansion"],
                    reactivation=flow["reactivation"],
                    churn=flow["churn"],
                    contraction=flow["contraction"],
                ),
                trial_conversion=rates.trial_conversion(
                    trials_ended=flow["trials_ended"], converted=flow["trials_converted"]
                ),
                mrr_growth_rate=rates.mrr_growth_rate(mrr_at_start=mrr_start, mrr_at_end=mrr_end),
                gross_volume=money.gross_volume,
                refunds=money.refunds,
                dispute_losses=money.dispute_losses,
                fees=money.fees,
                net_revenue=money.net_revenue,
                failed_charges=money.failed_charges,
                failed_amount=money.failed_amount,
                application_fees=money.application_fees,
            )
        )
    return rows


def _month_start(day: Day, method: ChurnRateMethod) -> Day:
    """Return the start of the month window (start, day] of the monthly churn rate."""
    if method is ChurnRateMethod.CALENDAR_MONTH:
        return date_of(day).replace(day=1).toordinal() - 1
    return add_months_to_day(day, -1)


def _month_churned(ledger: Ledger, currency: str) -> Callable[[Day], int]:
    """Return, for any day, the customers paying at its month window's start and not at its end.

    Computed once per state of the ledger for every day on which the answer can be non-zero:
    before the first change nobody paid, and a month after the last one nothing moves.
    """
    method = ledger.settings.churn_rate_method

    def compute() -> tuple[Day, list[int]]:
        span = ledger.span(currency)
        if span is None:
            return 0, []
        first, last = span[0], span[1] + 32
        windows = [(_month_start(day, method), day) for day in range(first, last + 1)]
        episodes = (c.episodes.get(currency, ()) for c in ledger.contributions())
        return first, churned_counts(episodes, windows)

    first, counts = ledger.derived(("month_churned", currency, method.value), compute)

    def on(day: Day) -> int:
        index = day - first
        return counts[index] if 0 <= index < len(counts) else 0

    return on
