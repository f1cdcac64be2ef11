"""Billing periods: stepping by a price's interval on the calendar, and prorating within one."""

from __future__ import annotations

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


def prorate(amount: int, start: int, end: int, moment: int) -> int:
    """Return the share of `amount` for the part of [start, end) left after `moment`."""
    if end <= start or moment >= end:
        return 0
    moment = max(moment, start)
    share = Decimal(amount) * Decimal(end - moment) / Decimal(end - start)
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))
