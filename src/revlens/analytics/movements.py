"""The movement ledger: each customer's end-of-day MRR changes, classified and explained.

MRR(end) - MRR(start) = Σ movements in (start, end] (+ Σ FX impact when converting currencies).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from revlens.analytics.days import Day, LocalDays
from revlens.analytics.explain import Change, explain_day
from revlens.analytics.model import CustomerHistory, Instant
from revlens.analytics.money import round_minor
from revlens.analytics.mrr import DailySteps, converted_mrr, customer_steps, daily_steps
from revlens.analytics.presets import MetricSettings


class MovementKind(StrEnum):
    """The five kinds of MRR movement."""

    NEW = "new"
    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    CHURN = "churn"
    REACTIVATION = "reactivation"


@dataclass(frozen=True, slots=True)
class Movement:
    """One customer's MRR change on one day, in one (reporting) currency, with its reasons."""

    customer: str
    currency: str
    day: Day
    kind: MovementKind
    amount: int
    before: int
    after: int
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True, slots=True)
class FxImpact:
    """A change of converted MRR caused by a new exchange rate, never a movement."""

    customer: str
    currency: str
    day: Day
    amount: int


def classify(before: int, after: int, *, paid_before: bool) -> MovementKind | None:
    """Return the movement kind of an end-of-day change (None when nothing moved)."""
    if before == after:
        return None
    if before == 0:
        return MovementKind.REACTIVATION if paid_before else MovementKind.NEW
    if after == 0:
        return MovementKind.CHURN
    return MovementKind.EXPANSION if after > before else MovementKind.CONTRACTION


def ledger_entries(
    customer: str, currency: str, daily: DailySteps
) -> Iterator[tuple[Day, MovementKind, int, int]]:
    """Yield (day, kind, before, after) for each end-of-day change of one customer's MRR."""
    before = 0
    paid_before = False
    for day, after in daily:
        kind = classify(before, after, paid_before=paid_before)
        if kind is not None:
            yield day, kind, before, after
        paid_before = paid_before or after > 0
        before = after


@dataclass(frozen=True, slots=True)
class CustomerLedger:
    """A customer's end-of-day MRR per currency, with its movements and FX impacts."""

    customer: str
    daily: dict[str, DailySteps]
    movements: tuple[Movement, ...]
    fx_impacts: tuple[FxImpact, ...] = ()


def customer_ledger(
    customer: CustomerHistory, settings: MetricSettings, *, explain: bool = True
) -> CustomerLedger:
    """Return the customer's daily MRR and classified movements (explained unless told not to)."""
    days = LocalDays(settings.timezone)
    daily = {
        currency: daily_steps(steps, days)
        for currency, steps in customer_steps(customer, settings).items()
    }
    movements: list[Movement] = []
    impacts: list[FxImpact] = []
    fx_currency = settings.fx.target if settings.fx is not None else None
    for currency, entries in daily.items():
        paid_before = False
        before = 0
        for day, after in entries:
            start = before
            if currency == fx_currency and before:
                # Revalue yesterday at today's rates: the rate's share is FX impact, not a movement.
                start = _revalued(customer, settings, days.end_of(day - 1), days.end_of(day))
                if start != before:
                    impacts.append(FxImpact(customer.id, currency, day, start - before))
            kind = classify(start, after, paid_before=paid_before)
            if kind is not None:
                changes = (
                    explain_day(customer, settings, days.end_of(day - 1), days.end_of(day))
                    if explain
                    else ()
                )
                movements.append(
                    Movement(customer.id, currency, day, kind, after - start, start, after, changes)
                )
            paid_before = paid_before or after > 0
            before = after
    movements.sort(key=lambda movement: (movement.day, movement.currency))
    return CustomerLedger(customer.id, daily, tuple(movements), tuple(impacts))


def _revalued(
    customer: CustomerHistory, settings: MetricSettings, at: Instant, rates_at: Instant
) -> int:
    """Return the customer's converted MRR at `at`, valued with the rates in force at `rates_at`."""
    assert settings.fx is not None
    total = Fraction(0)
    for timeline in customer.subscriptions:
        currency, value = converted_mrr(
            timeline, at, settings, customer.discounts, rate_at=rates_at
        )
        if currency == settings.fx.target:
            total += value
    return round_minor(total)
