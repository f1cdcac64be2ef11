"""Metrics as plain rows: one shape for the JSON API, CSV downloads and the command line."""

from __future__ import annotations

import csv
import io
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from fractions import Fraction
from typing import Any

import orjson

from revlens.analytics.cohorts import Cohort
from revlens.analytics.money import minor_unit_digits, to_major
from revlens.analytics.series import SeriesRow
from revlens.metrics.queries import CustomerRow, CustomerTimeline, MovementRow, SeriesReport

SERIES_FIELDS = (
    "date",
    "mrr",
    "arr",
    "paying_customers",
    "new",
    "expansion",
    "contraction",
    "churn",
    "reactivation",
    "customer_churn_rate",
    "gross_mrr_churn_rate",
    "net_mrr_churn_rate",
    "nrr",
    "grr",
    "arpa",
    "ltv",
    "quick_ratio",
    "trial_conversion",
    "gross_volume",
    "refunds",
    "fees",
    "net_revenue",
    "failed_charges",
    # Beyond the documented columns: kept last so that the first ones never move.
    "mrr_growth_rate",
    "fx_impact",
    "dispute_losses",
    "failed_amount",
    "application_fees",
)
MOVEMENT_FIELDS = (
    "date",
    "type",
    "amount",
    "currency",
    "customer",
    "before",
    "after",
    "explanation",
    "subscriptions",
    "sources",
)
COHORT_FIELDS = (
    "cohort",
    "customers",
    "month",
    "paying",
    "mrr",
    "customer_retention",
    "net_mrr_retention",
)
TIMELINE_FIELDS = ("date", "currency", "mrr", "type", "amount")
CUSTOMER_FIELDS = (
    "customer",
    "name",
    "email",
    "currency",
    "mrr",
    "first_paid",
    "last_movement",
    "last_movement_date",
)
RATE_DIGITS = 6


def rate(value: Fraction | None) -> float | None:
    """Return a ratio as a float (6 decimals), None staying None."""
    return None if value is None else round(float(value), RATE_DIGITS)


def _plain(value: Any) -> Any:
    if isinstance(value, Fraction):
        return rate(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# The ratio columns (Fraction or None); every other column but `date` is an int (or None).
_RATIOS = frozenset(
    {
        "customer_churn_rate",
        "gross_mrr_churn_rate",
        "net_mrr_churn_rate",
        "nrr",
        "grr",
        "quick_ratio",
        "trial_conversion",
        "mrr_growth_rate",
    }
)
_INTS = tuple(name for name in SERIES_FIELDS if name != "date" and name not in _RATIOS)


def _plain_row(row: SeriesRow) -> dict[str, Any]:
    # getattr rather than dataclasses.asdict, which deep-copies every value of every row; the
    # column kinds are known, so no value is inspected (a 3-year daily series has 30,000).
    plain: dict[str, Any] = {}
    for name in SERIES_FIELDS:
        value = getattr(row, name)
        if name in _RATIOS:
            value = None if value is None else round(float(value), RATE_DIGITS)
        elif name == "date":
            value = value.isoformat()
        plain[name] = value
    return plain


class _RowMemo:
    """The plain and JSON forms of series rows, by row identity.

    A ledger shares its one-day rows between every window until a contribution changes, so
    most rows of a daily series were exported by an earlier request. Each entry keeps its row
    alive: an identity is never reused while its entry exists.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._found: OrderedDict[int, tuple[SeriesRow, dict[str, Any], bytes]] = OrderedDict()

    def get(self, row: SeriesRow) -> tuple[dict[str, Any], bytes]:
        """Return the row's plain values (not to be changed) and their JSON."""
        key = id(row)
        with self._lock:
            found = self._found.get(key)
            if found is not None and found[0] is row:
                self._found.move_to_end(key)
                return found[1], found[2]
        plain = _plain_row(row)
        encoded = orjson.dumps(plain)
        with self._lock:
            self._found[key] = (row, plain, encoded)
            self._found.move_to_end(key)
            while len(self._found) > self._size:
                self._found.popitem(last=False)
        return plain, encoded


_rows = _RowMemo(16_384)


def series_rows(report: SeriesReport) -> list[dict[str, Any]]:
    """Return the series as rows of plain values, in SERIES_FIELDS order."""
    return [dict(_rows.get(row)[0]) for row in report.series.rows]


def _series_head(report: SeriesReport) -> dict[str, Any]:
    return {
        "account": report.account,
        "currency": report.series.currency,
        "preset": report.preset,
        "settings": report.series.settings,
        "interval": report.series.interval.value,
        "start": report.series.start.isoformat(),
        "end": report.series.end.isoformat(),
        "as_of": report.as_of.isoformat() if report.as_of else None,
    }


def series_document(report: SeriesReport) -> dict[str, Any]:
    """Return the series with the account, currency, preset and settings that produced it."""
    return {**_series_head(report), "series": series_rows(report)}


def series_json(report: SeriesReport) -> bytes:
    """Return `series_document` as JSON, each row encoded once while the ledger keeps it."""
    rows = [orjson.Fragment(_rows.get(row)[1]) for row in report.series.rows]
    return orjson.dumps({**_series_head(report), "series": rows})


def explain(changes: Sequence[Mapping[str, Any]]) -> str:
    """Return a movement's changes as one line a person can read."""
    parts = []
    for change in changes:
        target = change["subscription"] + (f"/{change['item']}" if change.get("item") else "")
        before = change.get("before") or "none"
        after = change.get("after") or "none"
        parts.append(f"{target}: {change['field']} {before} -> {after}")
    return "; ".join(parts)


def movement_json(row: MovementRow) -> dict[str, Any]:
    """Return a movement with its structured explanation."""
    return {
        "date": row.date.isoformat(),
        "type": row.kind,
        "amount": row.amount,
        "currency": row.currency,
        "customer": row.customer,
        "before": row.before,
        "after": row.after,
        "explanation": explain(row.changes),
        "changes": row.changes,
    }


def movement_csv_row(row: MovementRow) -> dict[str, Any]:
    """Return a movement flattened for CSV: subscriptions and Stripe ids joined by spaces."""
    sources = sorted({source for change in row.changes for source in change.get("sources", ())})
    return {
        **{k: v for k, v in movement_json(row).items() if k != "changes"},
        "subscriptions": " ".join(sorted({c["subscription"] for c in row.changes})),
        "sources": " ".join(sources),
    }


def timeline_rows(timeline: CustomerTimeline) -> list[dict[str, Any]]:
    """Return a customer's MRR changes, each with the movement of that day if one was counted."""
    movements = {(m.currency, m.date): m for m in timeline.movements}
    rows = []
    for currency, steps in timeline.mrr.items():
        for day, value in steps:
            movement = movements.get((currency, day))
            rows.append(
                {
                    "date": day.isoformat(),
                    "currency": currency,
                    "mrr": value,
                    "type": movement.kind if movement else None,
                    "amount": movement.amount if movement else None,
                }
            )
    return sorted(rows, key=lambda row: (row["date"], row["currency"]))


def timeline_document(account: str, timeline: CustomerTimeline) -> dict[str, Any]:
    """Return a customer's timeline and explained movements."""
    return {
        "account": account,
        "customer": timeline.customer,
        "name": timeline.name,
        "email": timeline.email,
        "preset": timeline.preset,
        "timeline": timeline_rows(timeline),
        "movements": [movement_json(m) for m in timeline.movements],
    }


def cohort_rows(found: Iterable[Cohort]) -> list[dict[str, Any]]:
    """Return one row per cohort and month since it began."""
    rows = []
    for cohort in found:
        for index, paying in enumerate(cohort.paying):
            rows.append(
                {
                    "cohort": cohort.month.strftime("%Y-%m"),
                    "customers": cohort.customers,
                    "month": index,
                    "paying": paying,
                    "mrr": cohort.mrr[index],
                    "customer_retention": rate(cohort.customer_retention[index]),
                    "net_mrr_retention": rate(cohort.net_mrr_retention[index]),
                }
            )
    return rows


def cohort_json(found: Iterable[Cohort]) -> list[dict[str, Any]]:
    """Return the cohorts, each with its months."""
    return [
        {
            "cohort": cohort.month.strftime("%Y-%m"),
            "customers": cohort.customers,
            "months": [
                {k: v for k, v in row.items() if k not in ("cohort", "customers")}
                for row in cohort_rows([cohort])
            ],
        }
        for cohort in found
    ]


def customer_rows(rows: Iterable[CustomerRow]) -> list[dict[str, Any]]:
    """Return customers as plain rows."""
    return [{k: _plain(v) for k, v in asdict(row).items()} for row in rows]


def to_csv(rows: Iterable[Mapping[str, Any]], fields: Sequence[str]) -> str:
    """Return rows as CSV with a header; None is an empty cell."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=list(fields), extrasaction="ignore", lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in fields})
    return out.getvalue()


def amount_text(minor: int | None, currency: str) -> str:
    """Return an amount for people: major units with separators (`1,234.56`, `¥500` as `500`)."""
    if minor is None:
        return "n/a"
    digits = minor_unit_digits(currency)
    return f"{float(to_major(minor, currency)):,.{digits}f}"


def rate_text(value: float | None) -> str:
    """Return a ratio as a percentage with one decimal, `n/a` for null."""
    return "n/a" if value is None else f"{value * 100:.1f}%"


TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("date", "date"),
    ("mrr", "amount"),
    ("arr", "amount"),
    ("paying_customers", "count"),
    ("new", "amount"),
    ("expansion", "amount"),
    ("contraction", "amount"),
    ("churn", "amount"),
    ("reactivation", "amount"),
    ("customer_churn_rate", "rate"),
    ("nrr", "rate"),
    ("arpa", "amount"),
    ("net_revenue", "amount"),
)


def table_cells(row: Mapping[str, Any], currency: str) -> list[str]:
    """Return a series row as the text of TABLE_COLUMNS."""
    cells = []
    for name, kind in TABLE_COLUMNS:
        value = row[name]
        if kind == "amount":
            cells.append(amount_text(value, currency))
        elif kind == "rate":
            cells.append(rate_text(value))
        else:
            cells.append(str(value))
    return cells
