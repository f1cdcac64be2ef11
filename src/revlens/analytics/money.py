"""Money rules: exact amounts in minor units, one rounding, monthly normalisation."""

from __future__ import annotations

from fractions import Fraction

from revlens.analytics.model import Interval

ZERO_DECIMAL_CURRENCIES = frozenset(
    (
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    )
)

# Months per interval unit: a year has 12, a week 12/52 so a weekly price is x52/12 per month.
_MONTHLY_FACTOR = {
    Interval.DAY: Fraction(365, 12),
    Interval.WEEK: Fraction(52, 12),
    Interval.MONTH: Fraction(1),
    Interval.YEAR: Fraction(1, 12),
}


def monthly_factor(interval: Interval, interval_count: int) -> Fraction:
    """Return the factor that turns one billing period's amount into a monthly amount."""
    return _MONTHLY_FACTOR[interval] / interval_count


def round_minor(amount: Fraction) -> int:
    """Round an exact amount to an integer minor unit, half away from zero."""
    magnitude = abs(amount)
    rounded: int = (magnitude.numerator * 2 + magnitude.denominator) // (magnitude.denominator * 2)
    return rounded if amount >= 0 else -rounded


def minor_unit_digits(currency: str) -> int:
    """Return the number of decimals of the currency's minor unit (0 for zero-decimal ones)."""
    return 0 if currency.lower() in ZERO_DECIMAL_CURRENCIES else 2


def to_major(amount: int | Fraction, currency: str) -> Fraction:
    """Return an amount in major units (dollars, yen) for display; never divide by 100 blindly."""
    return Fraction(amount, 10 ** minor_unit_digits(currency))
