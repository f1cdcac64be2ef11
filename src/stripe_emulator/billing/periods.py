"""Billing periods: stepping by a price's interval on the calendar, and prorating within one."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from stripe_emulator.resources.discounts import add_months

DAY = 86400


def add_interval(instant: int, interval: str, count: int = 1) -> int:
    """Return `instant` moved forward by `count` intervals (months clamp to the month's end)."""
    if interval == "day":
        return instant + count * DAY
    if interval == "week":
        return instant + count * 7 * DAY
    if interval == "month":
        return add_months(instant, count)
    if interval == "year":
        return add_months(instant, 12 * count)
    raise ValueError(f"unknown interval {interval}")


def subtract_interval(instant: int, interval: str, count: int = 1) -> int:
    """Return `instant` moved back by `count` intervals (months clamp to the month's end)."""
    if interval in ("day", "week"):
        return instant - (add_interval(instant, interval, count) - instant)
    return add_months(instant, -count * (12 if interval == "year" else 1))


def prorate(amount: int, start: int, end: int, moment: int) -> int:
    """Return the share of `amount` for the part of [start, end) left after `moment`."""
    if end <= start or moment >= end:
        return 0
    moment = max(moment, start)
    share = Decimal(amount) * Decimal(end - moment) / Decimal(end - start)
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def next_boundary(anchor: int, after: int, interval: str, count: int = 1) -> int:
    """Return the first instant `anchor + k intervals` (k >= 1) later than `after`."""
    if interval in ("day", "week"):
        step = count * (DAY if interval == "day" else 7 * DAY)
        return anchor + ((after - anchor) // step + 1) * step
    months = count * (12 if interval == "year" else 1)
    start, end = datetime.fromtimestamp(anchor, UTC), datetime.fromtimestamp(after, UTC)
    # Start from the whole steps between the two calendar months, then walk forward.
    steps = max(((end.year - start.year) * 12 + end.month - start.month) // months, 1)
    while steps > 1 and add_months(anchor, (steps - 1) * months) > after:
        steps -= 1
    while add_months(anchor, steps * months) <= after:
        steps += 1
    return add_months(anchor, steps * months)
