"""MRR of a subscription at an instant, and a customer's MRR as a step function of time.

A customer's MRR only changes at a few instants (span boundaries, discount starts and ends, the end
of a past-due grace, a new FX period), so it is computed at those change points and never per day.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from fractions import Fraction

from revlens.analytics import discounts
from revlens.analytics.days import SECONDS_PER_DAY, Day, LocalDays, advance
from revlens.analytics.discounts import Cadence
from revlens.analytics.model import (
    CONTRIBUTING_STATUSES,
    CustomerHistory,
    Discount,
    Instant,
    Interval,
    Span,
    Status,
    SubscriptionTimeline,
    UsageType,
)
from revlens.analytics.money import round_minor
from revlens.analytics.presets import ChurnTiming, MetricSettings
from revlens.analytics.pricing import monthly_amount

_ZERO = Fraction(0)
_MONTHLY: Cadence = (Interval.MONTH, 1)

Steps = list[tuple[Instant, int]]
"""(instant, rounded MRR from that instant on); MRR is 0 before the first step."""

DailySteps = list[tuple[Day, int]]
"""(day, MRR at the end of that day) for each day on which the end-of-day value changed."""


def cadence_of(span: Span) -> Cadence:
    """Return the subscription's billing cadence: that of its first licensed recurring item."""
    for item in span.items:
        price = item.price
        if price.interval is not None and price.usage_type is UsageType.LICENSED:
            return (price.interval, price.interval_count)
    for item in span.items:
        if item.price.interval is not None:
            return (item.price.interval, item.price.interval_count)
    return _MONTHLY


def span_at(timeline: SubscriptionTimeline, at: Instant) -> Span | None:
    """Return the span in force at the instant, or None before the start or after the end."""
    spans = timeline.spans
    index = bisect_right(spans, at, key=lambda span: span.start) - 1
    if index < 0:
        return None
    span = spans[index]
    return span if span.end is None or at < span.end else None


def effective_instant(timeline: SubscriptionTimeline, at: Instant, settings: MetricSettings) -> int:
    """Return the instant whose state counts at `at` (profitwell keeps the paid period)."""
    if (
        settings.churn_timing is ChurnTiming.PAID_PERIOD_END
        and timeline.ended_at is not None
        and timeline.paid_through is not None
        and timeline.ended_at <= at < timeline.paid_through
    ):
        return timeline.ended_at - 1
    return at


def contributes(span: Span, at: Instant, settings: MetricSettings) -> bool:
    """Return whether the span's status counts as revenue at the instant (status rule, grace)."""
    if span.status not in CONTRIBUTING_STATUSES:
        return False
    grace = settings.past_due_grace_days
    if span.status is Status.PAST_DUE and grace is not None and span.past_due_since is not None:
        return at < span.past_due_since + grace * SECONDS_PER_DAY
    return True


def span_mrr(
    span: Span,
    at: Instant,
    *,
    currency: str,
    settings: MetricSettings,
    customer_discounts: Sequence[Discount] = (),
) -> Fraction:
    """Return the exact monthly amount of a span at an instant (0 unless its status counts)."""
    if not contributes(span, at, settings):
        return _ZERO
    rule = settings.discount_rule
    total = _ZERO
    for item in span.items:
        amount = monthly_amount(item.price, item.quantity)
        if item.discounts and amount:
            cadence = (item.price.interval or Interval.MONTH, item.price.interval_count)
            amount = discounts.apply(
                amount, item.discounts, rule=rule, at=at, currency=currency, cadence=cadence
            )
        total = total + amount if total else amount  # most spans have one item
    if not total:
        return total
    # The customer's discount applies only to subscriptions that have none of their own.
    own = [discount for discount in span.discounts if discounts.in_effect(discount, at)]
    chosen: Sequence[Discount] = own or customer_discounts
    if chosen:
        total = discounts.apply(
            total, chosen, rule=rule, at=at, currency=currency, cadence=cadence_of(span)
        )
    return total


def subscription_mrr(
    timeline: SubscriptionTimeline,
    at: Instant,
    settings: MetricSettings,
    customer_discounts: Sequence[Discount] = (),
) -> Fraction:
    """Return the exact MRR of one subscription at an instant, in its own currency."""
    at = effective_instant(timeline, at, settings)
    span = span_at(timeline, at)
    if span is None:
        return _ZERO
    return span_mrr(
        span,
        at,
        currency=timeline.currency,
        settings=settings,
        customer_discounts=customer_discounts,
    )


def change_points(
    timeline: SubscriptionTimeline,
    settings: MetricSettings,
    customer_discounts: Sequence[Discount] = (),
) -> list[Instant]:
    """Return, sorted, every instant at which the subscription's MRR may change."""
    points: set[Instant] = set()
    for span in timeline.spans:
        points.add(span.start)
        if span.end is not None:
            points.add(span.end)
        cadence = cadence_of(span)
        for item in span.items:
            item_cadence = (item.price.interval or Interval.MONTH, item.price.interval_count)
            for discount in item.discounts:
                points.update(_within(discounts.boundaries(discount, item_cadence), span))
        for discount in (*span.discounts, *customer_discounts):
            points.update(_within(discounts.boundaries(discount, cadence), span))
        grace = settings.past_due_grace_days
        if span.status is Status.PAST_DUE and grace is not None and span.past_due_since is not None:
            points.update(_within(iter((span.past_due_since + grace * SECONDS_PER_DAY,)), span))
    if settings.churn_timing is ChurnTiming.PAID_PERIOD_END and timeline.paid_through is not None:
        points.add(timeline.paid_through)
    if settings.fx is not None and timeline.currency != settings.fx.target:
        points.update(_fx_points(timeline, settings))
    return sorted(points)


def _within(instants: Iterator[Instant], span: Span) -> Iterator[Instant]:
    return (instant for instant in instants if span.contains(instant))


def service_period_start(timeline: SubscriptionTimeline, at: Instant) -> Instant:
    """Return the start of the billing period containing the instant (from the billing anchor)."""
    span = span_at(timeline, at) or timeline.spans[0]
    interval, count = cadence_of(span)
    anchor = timeline.billing_anchor or timeline.spans[0].start
    if at < anchor:
        return anchor
    typical = {Interval.DAY: 1, Interval.WEEK: 7, Interval.MONTH: 28, Interval.YEAR: 365}
    step = typical[interval] * count * SECONDS_PER_DAY
    periods = max((at - anchor) // step - 1, 0)
    # Stripe computes each period from the anchor (day 31 → 30 → 31), never period from period.
    while advance(anchor, interval, (periods + 1) * count) <= at:
        periods += 1
    while periods and advance(anchor, interval, periods * count) > at:
        periods -= 1
    return advance(anchor, interval, periods * count)


def _fx_points(timeline: SubscriptionTimeline, settings: MetricSettings) -> Iterator[Instant]:
    """Yield the first period start on or after each rate change: where the converted MRR moves."""
    assert settings.fx is not None
    for change in settings.fx.change_points(timeline.currency):
        start = service_period_start(timeline, change)
        if start < change:
            span = span_at(timeline, change) or timeline.spans[0]
            start = advance(start, *cadence_of(span))
        yield start


def converted_mrr(
    timeline: SubscriptionTimeline,
    at: Instant,
    settings: MetricSettings,
    customer_discounts: Sequence[Discount] = (),
    *,
    rate_at: Instant | None = None,
) -> tuple[str, Fraction]:
    """Return (currency, exact MRR) after conversion to the reporting currency when rates exist.

    The rate is the one in effect at the start of the service period containing `rate_at`
    (default `at`); without a rate the subscription stays in its own currency.
    """
    value = subscription_mrr(timeline, at, settings, customer_discounts)
    fx = settings.fx
    if fx is None or timeline.currency == fx.target:
        return timeline.currency, value
    instant = at if rate_at is None else rate_at
    factor = fx.minor_factor(timeline.currency, service_period_start(timeline, instant))
    if factor is None:
        return timeline.currency, value
    return fx.target, value * factor


def customer_mrr(
    customer: CustomerHistory, at: Instant, settings: MetricSettings
) -> dict[str, int]:
    """Return the customer's MRR at an instant per currency, rounded once per currency."""
    totals: dict[str, Fraction] = {}
    for timeline in customer.subscriptions:
        currency, value = converted_mrr(timeline, at, settings, customer.discounts)
        totals[currency] = totals.get(currency, _ZERO) + value
    return {currency: round_minor(value) for currency, value in totals.items()}


def customer_steps(customer: CustomerHistory, settings: MetricSettings) -> dict[str, Steps]:
    """Return the customer's rounded MRR per currency as a step function of time."""
    events: list[tuple[Instant, int, str, Fraction]] = []
    for index, timeline in enumerate(customer.subscriptions):
        previous: dict[str, Fraction] = {}
        for point in change_points(timeline, settings, customer.discounts):
            currency, value = converted_mrr(timeline, point, settings, customer.discounts)
            for old_currency, old_value in list(previous.items()):
                if old_currency != currency and old_value:
                    events.append((point, index, old_currency, -old_value))
                    del previous[old_currency]
            delta = value - previous.get(currency, _ZERO)
            if delta:
                events.append((point, index, currency, delta))
                previous[currency] = value
    events.sort(key=lambda event: event[0])
    totals: dict[str, Fraction] = {}
    steps: dict[str, Steps] = {}
    for position, (instant, _, currency, delta) in enumerate(events):
        totals[currency] = totals.get(currency, _ZERO) + delta
        if position + 1 < len(events) and events[position + 1][0] == instant:
            continue  # round only once all changes at this instant are in
        for name, value in totals.items():
            rounded = round_minor(value)
            series = steps.setdefault(name, [])
            if (series[-1][1] if series else 0) != rounded:
                series.append((instant, rounded))
    return steps


def daily_steps(steps: Steps, days: LocalDays) -> DailySteps:
    """Return the end-of-day values of a step function, one entry per day whose value changed."""
    daily: DailySteps = []
    previous = 0
    for instant, value in steps:
        day = days.day_of(instant)
        if daily and daily[-1][0] == day:
            daily[-1] = (day, value)
        else:
            daily.append((day, value))
    # Changes that net out within a day leave no trace.
    result: DailySteps = []
    for day, value in daily:
        if value != previous:
            result.append((day, value))
            previous = value
    return result


def value_at_day(daily: DailySteps, day: Day) -> int:
    """Return the end-of-day value of a daily step function on a day."""
    index = bisect_right(daily, day, key=lambda entry: entry[0]) - 1
    return daily[index][1] if index >= 0 else 0


def merge_steps(*step_lists: Steps) -> Steps:
    """Return the sum of several step functions (for tests and totals)."""
    merged: Steps = []
    total = 0
    currents = [0] * len(step_lists)
    tagged = heapq.merge(
        *(((at, n, value) for at, value in steps) for n, steps in enumerate(step_lists))
    )
    for at, n, value in tagged:
        total += value - currents[n]
        currents[n] = value
        if merged and merged[-1][0] == at:
            merged[-1] = (at, total)
        else:
            merged.append((at, total))
    return merged
