"""Per-customer statistics over many windows (start, end] at once, without a per-day loop.

A customer is paying at the end of day x when x falls in one of its paying episodes [first, stop).
Counting "paying at start, not at end" for a family of windows whose starts and ends both never
decrease costs four bisections per episode, whatever the number of windows.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence

from revlens.analytics.days import Day
from revlens.analytics.mrr import DailySteps, value_at_day

Episode = tuple[Day, Day | None]
"""Days [first, stop) on whose end the customer was paying; stop None = still paying."""

Window = tuple[Day, Day]
"""A period (start, end] of days."""


def episodes(daily: DailySteps) -> tuple[Episode, ...]:
    """Return the paying episodes of a daily MRR step function."""
    found: list[Episode] = []
    first: Day | None = None
    for day, value in daily:
        if value > 0 and first is None:
            first = day
        elif value <= 0 and first is not None:
            found.append((first, day))
            first = None
    if first is not None:
        found.append((first, None))
    return tuple(found)


def churned_counts(
    customer_episodes: Iterable[Sequence[Episode]], windows: Sequence[Window]
) -> list[int]:
    """Return, per window, the customers paying at its start and not paying at its end."""
    starts = [start for start, _ in windows]
    ends = [end for _, end in windows]
    size = len(windows)
    diff = [0] * (size + 1)
    for spans in customer_episodes:
        for index, (first, stop) in enumerate(spans):
            if stop is None:
                continue
            following = spans[index + 1][0] if index + 1 < len(spans) else None
            low = max(bisect_left(starts, first), bisect_left(ends, stop))
            high = min(
                bisect_left(starts, stop),
                size if following is None else bisect_left(ends, following),
            )
            if low < high:
                diff[low] += 1
                diff[high] -= 1
    counts: list[int] = []
    running = 0
    for index in range(size):
        running += diff[index]
        counts.append(running)
    return counts


def retention_corrections(
    customer_daily: Iterable[DailySteps], windows: Sequence[Window]
) -> tuple[list[int], list[int]]:
    """Return per contiguous window the NRR and GRR corrections to add to MRR at start.

    NRR numerator = MRR(start) + sum over starting customers of (MRR(end) - MRR(start));
    GRR numerator = MRR(start) + sum of min(0, MRR(end) - MRR(start)). Only customers whose MRR
    changed inside a window contribute, so the cost follows the changes, not the windows.
    """
    ends = [end for _, end in windows]
    first_start = windows[0][0] if windows else 0
    last_end = ends[-1] if ends else 0
    nrr = [0] * len(windows)
    grr = [0] * len(windows)
    for daily in customer_daily:
        touched: set[int] = set()
        for day, _ in daily:
            if first_start < day <= last_end:
                touched.add(bisect_left(ends, day))
        for index in touched:
            start, end = windows[index]
            before = value_at_day(daily, start)
            if before <= 0:
                continue
            after = value_at_day(daily, end)
            nrr[index] += after - before
            grr[index] += min(after - before, 0)
    return nrr, grr
