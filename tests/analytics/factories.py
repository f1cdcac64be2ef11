"""Plain-data builders for analytics tests: prices, subscriptions with spans, customers."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from revlens.analytics.days import Day, instant_of
from revlens.analytics.model import (
    Coupon,
    CustomerHistory,
    Discount,
    Duration,
    Instant,
    Interval,
    Item,
    Price,
    Span,
    Status,
    SubscriptionTimeline,
)

T0 = instant_of(date(2024, 1, 1), hour=12)


def at(year: int, month: int, day: int, hour: int = 12) -> Instant:
    """Return the UTC instant of a date at an hour."""
    return instant_of(date(year, month, day), hour)


def day(year: int, month: int, dom: int) -> Day:
    """Return the day ordinal of a date."""
    return date(year, month, dom).toordinal()


def price(
    amount: int | Fraction = 10_000,
    interval: Interval | None = Interval.MONTH,
    count: int = 1,
    *,
    id: str | None = None,
    currency: str = "usd",
) -> Price:
    """Return a per-unit licensed price."""
    name = id or f"price_{amount}_{interval}_{count}"
    return Price(name, currency, Fraction(amount), interval, count)


def coupon_discount(
    *,
    percent: int | None = None,
    amount: int | None = None,
    duration: Duration = Duration.FOREVER,
    start: Instant | None = T0,
    end: Instant | None = None,
    id: str = "di_1",
) -> Discount:
    """Return a discount of a percent-off or amount-off coupon."""
    coupon = Coupon(
        id=f"co_{id}",
        duration=duration,
        percent_off=Fraction(percent) if percent is not None else None,
        amount_off=amount,
        currency="usd" if amount is not None else None,
    )
    return Discount(id, coupon, start, end)


def subscription(
    id: str,
    customer: str,
    items: list[Item] | tuple[Item, ...],
    *,
    start: Instant = T0,
    ended_at: Instant | None = None,
    status: Status = Status.ACTIVE,
    discounts: tuple[Discount, ...] = (),
    currency: str = "usd",
) -> SubscriptionTimeline:
    """Return a subscription with one state from `start`, canceled at `ended_at` if given."""
    spans = [Span(start, ended_at, status, tuple(items), discounts, sources=(f"evt_{id}",))]
    if ended_at is not None:
        spans.append(Span(ended_at, None, Status.CANCELED, tuple(items), discounts))
    return SubscriptionTimeline(id, customer, currency, tuple(spans), ended_at=ended_at)


def changing(
    id: str, customer: str, states: list[tuple[Instant, Status, tuple[Item, ...]]]
) -> SubscriptionTimeline:
    """Return a subscription whose state changes at each given instant."""
    spans = [
        Span(
            start,
            states[n + 1][0] if n + 1 < len(states) else None,
            status,
            items,
            sources=(f"evt_{id}_{n}",),
        )
        for n, (start, status, items) in enumerate(states)
    ]
    return SubscriptionTimeline(id, customer, "usd", tuple(spans))


def item(
    p: Price, quantity: int = 1, *, id: str = "si_1", discounts: tuple[Discount, ...] = ()
) -> Item:
    """Return a subscription item."""
    return Item(id, p, quantity, discounts)


def customer(
    id: str, *subscriptions: SubscriptionTimeline, discounts: tuple[Discount, ...] = ()
) -> CustomerHistory:
    """Return a customer history."""
    return CustomerHistory(id, tuple(subscriptions), discounts)
