"""Rates and ratios for a period P = (start, end]: exact, and None whenever a denominator is 0."""

from __future__ import annotations

from fractions import Fraction

from revlens.analytics.presets import ChurnRateMethod, LtvAtZeroChurn, MetricSettings

Rate = Fraction | None


def ratio(numerator: int | Fraction, denominator: int | Fraction) -> Rate:
    """Return numerator / denominator exactly, or None when the denominator is 0."""
    if not denominator:
        return None
    return Fraction(numerator) / Fraction(denominator)


def customer_churn_rate(*, paying_at_start: int, churned: int) -> Rate:
    """Return customers paying at start and not at end / customers paying at start."""
    return ratio(churned, paying_at_start)


def stripe_customer_churn_rate(*, churned_in_window: int, active_at_start: int, new: int) -> Rate:
    """Return Stripe's churn: churned in the window / (active at its start + new in it)."""
    return ratio(churned_in_window, active_at_start + new)


def baremetrics_customer_churn_rate(*, cancelled_in_window: int, active_at_start: int) -> Rate:
    """Return Baremetrics' churn: cancelled in the last 30 days / active 30 days ago."""
    return ratio(cancelled_in_window, active_at_start)


def gross_mrr_churn_rate(*, mrr_at_start: int, churn: int, contraction: int) -> Rate:
    """Return (churn + contraction, as positive amounts) / MRR at start."""
    return ratio(abs(churn) + abs(contraction), mrr_at_start)


def net_mrr_churn_rate(
    *, mrr_at_start: int, churn: int, contraction: int, expansion: int, reactivation: int
) -> Rate:
    """Return (churn + contraction - expansion - reactivation) / MRR at start; may be negative."""
    return ratio(abs(churn) + abs(contraction) - expansion - reactivation, mrr_at_start)


def net_revenue_retention(*, mrr_at_start: int, retained_mrr_at_end: int) -> Rate:
    """Return MRR at end from customers paying at start / MRR at start."""
    return ratio(retained_mrr_at_end, mrr_at_start)


def gross_revenue_retention(*, mrr_at_start: int, capped_mrr_at_end: int) -> Rate:
    """Return the sum over starting customers of min(MRR at end, at start) / MRR at start."""
    return ratio(capped_mrr_at_end, mrr_at_start)


def arpa(*, mrr: int, paying_customers: int) -> Rate:
    """Return MRR / paying customers at the instant."""
    return ratio(mrr, paying_customers)


def ltv(*, arpa: Rate, monthly_churn_rate: Rate, settings: MetricSettings) -> Rate:
    """Return ARPA / monthly customer churn rate, with the preset's answer at zero churn."""
    if arpa is None or monthly_churn_rate is None:
        return None
    if monthly_churn_rate == 0:
        if settings.ltv_at_zero_churn is LtvAtZeroChurn.ZERO:
            return Fraction(0)
        if settings.ltv_at_zero_churn is LtvAtZeroChurn.ASSUMED_CHURN:
            return arpa / settings.assumed_churn
        return None
    return arpa / monthly_churn_rate


def quick_ratio(
    *, new: int, expansion: int, reactivation: int, churn: int, contraction: int
) -> Rate:
    """Return (new + expansion + reactivation) / |churn + contraction|."""
    return ratio(new + expansion + reactivation, abs(churn + contraction))


def trial_conversion(*, trials_ended: int, converted: int) -> Rate:
    """Return trials ending in P whose first invoice was paid / trials ending in P."""
    return ratio(converted, trials_ended)


def mrr_growth_rate(*, mrr_at_start: int, mrr_at_end: int) -> Rate:
    """Return MRR at end / MRR at start - 1."""
    growth = ratio(mrr_at_end, mrr_at_start)
    return None if growth is None else growth - 1


def uses_window(method: ChurnRateMethod) -> bool:
    """Return whether the churn method looks at the 30 days ending on the date, not the period."""
    return method in (ChurnRateMethod.STRIPE_30_DAYS, ChurnRateMethod.BAREMETRICS_30_DAYS)
