"""The parameters of every metrics read, checked once for the API, the CLI and the dashboard."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from revlens.analytics.days import SeriesInterval, add_months_to_day
from revlens.analytics.presets import PRESETS

MAX_DAYS = 366 * 10
DEFAULT_SPAN_DAYS = {SeriesInterval.DAY: 30, SeriesInterval.WEEK: 7 * 12}


class BadParameter(ValueError):
    """A parameter that cannot be used, with a message for the person who sent it."""


@dataclass(frozen=True)
class Query:
    """A checked request: the periods (start, end] by `interval`, in one preset and currency."""

    start: date
    end: date
    interval: SeriesInterval
    preset: str
    currency: str | None


def parse_date(value: str | None, name: str) -> date | None:
    """Return the date of a YYYY-MM-DD string (None stays None)."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadParameter(f"{name} must be a date as YYYY-MM-DD, not {value!r}") from None


def parse_interval(value: str | None) -> SeriesInterval:
    """Return the interval named (month by default)."""
    try:
        return SeriesInterval(value or "month")
    except ValueError:
        raise BadParameter(f"interval must be day, week or month, not {value!r}") from None


def parse_preset(value: str | None) -> str:
    """Return the preset named (standard by default)."""
    preset = value or "standard"
    if preset not in PRESETS:
        raise BadParameter(f"preset must be one of {', '.join(PRESETS)}, not {value!r}")
    return preset


def parse_currency(value: str | None) -> str | None:
    """Return a lower-case ISO currency code, or None for the account's main currency."""
    if not value:
        return None
    if len(value) != 3 or not value.isalpha():
        raise BadParameter(f"currency must be a three-letter ISO code, not {value!r}")
    return value.lower()


def limit_history(checked: Query, earliest: date | None) -> Query:
    """Start the query no earlier than `earliest` (the plan's history depth), if it is set."""
    if earliest is None or checked.start >= earliest:
        return checked
    if checked.end <= earliest:
        raise BadParameter(
            f"this plan shows history from {earliest} on: end must be after {earliest}"
        )
    return replace(checked, start=earliest)


def today() -> date:
    """Return today's UTC date."""
    return datetime.now(UTC).date()


def query(
    *,
    start: str | None,
    end: str | None,
    interval: str | None = None,
    preset: str | None = None,
    currency: str | None = None,
) -> Query:
    """Return the checked query; `end` defaults to today, `start` to a span that suits the interval.

    The series covers the days in (start, end]: its first row is the period after `start`.
    """
    parsed_interval = parse_interval(interval)
    last = parse_date(end, "end") or today()
    first = parse_date(start, "start")
    if first is None:
        if parsed_interval is SeriesInterval.MONTH:
            first = date.fromordinal(add_months_to_day(last.toordinal(), -12))
        else:
            first = last - timedelta(days=DEFAULT_SPAN_DAYS[parsed_interval])
    if first >= last:
        raise BadParameter(f"start ({first}) must be before end ({last})")
    if (last - first).days > MAX_DAYS:
        raise BadParameter(f"the range may span at most {MAX_DAYS} days")
    return Query(first, last, parsed_interval, parse_preset(preset), parse_currency(currency))
