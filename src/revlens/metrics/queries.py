"""Reading derived metrics: series, movements, customers, a customer's timeline, cohorts.

Series and cohorts need every customer's contribution (rates count customers, not totals), so
they run on a ledger rebuilt from the stored rows. A `MetricsCache` keeps that ledger per
(account, preset) and brings it up to date from the rows written since its version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from revlens.analytics.cash import CashByDay, CashTotals
from revlens.analytics.cohorts import Cohort, cohorts
from revlens.analytics.days import date_of
from revlens.analytics.ledger import Ledger
from revlens.analytics.movements import MovementKind
from revlens.analytics.mrr import value_at_day
from revlens.analytics.series import Series, compute_series
from revlens.errors import RevlensError
from revlens.metrics.cache import MetricsCache, load_ledger
from revlens.metrics.codec import decode
from revlens.metrics.models import MetricCashDay, MetricCustomer, MetricMovement, MetricState
from revlens.metrics.params import Query
from revlens.metrics.service import READY
from revlens.mirror.models import MirroredObject

T = TypeVar("T")
FALLBACK_CURRENCY = "usd"


class MetricsNotReady(RevlensError):
    """The preset has not been computed for the account yet."""


def state_of(session: Session, *, account_id: str, preset: str) -> MetricState | None:
    """Return the preset's state for the account, if it was ever asked for."""
    return session.scalars(
        select(MetricState).where(
            MetricState.account_id == account_id, MetricState.preset == preset
        )
    ).one_or_none()


def ready_state(session: Session, *, account_id: str, preset: str) -> MetricState:
    """Return the preset's state, or raise MetricsNotReady when it has not been computed."""
    state = state_of(session, account_id=account_id, preset=preset)
    if state is None or state.status != READY:
        raise MetricsNotReady(
            f"the {preset!r} metrics of this account are not computed yet; they have been "
            "queued, try again shortly"
        )
    return state


def _use_ledger(
    session: Session,
    state: MetricState,
    cache: MetricsCache | None,
    key: tuple[Any, ...],
    use: Callable[[Ledger], T],
) -> T:
    if cache is None:
        return use(load_ledger(session, state))
    return cache.memo(session, state, key, use)


def main_currency(ledger: Ledger, day: int) -> str | None:
    """Return the currency with the most MRR on a day (None when there is no MRR at all)."""
    totals = {c: ledger.full_dense(c, "mrr").level(day) for c in ledger.currencies()}
    if not totals:
        return None
    return max(sorted(totals), key=lambda currency: totals[currency])


def _cash(session: Session, account_id: str, currency: str, start: int, end: int) -> CashByDay:
    table = MetricCashDay.__table__
    rows = session.execute(
        select(
            table.c.day,
            table.c.gross_volume,
            table.c.refunds,
            table.c.dispute_losses,
            table.c.fees,
            table.c.failed_charges,
            table.c.failed_amount,
            table.c.application_fees,
        ).where(
            table.c.account_id == account_id,
            table.c.currency == currency,
            table.c.day > start,
            table.c.day <= end,
        )
    )
    return {currency: {row[0]: CashTotals(*row[1:]) for row in rows}}


def _cash_currency(session: Session, account_id: str) -> str | None:
    return session.scalar(
        select(MetricCashDay.currency).where(MetricCashDay.account_id == account_id).limit(1)
    )


@dataclass(frozen=True)
class SeriesReport:
    """A series with everything needed to reproduce it."""

    account: str
    preset: str
    as_of: datetime | None
    series: Series


def series(
    session: Session, *, account_id: str, query: Query, cache: MetricsCache | None = None
) -> SeriesReport:
    """Return the metrics of every period of the query, in its (or the main) currency."""
    state = ready_state(session, account_id=account_id, preset=query.preset)
    first, last = query.start.toordinal(), query.end.toordinal()

    def currency_of(ledger: Ledger) -> str:
        return (
            query.currency
            or main_currency(ledger, last)
            or _cash_currency(session, account_id)
            or FALLBACK_CURRENCY
        )

    currency = _use_ledger(session, state, cache, ("currency", query.currency, last), currency_of)
    cash = _cash(session, account_id, currency, first, last)
    key = ("series", currency, first, last, query.interval.value, _cash_key(cash))

    def compute(ledger: Ledger) -> Series:
        return compute_series(
            ledger, currency=currency, start=first, end=last, interval=query.interval, cash=cash
        )

    return SeriesReport(
        account_id,
        query.preset,
        state.computed_at,
        _use_ledger(session, state, cache, key, compute),
    )


def _cash_key(cash: CashByDay) -> int:
    # Cash is not versioned with the preset: its content is part of the cache key.
    return hash(tuple(sorted((c, d, t) for c, days in cash.items() for d, t in days.items())))


@dataclass(frozen=True)
class MovementRow:
    """One customer movement, explained."""

    date: date
    kind: str
    amount: int
    currency: str
    customer: str
    before: int
    after: int
    changes: list[dict[str, Any]]


def movements(
    session: Session,
    *,
    account_id: str,
    query: Query,
    customer: str | None = None,
) -> list[MovementRow]:
    """Return the movements in (start, end], by day then customer (all currencies unless set)."""
    ready_state(session, account_id=account_id, preset=query.preset)
    statement = select(MetricMovement).where(
        MetricMovement.account_id == account_id,
        MetricMovement.preset == query.preset,
        MetricMovement.day > query.start.toordinal(),
        MetricMovement.day <= query.end.toordinal(),
    )
    if query.currency:
        statement = statement.where(MetricMovement.currency == query.currency)
    if customer is not None:
        statement = statement.where(MetricMovement.customer_id == customer)
    statement = statement.order_by(
        MetricMovement.day, MetricMovement.customer_id, MetricMovement.currency
    )
    return [_movement_row(row) for row in session.scalars(statement)]


def _movement_row(row: MetricMovement) -> MovementRow:
    return MovementRow(
        date=date_of(row.day),
        kind=row.kind,
        amount=row.amount,
        currency=row.currency,
        customer=row.customer_id,
        before=row.before,
        after=row.after,
        changes=list(row.changes or ()),
    )


@dataclass(frozen=True)
class CustomerTimeline:
    """A customer's end-of-day MRR on every day it changed, and its movements."""

    customer: str
    name: str | None
    email: str | None
    preset: str
    mrr: dict[str, list[tuple[date, int]]]
    movements: list[MovementRow]


def _customer_object(session: Session, account_id: str, customer: str) -> dict[str, Any]:
    found = session.scalar(
        select(MirroredObject.data).where(
            MirroredObject.account_id == account_id,
            MirroredObject.object_type == "customer",
            MirroredObject.stripe_id == customer,
        )
    )
    return found or {}


def customer_timeline(
    session: Session, *, account_id: str, preset: str, customer: str, since: date | None = None
) -> CustomerTimeline | None:
    """Return one customer's MRR timeline and movements (None when revlens knows no such one).

    With `since` (a plan's history depth) nothing earlier is shown: the timeline starts that day
    at the MRR the customer had then.
    """
    ready_state(session, account_id=account_id, preset=preset)
    data = session.scalar(
        select(MetricCustomer.data).where(
            MetricCustomer.account_id == account_id,
            MetricCustomer.preset == preset,
            MetricCustomer.customer_id == customer,
        )
    )
    stored = _customer_object(session, account_id, customer)
    if data is None and not stored:
        return None
    contribution = decode(customer, data or {})
    rows = session.scalars(
        select(MetricMovement)
        .where(
            MetricMovement.account_id == account_id,
            MetricMovement.preset == preset,
            MetricMovement.customer_id == customer,
        )
        .order_by(MetricMovement.day, MetricMovement.currency)
    )
    return CustomerTimeline(
        customer=customer,
        name=stored.get("name"),
        email=stored.get("email"),
        preset=preset,
        mrr={
            currency: _from_day([(date_of(day), value) for day, value in daily], since)
            for currency, daily in sorted(contribution.daily.items())
        },
        movements=[
            movement
            for movement in map(_movement_row, rows)
            if since is None or movement.date >= since
        ],
    )


def _from_day(points: list[tuple[date, int]], since: date | None) -> list[tuple[date, int]]:
    """The change points from `since` on, led by the value carried into that day."""
    if since is None:
        return points
    carried = [value for day, value in points if day < since]
    kept = [(day, value) for day, value in points if day >= since]
    if carried and (not kept or kept[0][0] != since):
        kept.insert(0, (since, carried[-1]))
    return kept


@dataclass(frozen=True)
class CustomerRow:
    """A customer's MRR on a day, with when it first paid and its latest movement."""

    customer: str
    name: str | None
    email: str | None
    currency: str
    mrr: int
    first_paid: date | None
    last_movement: str | None
    last_movement_date: date | None


def customers(
    session: Session,
    *,
    account_id: str,
    query: Query,
    limit: int = 100,
    cache: MetricsCache | None = None,
) -> tuple[str, list[CustomerRow]]:
    """Return the currency and its customers by MRR on the end date (those who ever paid)."""
    state = ready_state(session, account_id=account_id, preset=query.preset)
    last = query.end.toordinal()

    def pick(ledger: Ledger) -> tuple[str, list[CustomerRow]]:
        currency = query.currency or main_currency(ledger, last) or FALLBACK_CURRENCY
        found: list[CustomerRow] = []
        for contribution in ledger.contributions():
            daily = contribution.daily.get(currency)
            if not daily:
                continue
            own = [m for m in contribution.movements if m.currency == currency and m.day <= last]
            first = next((m.day for m in own if m.kind is MovementKind.NEW), None)
            if first is None:
                continue
            latest = own[-1] if own else None
            found.append(
                CustomerRow(
                    customer=contribution.customer,
                    name=None,
                    email=None,
                    currency=currency,
                    mrr=value_at_day(daily, last),
                    first_paid=date_of(first),
                    last_movement=latest.kind.value if latest else None,
                    last_movement_date=date_of(latest.day) if latest else None,
                )
            )
        found.sort(key=lambda row: (-row.mrr, row.customer))
        return currency, found[:limit]

    currency, rows = _use_ledger(
        session, state, cache, ("customers", query.currency, last, limit), pick
    )
    names = _names(session, account_id, [row.customer for row in rows])
    return currency, [
        CustomerRow(
            row.customer,
            names.get(row.customer, (None, None))[0],
            names.get(row.customer, (None, None))[1],
            row.currency,
            row.mrr,
            row.first_paid,
            row.last_movement,
            row.last_movement_date,
        )
        for row in rows
    ]


def _names(
    session: Session, account_id: str, ids: list[str]
) -> dict[str, tuple[str | None, str | None]]:
    if not ids:
        return {}
    rows = session.scalars(
        select(MirroredObject.data).where(
            MirroredObject.account_id == account_id,
            MirroredObject.object_type == "customer",
            MirroredObject.stripe_id.in_(ids),
        )
    )
    return {str(obj["id"]): (obj.get("name"), obj.get("email")) for obj in rows}


def cohort_table(
    session: Session, *, account_id: str, query: Query, cache: MetricsCache | None = None
) -> tuple[str, list[Cohort]]:
    """Return the currency and the monthly cohorts that began in (start, end], followed to end."""
    state = ready_state(session, account_id=account_id, preset=query.preset)
    first, last = query.start.toordinal(), query.end.toordinal()

    def compute(ledger: Ledger) -> tuple[str, list[Cohort]]:
        currency = query.currency or main_currency(ledger, last) or FALLBACK_CURRENCY
        found = cohorts(ledger, currency=currency, through=last)
        start_month = date_of(first + 1).replace(day=1)
        return currency, [cohort for cohort in found if cohort.month >= start_month]

    return _use_ledger(session, state, cache, ("cohorts", query.currency, first, last), compute)
