"""Writing derived metrics: full recomputes, per-customer refreshes, and the marks asking for them.

A recompute of one preset locks its state row first, so two refreshes of an account never
interleave: the later one reads the mirror after the earlier one committed. Callers commit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from revlens.analytics.presets import PRESETS
from revlens.db.types import utcnow
from revlens.metrics import compute, inputs
from revlens.metrics.compute import Rows
from revlens.metrics.models import (
    MetricCashDay,
    MetricCustomer,
    MetricDirty,
    MetricEventOwner,
    MetricMovement,
    MetricState,
)
from revlens.mirror.models import StripeEvent

DEFAULT_PRESET = "standard"
CASH = "*cash"  # the dirty mark of an account's cash (no customer id starts with *)
READY = "ready"
PENDING = "pending"
CUSTOMER_OBJECTS = frozenset({"subscription", "invoice", "customer", "discount"})
CASH_OBJECTS = frozenset({"charge", "refund", "dispute", "balance_transaction"})
CHUNK = 500
MOVEMENT_COLUMNS = (
    *("account_id", "preset", "customer_id", "currency", "day", "kind"),
    *("amount", "before", "after", "changes"),
)


@dataclass(frozen=True)
class Recomputed:
    """What a recompute wrote."""

    account_id: str
    presets: tuple[str, ...]
    customers: int
    movements: int
    cash_days: int


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(table)


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _locked_states(
    session: Session, account_id: str, presets: Iterable[str] | None
) -> list[MetricState]:
    """Return the account's state rows (creating the named ones), locked, ordered by preset."""
    named = None if presets is None else set(presets)
    wanted = {DEFAULT_PRESET, *(named or ())}
    for preset in wanted:
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    session.execute(
        _insert(session, MetricState.__table__).on_conflict_do_nothing(
            index_elements=["account_id", "preset"]
        ),
        [
            {
                "account_id": account_id,
                "preset": preset,
                "status": PENDING,
                "version": 0,
                "rebuilt_version": 0,
                "customers": 0,
            }
            for preset in sorted(wanted)
        ],
    )
    query = (
        select(MetricState)
        .where(MetricState.account_id == account_id)
        .order_by(MetricState.preset)
        .with_for_update()
    )
    states = list(session.scalars(query))
    if named is not None:
        states = [state for state in states if state.preset in named]
    return states


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _delete(session: Session, state: MetricState, *, customers: Collection[str] | None) -> None:
    """Delete the rows of some customers (None: every customer) of a preset."""
    for table in (MetricCustomer, MetricMovement):
        scope = delete(table).where(
            table.account_id == state.account_id, table.preset == state.preset
        )
        if customers is None:
            session.execute(scope)
        else:
            for chunk in _chunks(sorted(customers)):
                session.execute(scope.where(table.customer_id.in_(chunk)))


def _insert_rows(session: Session, state: MetricState, rows: Rows) -> int:
    """Insert the rows of some customers; return the movements written."""
    account_id, preset, version = state.account_id, state.preset, state.version
    _insert_json_rows(
        session,
        _table(MetricCustomer),
        ("account_id", "preset", "version", "customer_id", "data"),
        [(account_id, preset, version, *row) for row in rows.customers],
    )
    _insert_json_rows(
        session,
        _table(MetricMovement),
        MOVEMENT_COLUMNS,
        [(account_id, preset, *row) for row in rows.movements],
    )
    return len(rows.movements)


def _insert_json_rows(
    session: Session, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """Insert rows whose last column is JSON text, through the driver's executemany.

    A recompute writes hundreds of thousands of rows: SQLAlchemy's per-row parameter
    processing cost more than the driver's own insert, and the JSON was encoded by the workers.
    """
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    json_mark = mark if dialect.name == "sqlite" else f"CAST({mark} AS JSON)"
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(column) for column in columns)
    marks = ", ".join([mark] * (len(columns) - 1) + [json_mark])
    # Names come from the table definitions; every value is bound.
    statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"  # noqa: S608
    connection.exec_driver_sql(statement, rows)


def _bump(state: MetricState, now: datetime, *, rebuilt: bool) -> None:
    state.version += 1
    if rebuilt:
        state.rebuilt_version = state.version
    state.status = READY
    state.computed_at = now
    state.error = None


def recompute_account(
    session: Session,
    *,
    account_id: str,
    presets: Iterable[str] | None = None,
    now: datetime | None = None,
    workers: int | None = None,
) -> Recomputed:
    """Recompute every customer and the cash of an account.

    With `presets`, exactly those presets are (created and) recomputed; by default every
    materialised preset of the account, the default one included, and the dirty marks are
    cleared since everything they asked for is recomputed. `workers` processes share the
    per-customer work (default: by the account's size and the cores; 0: none).
    """
    now = now or utcnow()
    states = _locked_states(session, account_id, presets)
    if presets is None:
        _claim_dirty(session, account_id)
    presets_named = [state.preset for state in states]
    with compute.gc_paused():
        known = inputs.catalog(session, account_id=account_id)
        if workers is None:
            workers = compute.default_workers(inputs.customer_count(session, account_id=account_id))
        with compute.computation(known, presets_named, workers=workers) as computation:
            found, unindexed = inputs.bundles(session, account_id=account_id)
            chunks = computation.run(found)  # the workers compute while the old rows go
            index_events(session, account_id=account_id, events=unindexed)
            for state in states:
                _bump(state, now, rebuilt=True)
                _delete(session, state, customers=None)
                state.customers = 0
            cash_days = recompute_cash(session, account_id=account_id)  # while the workers run
            movements = 0
            for chunk in chunks:
                for state in states:
                    movements += _insert_rows(session, state, chunk[state.preset])
                    state.customers += len(chunk[state.preset].customers)
        session.flush()
    return Recomputed(account_id, tuple(s.preset for s in states), len(found), movements, cash_days)


def recompute_customers(
    session: Session, *, account_id: str, customers: Collection[str], now: datetime | None = None
) -> int:
    """Recompute some customers of an account in every materialised preset; return movements."""
    if not customers:
        return 0
    now = now or utcnow()
    states = _locked_states(session, account_id, None)
    histories = inputs.histories(session, account_id=account_id, customers=customers)
    movements = 0
    for state in states:
        rows = compute.rows_of(compute.contributions(histories, state.preset))
        _bump(state, now, rebuilt=False)
        _delete(session, state, customers=customers)
        movements += _insert_rows(session, state, rows)
    session.flush()
    return movements


def recompute_cash(session: Session, *, account_id: str) -> int:
    """Rewrite the account's daily cash from the mirrored payments; return the days written."""
    book = inputs.cash_book(session, account_id=account_id)
    session.execute(delete(MetricCashDay).where(MetricCashDay.account_id == account_id))
    rows = [
        {
            "account_id": account_id,
            "currency": currency,
            "day": day,
            "gross_volume": totals.gross_volume,
            "refunds": totals.refunds,
            "dispute_losses": totals.dispute_losses,
            "fees": totals.fees,
            "failed_charges": totals.failed_charges,
            "failed_amount": totals.failed_amount,
            "application_fees": totals.application_fees,
        }
        for currency, days in book.items()
        for day, totals in days.items()
    ]
    if rows:
        session.execute(insert(_table(MetricCashDay)), rows)
    return len(rows)


def event_subject(event: dict[str, Any]) -> str | None:
    """Return what an event changes for metrics: a customer id, CASH, or None."""
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        return None
    kind = obj.get("object")
    if kind in CASH_OBJECTS:
        return CASH
    if kind not in CUSTOMER_OBJECTS:
        return None
    owner = obj.get("id") if kind == "customer" else obj.get("customer")
    if isinstance(owner, dict):
        owner = owner.get("id")
    return owner if isinstance(owner, str) and owner else None


def index_events(session: Session, *, account_id: str, events: Iterable[dict[str, Any]]) -> int:
    """Record which customer each subscription or discount event belongs to; return new rows."""
    rows = [
        {"account_id": account_id, "event_id": event_id, "customer_id": customer}
        for event_id, customer in sorted(inputs.event_owners(events).items())
    ]
    written = 0
    for start in range(0, len(rows), CHUNK * 10):
        statement = _insert(session, MetricEventOwner.__table__).on_conflict_do_nothing(
            index_elements=["account_id", "event_id"]
        )
        result = session.execute(
            statement.returning(MetricEventOwner.__table__.c.event_id),
            rows[start : start + CHUNK * 10],
        )
        written += len(result.all())
    return written


def mark_dirty(session: Session, *, account_id: str, subjects: Iterable[str]) -> int:
    """Ask for a refresh of some customers (or CASH); return how many marks were new."""
    rows = [
        {"account_id": account_id, "subject": subject, "marked_at": utcnow()}
        for subject in sorted(set(subjects))
    ]
    if not rows:
        return 0
    statement = _insert(session, MetricDirty.__table__).on_conflict_do_nothing(
        index_elements=["account_id", "subject"]
    )
    result = session.execute(statement.returning(MetricDirty.__table__.c.subject), rows)
    return len(result.all())


def _claim_dirty(session: Session, account_id: str) -> set[str]:
    statement = (
        delete(MetricDirty)
        .where(MetricDirty.account_id == account_id)
        .returning(MetricDirty.subject)
    )
    return set(session.scalars(statement))


def refresh_dirty(session: Session, *, account_id: str) -> int:
    """Recompute what was marked dirty for an account; return how many subjects were refreshed.

    Before the account's metrics were first computed there is nothing to refresh: the marks
    stay for that first recompute, which covers them (during a first backfill, refreshing the
    cash at every event re-read a mirror still being filled, 5 % of the workers' CPU).
    """
    states = _locked_states(session, account_id, None)  # serialises refreshes of one account
    if all(state.computed_at is None for state in states):
        return 0
    claimed = _claim_dirty(session, account_id)
    customers = {subject for subject in claimed if subject != CASH}
    recompute_customers(session, account_id=account_id, customers=customers)
    if CASH in claimed:
        recompute_cash(session, account_id=account_id)
    return len(claimed)


def request_preset(session: Session, *, account_id: str, preset: str) -> MetricState:
    """Return the preset's state, creating it (pending) so that the next recompute fills it."""
    states = _locked_states(session, account_id, {preset})
    return next(state for state in states if state.preset == preset)


def mark_events(
    session: Session,
    *,
    account_id: str,
    event_ids: Collection[str] = (),
    received_since: datetime | None = None,
) -> int:
    """Mark dirty what stored events changed (by id, or every event received since an instant).

    Return how many marks are new: zero means a refresh is already asked for.
    """
    if not event_ids and received_since is None:
        return 0
    query = select(StripeEvent.data).where(StripeEvent.account_id == account_id)
    if received_since is not None:
        query = query.where(StripeEvent.received_at >= received_since)
    else:
        query = query.where(StripeEvent.event_id.in_(sorted(event_ids)))
    events = list(session.scalars(query))
    index_events(session, account_id=account_id, events=events)
    subjects = (event_subject(event) for event in events)
    return mark_dirty(
        session, account_id=account_id, subjects=[s for s in subjects if s is not None]
    )
