"""Which discounts reduce MRR at an instant, and by how much."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction

from revlens.analytics.days import advance
from revlens.analytics.model import Discount, Duration, Instant, Interval
from revlens.analytics.money import monthly_factor
from revlens.analytics.presets import DiscountRule

_ZERO = Fraction(0)
_HUNDRED = Fraction(100)

Cadence = tuple[Interval, int]
"""A billing interval and its count; amount-off discounts are normalised with it."""


def in_effect(discount: Discount, at: Instant) -> bool:
    """Return whether Stripe applies the discount at the instant (start ≤ at < end)."""
    return (discount.start is None or discount.start <= at) and (
        discount.end is None or at < discount.end
    )


def once_window_end(discount: Discount, cadence: Cadence) -> Instant | None:
    """Return the end of the single billing period a `once` discount covers."""
    if discount.start is None:
        return None
    return advance(discount.start, cadence[0], cadence[1])


def counts(discount: Discount, rule: DiscountRule, at: Instant, cadence: Cadence) -> bool:
    """Return whether the discount reduces MRR at the instant under the rule."""
    if rule is DiscountRule.NONE or not in_effect(discount, at):
        return False
    duration = discount.coupon.duration
    if duration is Duration.FOREVER:
        return True
    if duration is Duration.REPEATING:
        return rule is not DiscountRule.FOREVER
    if rule is not DiscountRule.ALL:
        return False
    window_end = once_window_end(discount, cadence)
    return window_end is not None and at < window_end


def apply(
    amount: Fraction,
    discounts: Iterable[Discount],
    *,
    rule: DiscountRule,
    at: Instant,
    currency: str,
    cadence: Cadence,
) -> Fraction:
    """Return a monthly amount after the discounts that count, in order, never below 0."""
    for discount in discounts:
        if not counts(discount, rule, at, cadence):
            continue
        coupon = discount.coupon
        if coupon.percent_off is not None:
            amount = amount * (_HUNDRED - coupon.percent_off) / _HUNDRED
        elif coupon.amount_off is not None and (coupon.currency or currency) == currency:
            amount -= coupon.amount_off * monthly_factor(*cadence)
        if amount <= 0:
            return _ZERO
    return amount


def boundaries(discount: Discount, cadence: Cadence) -> Iterator[Instant]:
    """Yield the instants at which the discount can start or stop reducing MRR."""
    if discount.start is not None:
        yield discount.start
    if discount.end is not None:
        yield discount.end
    if discount.coupon.duration is Duration.ONCE:
        window_end = once_window_end(discount, cadence)
        if window_end is not None:
            yield window_end
