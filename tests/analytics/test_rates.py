"""Rate formulas: exact values, None on a zero denominator, preset variants and settings."""

from __future__ import annotations

from fractions import Fraction

import pytest

from revlens.analytics import rates
from revlens.analytics.fx import FxTable
from revlens.analytics.presets import PRESETS, ChurnTiming, DiscountRule, metric_settings


def test_zero_denominators_are_none_never_zero_or_errors() -> None:
    assert rates.customer_churn_rate(paying_at_start=0, churned=0) is None
    assert rates.gross_mrr_churn_rate(mrr_at_start=0, churn=-5, contraction=0) is None
    assert rates.quick_ratio(new=5, expansion=0, reactivation=0, churn=0, contraction=0) is None
    assert rates.arpa(mrr=0, paying_customers=0) is None
    assert rates.trial_conversion(trials_ended=0, converted=0) is None
    assert rates.mrr_growth_rate(mrr_at_start=0, mrr_at_end=10) is None
    assert (
        rates.ltv(arpa=None, monthly_churn_rate=Fraction(1, 10), settings=PRESETS["standard"])
        is None
    )


def test_formulas() -> None:
    assert rates.net_mrr_churn_rate(
        mrr_at_start=100, churn=-10, contraction=0, expansion=30, reactivation=0
    ) == Fraction(-1, 5)
    assert rates.quick_ratio(new=30, expansion=10, reactivation=0, churn=-10, contraction=-10) == 2
    assert rates.mrr_growth_rate(mrr_at_start=100, mrr_at_end=125) == Fraction(1, 4)
    assert rates.stripe_customer_churn_rate(
        churned_in_window=2, active_at_start=8, new=2
    ) == Fraction(1, 5)
    assert rates.baremetrics_customer_churn_rate(
        cancelled_in_window=2, active_at_start=8
    ) == Fraction(1, 4)


def test_presets_are_data() -> None:
    assert set(PRESETS) == {"standard", "stripe", "chartmogul", "baremetrics", "profitwell"}
    assert PRESETS["stripe"].discount_rule is DiscountRule.FOREVER
    assert PRESETS["baremetrics"].past_due_grace_days == 30
    assert PRESETS["profitwell"].past_due_grace_days == 15
    assert PRESETS["profitwell"].churn_timing is ChurnTiming.PAID_PERIOD_END
    assert PRESETS["chartmogul"].past_due_grace_days is None


def test_overrides() -> None:
    tuned = metric_settings("chartmogul", past_due_grace_days=7, timezone="Europe/Paris")
    assert (tuned.preset, tuned.past_due_grace_days, tuned.timezone) == (
        "chartmogul",
        7,
        "Europe/Paris",
    )
    assert metric_settings("baremetrics", past_due_grace_days=None).past_due_grace_days is None
    assert metric_settings("baremetrics").past_due_grace_days == 30
    fx = FxTable.from_rows("EUR", [("usd", 0, "0.9")])
    assert metric_settings(fx=fx).reporting_currency == "eur"
    assert tuned.describe()["past_due_grace_days"] == 7
    with pytest.raises(ValueError, match="unknown preset"):
        metric_settings("paddle")
    with pytest.raises(ValueError, match="positive"):
        metric_settings(past_due_grace_days=0)
    with pytest.raises(ValueError, match="reporting currency"):
        metric_settings(reporting_currency="usd", fx=fx)


def test_fx_rates_between_zero_decimal_and_two_decimal_currencies() -> None:
    fx = FxTable.from_rows("usd", [("jpy", 100, "0.0067"), ("jpy", 200, "0.0070")])
    assert fx.rate("jpy", 50) == Fraction("0.0067")  # before the first dated rate, the first
    assert fx.rate("jpy", 250) == Fraction("0.0070")
    assert fx.minor_factor("jpy", 150) == Fraction("0.67")  # 1 yen = 0.67 cents
    assert fx.rate("gbp", 150) is None
    assert fx.rate("USD", 150) == 1
