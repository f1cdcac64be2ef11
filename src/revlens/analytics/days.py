"""Local days and calendar periods: instants map to days in the reporting timezone.

A day is the proleptic Gregorian ordinal of a local date (`date.toordinal()`), so days are ints
that index arrays cheaply. "The end of day D" is the last instant before the next local midnight.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from revlens.analytics.model import Instant, Interval

Day = int
"""`date.toordinal()` of a local date."""

EPOCH_DAY = date(1970, 1, 1).toordinal()
SECONDS_PER_DAY = 86_400


class SeriesInterval(StrEnum):
    """The length of one row of a series."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, slots=True)
class LocalDays:
    """Maps instants to local days and back in one timezone (UTC by plain arithmetic)."""

    timezone: str = "UTC"
    _zone: ZoneInfo | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        zone = None if self.timezone.upper() == "UTC" else ZoneInfo(self.timezone)
        object.__setattr__(self, "_zone", zone)

    def day_of(self, instant: Instant) -> Day:
        """Return the local day an instant falls in."""
        if self._zone is None:
            return instant // SECONDS_PER_DAY + EPOCH_DAY
        return datetime.fromtimestamp(instant, self._zone).date().toordinal()

    def next_midnight(self, day: Day) -> Instant:
        """Return the first instant of the next local day; `day` ends one second before."""
        if self._zone is None:
            return (day + 1 - EPOCH_DAY) * SECONDS_PER_DAY
        local = datetime.combine(date.fromordinal(day + 1), datetime.min.time(), self._zone)
        return int(local.timestamp())

    def end_of(self, day: Day) -> Instant:
        """Return the last instant (second) of the local day."""
        return self.next_midnight(day) - 1


def day_from_date(value: date) -> Day:
    """Return the day ordinal of a date."""
    return value.toordinal()


def date_of(day: Day) -> date:
    """Return the date of a day ordinal."""
    return date.fromordinal(day)


def month_index(day: Day) -> int:
    """Return a month counter (year x 12 + month - 1) for cohort arithmetic."""
    value = date.fromordinal(day)
    return value.year * 12 + value.month - 1


def last_day_of_month(day: Day) -> Day:
    """Return the last day of the month containing the day."""
    value = date.fromordinal(day)
    return value.replace(day=calendar.monthrange(value.year, value.month)[1]).toordinal()


def add_months_to_day(day: Day, months: int) -> Day:
    """Return the same day of month `months` later, clamped to the month's length."""
    value = date.fromordinal(day)
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    length = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(value.day, length)).toordinal()


def period_ends(start: Day, end: Day, interval: SeriesInterval) -> list[Day]:
    """Return the last day of every period in (start, end]; the last one is clamped to `end`."""
    ends: list[Day] = []
    day = start + 1
    while day <= end:
        if interval is SeriesInterval.DAY:
            last = day
        elif interval is SeriesInterval.WEEK:
            last = day + (6 - date.fromordinal(day).weekday())  # ISO weeks end on Sunday
        else:
            last = last_day_of_month(day)
        ends.append(min(last, end))
        day = last + 1
    return ends


def advance(instant: Instant, interval: Interval, count: int) -> Instant:
    """Return the instant `count` intervals later, months clamped to their length as Stripe does."""
    if interval is Interval.DAY:
        return instant + count * SECONDS_PER_DAY
    if interval is Interval.WEEK:
        return instant + count * 7 * SECONDS_PER_DAY
    months = count if interval is Interval.MONTH else count * 12
    moment = datetime.fromtimestamp(instant, UTC)
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    length = calendar.monthrange(year, month + 1)[1]
    moved = moment.replace(year=year, month=month + 1, day=min(moment.day, length))
    return int(moved.timestamp())


def instant_of(value: date, hour: int = 0) -> Instant:
    """Return the UTC instant of a date at an hour (handy for building data)."""
    return int(datetime.combine(value, datetime.min.time(), UTC).timestamp()) + hour * 3600
