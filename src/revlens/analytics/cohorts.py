"""Cohorts: customers grouped by the month of their first `new` movement, then month by month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from revlens.analytics.days import Day, date_of, day_from_date, last_day_of_month, month_index
from revlens.analytics.ledger import Ledger
from revlens.analytics.movements import MovementKind
from revlens.analytics.mrr import value_at_day
from revlens.analytics.rates import ratio


@dataclass(frozen=True, slots=True)
class Cohort:
    """One cohort; index m of each tuple is m months after the cohort month (0 = that month).

    Values are taken at the end of each month (the last one clamped to `through`).
    """

    month: date
    customers: int
    paying: tuple[int, ...]
    mrr: tuple[int, ...]
    customer_retention: tuple[Fraction | None, ...]
    net_mrr_retention: tuple[Fraction | None, ...]


def _month_ends(first: Day, through: Day) -> list[Day]:
    ends: list[Day] = []
    day = first
    while day <= through:
        end = last_day_of_month(day)
        ends.append(min(end, through))
        day = end + 1
    return ends


def cohorts(ledger: Ledger, *, currency: str, through: date | Day) -> list[Cohort]:
    """Return the cohorts of one currency, oldest first, followed up to `through`."""
    last = through if isinstance(through, int) else day_from_date(through)
    members: dict[int, list[Day]] = {}
    dailies: dict[int, list[list[tuple[Day, int]]]] = {}
    for contribution in ledger.contributions():
        first_new = next(
            (
                movement.day
                for movement in contribution.movements
                if movement.currency == currency and movement.kind is MovementKind.NEW
            ),
            None,
        )
        if first_new is None or first_new > last:
            continue
        month = month_index(first_new)
        members.setdefault(month, []).append(first_new)
        dailies.setdefault(month, []).append(contribution.daily[currency])
    result: list[Cohort] = []
    for month in sorted(members):
        first_day = date(month // 12, month % 12 + 1, 1).toordinal()
        ends = _month_ends(first_day, last)
        paying = [0] * len(ends)
        mrr = [0] * len(ends)
        for daily in dailies[month]:
            for index, end in enumerate(ends):
                value = value_at_day(daily, end)
                if value > 0:
                    paying[index] += 1
                    mrr[index] += value
        size = len(members[month])
        result.append(
            Cohort(
                month=date_of(first_day),
                customers=size,
                paying=tuple(paying),
                mrr=tuple(mrr),
                customer_retention=tuple(ratio(count, size) for count in paying),
                net_mrr_retention=tuple(ratio(value, mrr[0]) for value in mrr),
            )
        )
    return result
