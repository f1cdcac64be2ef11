"""The aggregate: each customer's contribution as per-day deltas, replaceable one at a time.

Recomputing one customer subtracts its old deltas and adds its new ones; nobody else is touched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, TypeVar

from revlens.analytics.days import Day, LocalDays
from revlens.analytics.model import CustomerHistory
from revlens.analytics.movements import FxImpact, Movement, MovementKind, customer_ledger
from revlens.analytics.mrr import DailySteps
from revlens.analytics.presets import MetricSettings
from revlens.analytics.windows import Episode, episodes

T = TypeVar("T")

FLOW_FIELDS = (
    "mrr",
    "paying",
    *(kind.value for kind in MovementKind),
    *(f"{kind.value}_count" for kind in MovementKind),
    "fx_impact",
    "trials_ended",
    "trials_converted",
)


@dataclass(frozen=True, slots=True)
class TrialEnd:
    """A trial that ended on a day; `converted` when its first invoice was paid."""

    currency: str
    day: Day
    converted: bool


@dataclass(frozen=True, slots=True)
class CustomerContribution:
    """Everything one customer adds to the aggregate, per currency."""

    customer: str
    daily: Mapping[str, DailySteps]
    movements: tuple[Movement, ...] = ()
    fx_impacts: tuple[FxImpact, ...] = ()
    trials: tuple[TrialEnd, ...] = ()
    episodes: Mapping[str, tuple[Episode, ...]] = field(default_factory=dict)

    def deltas(self) -> Iterator[tuple[str, str, Day, int]]:
        """Yield (currency, field, day, delta) rows: the customer's share of every daily total."""
        for currency, daily in self.daily.items():
            before = 0
            for day, after in daily:
                yield currency, "mrr", day, after - before
                if (before > 0) != (after > 0):
                    yield currency, "paying", day, 1 if after > 0 else -1
                before = after
        for movement in self.movements:
            yield movement.currency, movement.kind.value, movement.day, movement.amount
            yield movement.currency, f"{movement.kind.value}_count", movement.day, 1
        for impact in self.fx_impacts:
            yield impact.currency, "fx_impact", impact.day, impact.amount
        for trial in self.trials:
            yield trial.currency, "trials_ended", trial.day, 1
            if trial.converted:
                yield trial.currency, "trials_converted", trial.day, 1


def contribution(
    customer: CustomerHistory, settings: MetricSettings, *, explain: bool = True
) -> CustomerContribution:
    """Compute one customer's contribution from its history (the whole per-customer recompute)."""
    ledger = customer_ledger(customer, settings, explain=explain)
    days = LocalDays(settings.timezone)
    trials: list[TrialEnd] = []
    for timeline in customer.subscriptions:
        if timeline.trial is None:
            continue
        currency = timeline.currency
        if settings.fx is not None and settings.fx.rate(currency, timeline.trial.end) is not None:
            currency = settings.fx.target
        trials.append(TrialEnd(currency, days.day_of(timeline.trial.end), timeline.trial.converted))
    return CustomerContribution(
        customer=customer.id,
        daily=ledger.daily,
        movements=ledger.movements,
        fx_impacts=ledger.fx_impacts,
        trials=tuple(trials),
        episodes={currency: episodes(daily) for currency, daily in ledger.daily.items()},
    )


@dataclass(slots=True)
class Dense:
    """Cumulative sums of one field's daily deltas over [origin, last]."""

    origin: Day
    cumulative: list[int]

    def level(self, day: Day) -> int:
        """Return the sum of all deltas on or before the day."""
        index = day - self.origin
        if index < 0:
            return 0
        return self.cumulative[min(index, len(self.cumulative) - 1)]

    def between(self, start: Day, end: Day) -> int:
        """Return the sum of the deltas on the days in (start, end]."""
        return self.level(end) - self.level(start)


class Ledger:
    """Per-currency daily deltas of all customers, plus each customer's contribution."""

    def __init__(self, settings: MetricSettings) -> None:
        self.settings = settings
        self._contributions: dict[str, CustomerContribution] = {}
        self._deltas: dict[str, dict[str, dict[Day, int]]] = {}
        # Aggregates derived from every contribution, dropped whenever one changes.
        self._derived: dict[tuple[Any, ...], Any] = {}

    def put(self, contribution: CustomerContribution) -> None:
        """Add a customer's contribution, replacing the one it had."""
        self.remove(contribution.customer)
        self._contributions[contribution.customer] = contribution
        self._apply(contribution, 1)
        self._derived.clear()

    def remove(self, customer: str) -> None:
        """Take a customer's contribution out of every total."""
        old = self._contributions.pop(customer, None)
        if old is not None:
            self._apply(old, -1)
            self._derived.clear()

    def derived(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """Return an aggregate of all contributions, computed once until a contribution changes."""
        if key not in self._derived:
            self._derived[key] = compute()
        found: T = self._derived[key]
        return found

    def span(self, currency: str) -> tuple[Day, Day] | None:
        """Return the first and last day with any delta in the currency (None when none)."""
        days = [day for values in self._deltas.get(currency, {}).values() for day in values]
        return (min(days), max(days)) if days else None

    def _apply(self, contribution: CustomerContribution, sign: int) -> None:
        for currency, name, day, delta in contribution.deltas():
            fields = self._deltas.setdefault(currency, {})
            days = fields.setdefault(name, {})
            value = days.get(day, 0) + sign * delta
            if value:
                days[day] = value
            else:
                days.pop(day, None)

    def currencies(self) -> list[str]:
        """Return the currencies with any data, sorted."""
        return sorted(currency for currency, fields in self._deltas.items() if any(fields.values()))

    def contributions(self) -> Iterable[CustomerContribution]:
        """Return every customer's contribution."""
        return self._contributions.values()

    def get(self, customer: str) -> CustomerContribution | None:
        """Return one customer's contribution."""
        return self._contributions.get(customer)

    def full_dense(self, currency: str, name: str) -> Dense:
        """Return the cumulative sums of a field over every day it changed (valid on any day)."""

        def compute() -> Dense:
            days = self._deltas.get(currency, {}).get(name, {})
            if not days:
                return Dense(0, [0])
            return self.dense(currency, name, first=min(days), last=max(days))

        return self.derived(("dense", currency, name), compute)

    def dense(self, currency: str, name: str, *, first: Day, last: Day) -> Dense:
        """Return the cumulative sums of a field, from its earliest delta up to `last`."""
        days = self._deltas.get(currency, {}).get(name, {})
        origin = min(min(days, default=first), first)
        values = [0] * (last - origin + 1)
        for day, delta in days.items():
            if day <= last:
                values[day - origin] += delta
        return Dense(origin, list(accumulate(values)))

    def movements(self, currency: str, start: Day, end: Day) -> list[Movement]:
        """Return the movements of a currency in (start, end], ordered by day and customer."""
        found = [
            movement
            for contribution in self._contributions.values()
            for movement in contribution.movements
            if movement.currency == currency and start < movement.day <= end
        ]
        return sorted(found, key=lambda movement: (movement.day, movement.customer))


def build_ledger(
    customers: Iterable[CustomerHistory], settings: MetricSettings, *, explain: bool = True
) -> Ledger:
    """Compute every customer's contribution and return the aggregate."""
    ledger = Ledger(settings)
    for customer in customers:
        ledger.put(contribution(customer, settings, explain=explain))
    return ledger
