"""Dated exchange rates into the reporting currency; rates are never invented."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from revlens.analytics.model import Instant
from revlens.analytics.money import minor_unit_digits


@dataclass(frozen=True, slots=True, eq=False)
class FxTable:
    """Rates per currency: one major unit of the currency is worth `rate` major units of `target`.

    Each currency maps to (effective_from, rate) pairs sorted by instant; a rate holds until the
    next one. Identity-compared so settings stay hashable.
    """

    target: str
    rates: Mapping[str, tuple[tuple[Instant, Fraction], ...]]

    @classmethod
    def from_rows(
        cls, target: str, rows: Iterable[tuple[str, Instant, Fraction | Decimal | str]]
    ) -> FxTable:
        """Build a table from (currency, effective_from, rate) rows in any order."""
        table: dict[str, list[tuple[Instant, Fraction]]] = {}
        for currency, effective_from, rate in rows:
            value = Fraction(str(rate)) if isinstance(rate, str) else Fraction(rate)
            if value <= 0:
                raise ValueError(f"rate for {currency} at {effective_from} must be positive")
            table.setdefault(currency.lower(), []).append((effective_from, value))
        return cls(
            target=target.lower(),
            rates={currency: tuple(sorted(pairs)) for currency, pairs in table.items()},
        )

    def rate(self, currency: str, at: Instant) -> Fraction | None:
        """Return the major-unit rate in effect at the instant, or None when none is known."""
        currency = currency.lower()
        if currency == self.target:
            return Fraction(1)
        pairs = self.rates.get(currency)
        if not pairs:
            return None
        index = bisect_right(pairs, (at, Fraction(10**30))) - 1
        return pairs[max(index, 0)][1]  # before the first dated rate, the first rate applies

    def change_points(self, currency: str) -> tuple[Instant, ...]:
        """Return the instants at which the currency's rate changes."""
        return tuple(at for at, _ in self.rates.get(currency.lower(), ()))

    def minor_factor(self, currency: str, at: Instant) -> Fraction | None:
        """Return the factor turning minor units of `currency` into minor units of the target."""
        rate = self.rate(currency, at)
        if rate is None:
            return None
        shift = minor_unit_digits(self.target) - minor_unit_digits(currency)
        return rate * Fraction(10) ** shift
