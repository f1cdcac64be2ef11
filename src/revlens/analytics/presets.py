"""Metric presets: the documented default and the conventions of the leading products, as data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from revlens.analytics.fx import FxTable


class DiscountRule(StrEnum):
    """Which discounts reduce MRR."""

    NONE = "none"
    FOREVER = "forever"
    FOREVER_AND_REPEATING = "forever_and_repeating"
    ALL = "all"  # also `once`, for the first billing period it covers


class ChurnTiming(StrEnum):
    """When an ended subscription stops contributing."""

    ENDED_AT = "ended_at"
    PAID_PERIOD_END = "paid_period_end"


class ChurnRateMethod(StrEnum):
    """How the customer churn rate is computed."""

    PERIOD = "period"  # paying at start, not at end ÷ paying at start
    STRIPE_30_DAYS = "stripe_30_days"  # churned in 30 days ÷ (active 30 days ago + new in window)
    BAREMETRICS_30_DAYS = "baremetrics_30_days"  # churned in 30 days ÷ active 30 days ago
    CALENDAR_MONTH = "calendar_month"  # PERIOD over the calendar month to date


class LtvAtZeroChurn(StrEnum):
    """What LTV is when the customer churn rate is 0."""

    NULL = "null"
    ASSUMED_CHURN = "assumed_churn"
    ZERO = "zero"


STRIPE_ASSUMED_CHURN = Fraction(167, 10_000)  # 1.67 %, Stripe's stand-in for a zero churn rate


@dataclass(frozen=True, slots=True)
class MetricSettings:
    """Every choice that changes a number; each number revlens shows carries the settings behind it.

    `reporting_currency` with `fx` converts every currency (dated rates, at the start of the
    service period); without `fx` each currency is reported separately.
    """

    preset: str = "standard"
    discount_rule: DiscountRule = DiscountRule.FOREVER_AND_REPEATING
    past_due_grace_days: int | None = None
    churn_timing: ChurnTiming = ChurnTiming.ENDED_AT
    churn_rate_method: ChurnRateMethod = ChurnRateMethod.PERIOD
    ltv_at_zero_churn: LtvAtZeroChurn = LtvAtZeroChurn.NULL
    assumed_churn: Fraction = STRIPE_ASSUMED_CHURN
    timezone: str = "UTC"
    reporting_currency: str | None = None
    fx: FxTable | None = None

    def describe(self) -> dict[str, str | int | None]:
        """Return the settings as plain values, to attach to every exported number."""
        return {
            "preset": self.preset,
            "discount_rule": self.discount_rule.value,
            "past_due_grace_days": self.past_due_grace_days,
            "churn_timing": self.churn_timing.value,
            "churn_rate_method": self.churn_rate_method.value,
            "ltv_at_zero_churn": self.ltv_at_zero_churn.value,
            "timezone": self.timezone,
            "reporting_currency": self.reporting_currency,
        }


PRESETS: dict[str, MetricSettings] = {
    "standard": MetricSettings(),
    # Stripe keeps past_due until the status becomes unpaid or canceled: no grace in days.
    "stripe": MetricSettings(
        preset="stripe",
        discount_rule=DiscountRule.FOREVER,
        churn_rate_method=ChurnRateMethod.STRIPE_30_DAYS,
        ltv_at_zero_churn=LtvAtZeroChurn.ASSUMED_CHURN,
    ),
    "chartmogul": MetricSettings(
        preset="chartmogul",
        discount_rule=DiscountRule.ALL,
        ltv_at_zero_churn=LtvAtZeroChurn.ZERO,
    ),
    "baremetrics": MetricSettings(
        preset="baremetrics",
        discount_rule=DiscountRule.ALL,
        past_due_grace_days=30,
        churn_rate_method=ChurnRateMethod.BAREMETRICS_30_DAYS,
    ),
    "profitwell": MetricSettings(
        preset="profitwell",
        discount_rule=DiscountRule.ALL,
        past_due_grace_days=15,
        churn_timing=ChurnTiming.PAID_PERIOD_END,
        churn_rate_method=ChurnRateMethod.CALENDAR_MONTH,
    ),
}


class _Keep(StrEnum):
    PRESET = "preset"


KEEP_PRESET = _Keep.PRESET
"""Pass as `past_due_grace_days` to keep the preset's grace (None means no grace)."""


def metric_settings(
    preset: str = "standard",
    *,
    past_due_grace_days: int | _Keep | None = KEEP_PRESET,
    discount_rule: DiscountRule | None = None,
    timezone: str | None = None,
    reporting_currency: str | None = None,
    fx: FxTable | None = None,
) -> MetricSettings:
    """Return a preset's settings with individual overrides applied."""
    try:
        settings = PRESETS[preset]
    except KeyError:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}") from None
    if not isinstance(past_due_grace_days, _Keep):
        if past_due_grace_days is not None and past_due_grace_days < 1:
            raise ValueError("past_due_grace_days must be a positive number of days or None")
        settings = dataclasses.replace(settings, past_due_grace_days=past_due_grace_days)
    if discount_rule is not None:
        settings = dataclasses.replace(settings, discount_rule=discount_rule)
    if timezone is not None:
        settings = dataclasses.replace(settings, timezone=timezone)
    if fx is not None and reporting_currency is None:
        reporting_currency = fx.target
    if reporting_currency is not None:
        if fx is not None and fx.target != reporting_currency.lower():
            raise ValueError("the rate table must convert into the reporting currency")
        settings = dataclasses.replace(
            settings, reporting_currency=reporting_currency.lower(), fx=fx
        )
    return settings
