"""Writing the mirror: upserts that never let an older state overwrite a newer one."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from revlens.db.engine import bind_mark
from revlens.db.types import utcnow
from revlens.mirror.models import MirroredObject, StripeEvent


@dataclass(frozen=True)
class Observed:
    """A Stripe object as seen at Stripe time `source_ts` (event `created`, or read time)."""

    account_id: str
    obj: dict[str, Any]
    source_ts: int
    deleted: bool = False


def _insert(session: Session, table: Any) -> Any:
    """Return the dialect's INSERT, which knows ON CONFLICT (both SQLite and PostgreSQL do)."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table)


def _customer_of(obj: dict[str, Any]) -> str | None:
    if obj.get("object") == "customer":
        return str(obj["id"])
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return customer if isinstance(customer, str) else None


def _row(observed: Observed) -> dict[str, Any]:
    obj = observed.obj
    status = obj.get("status")
    return {
        "account_id": observed.account_id,
        "object_type": str(obj["object"]),
        "stripe_id": str(obj["id"]),
        "livemode": bool(obj.get("livemode", False)),
        "created": next((obj[k] for k in ("created", "date") if isinstance(obj.get(k), int)), None),
        "customer_id": _customer_of(obj),
        "status": status if isinstance(status, str) else None,
        "source_ts": observed.source_ts,
        "synced_at": utcnow(),
        "deleted_at": observed.source_ts if observed.deleted else None,
        "data": obj,
    }


_COLUMNS = (
    "account_id",
    "object_type",
    "stripe_id",
    "livemode",
    "created",
    "customer_id",
    "status",
    "source_ts",
    "synced_at",
    "deleted_at",
    "data",
)
_CHUNK = 500  # rows per statement: 5,500 parameters, far below SQLite's limit


def _values_sql(dialect: str, columns: int, rows: int) -> str:
    """Return `VALUES (…), …` for `rows` rows in the driver's own style; the last column is JSON."""
    mark = bind_mark(dialect)
    data = f"CAST({mark} AS JSONB)" if dialect == "postgresql" else mark
    one = "(" + ", ".join([mark] * (columns - 1) + [data]) + ")"
    return "VALUES " + ", ".join([one] * rows)


@functools.cache
def _upsert_sql(dialect: str, rows: int, ties: bool) -> str:
    """Return the multi-row upsert of `rows` objects, in the driver's own parameter style."""
    guard = "<=" if ties else "<"
    updated = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS[3:])
    # Only this module's constants go into the text; every value is bound.
    return (
        f"INSERT INTO mirror_objects ({', '.join(_COLUMNS)}) "
        f"{_values_sql(dialect, len(_COLUMNS), rows)} "
        f"ON CONFLICT (account_id, object_type, stripe_id) DO UPDATE SET {updated} "
        # Never older over newer, and never back from the dead: Stripe does not undelete.
        f"WHERE mirror_objects.source_ts {guard} excluded.source_ts "
        "AND mirror_objects.deleted_at IS NULL RETURNING id"
    )


# Statements ready to run: SQL text and bound values, built outside any transaction.
Statements = list[tuple[str, tuple[Any, ...]]]


def _prepare_rows(
    dialect: Dialect,
    table: Any,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    sql: Callable[[str, int], str],
) -> Statements:
    """Return the statements that write rows, a chunk per statement.

    A backfill page is 100 objects of a few kB each, a webhook batch a few events; building
    and binding the statement through SQLAlchemy cost about as much CPU as the database's own
    work (bench/mirror_backfill.py, bench/webhook_ingest.py), so the SQL text is cached per
    size (`sql(dialect, rows)`) and the last column, `data`, is encoded here with orjson.
    """
    processors = [(column, table.c[column].type.bind_processor(dialect)) for column in columns[:-1]]
    statements: Statements = []
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        params: list[Any] = []
        for row in chunk:
            params += [row[c] if bind is None else bind(row[c]) for c, bind in processors]
            params.append(orjson.dumps(row[columns[-1]], option=orjson.OPT_NON_STR_KEYS).decode())
        statements.append((sql(dialect.name, len(chunk)), tuple(params)))
    return statements


def _run(session: Session, statements: Statements) -> list[Any]:
    """Run prepared statements; return the rows their RETURNING clauses give.

    RETURNING tells what was written: psycopg reports no rowcount for a many-row statement.
    """
    connection = session.connection()
    returned: list[Any] = []
    for sql, params in statements:
        returned += connection.exec_driver_sql(sql, params).all()
    return returned


def _write_rows(
    session: Session,
    table: Any,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[str],
    sql: Callable[[str, int], str],
) -> list[Any]:
    """Write rows through the driver (`_prepare_rows`); return what the statements return."""
    dialect = session.connection().dialect
    return _run(session, _prepare_rows(dialect, table, rows, columns, sql))


@dataclass(frozen=True)
class PreparedUpsert:
    """An upsert of objects built ahead of its transaction: what it runs there is SQL only.

    A backfill page prepares its 100 objects (rows, JSON) before it takes SQLite's single write
    lock, which every worker queues on, and holds that lock only to run the statements.
    """

    statements: Statements
    # The expanded discounts of subscriptions: rows of their own, not counted as written.
    embedded: PreparedUpsert | None = None


def prepare_upsert(
    dialect: Dialect, observations: Sequence[Observed], *, ties: bool = True
) -> PreparedUpsert:
    """Build the upsert of `upsert_objects` without running it."""
    observations = [o for o in observations if not o.obj.get("deleted") or o.deleted]
    # One statement per distinct object: a page never holds the same id twice, events might.
    latest: dict[tuple[str, str, str], Observed] = {}
    for observed in observations:
        key = (observed.account_id, str(observed.obj["object"]), str(observed.obj["id"]))
        if key not in latest or latest[key].source_ts <= observed.source_ts:
            latest[key] = observed
    statements = _prepare_rows(
        dialect,
        MirroredObject.__table__,
        [_row(observed) for observed in latest.values()],
        _COLUMNS,
        functools.partial(_upsert_sql, ties=ties),
    )
    embedded = [found for observed in latest.values() for found in _embedded(observed)]
    return PreparedUpsert(statements, prepare_upsert(dialect, embedded) if embedded else None)


def write_upsert(session: Session, prepared: PreparedUpsert) -> int:
    """Run a prepared upsert; return how many objects were written (embedded ones aside)."""
    written = len(_run(session, prepared.statements))
    if prepared.embedded is not None:
        write_upsert(session, prepared.embedded)
    return written


def upsert_objects(session: Session, observations: Sequence[Observed], *, ties: bool = True) -> int:
    """Store objects unless what is stored is newer; return how many rows were written.

    With `ties`, a state read at the same second as the stored one replaces it (a read is the
    object as it is now). Without, an equal source time keeps what is stored: an event's payload
    at the second of the stored state may be the older of the two, and the caller finds out
    (nothing written) and reads the object instead of guessing.
    """
    if not observations:
        return 0
    dialect = session.connection().dialect
    return write_upsert(session, prepare_upsert(dialect, observations, ties=ties))


def _embedded(observed: Observed) -> list[Observed]:
    """Return the expanded discounts a subscription carries, each to be kept as its own row.

    Events and invoices name discounts by id only, and a removed discount leaves the
    subscription: its own row keeps what history needs (coupon, start, end).
    """
    obj = observed.obj
    if obj.get("object") != "subscription" or observed.deleted:
        return []
    found = [d for d in obj.get("discounts") or () if isinstance(d, dict) and "id" in d]
    for item in (obj.get("items") or {}).get("data") or ():
        found += [d for d in item.get("discounts") or () if isinstance(d, dict) and "id" in d]
    return [
        Observed(observed.account_id, {**discount, "object": "discount"}, observed.source_ts)
        for discount in found
    ]


def _event_row(account_id: str, event: dict[str, Any], source: str) -> dict[str, Any]:
    return {
        "account_id": account_id,
        "event_id": str(event["id"]),
        "type": str(event.get("type", "")),
        "created": int(event.get("created", 0)),
        "livemode": bool(event.get("livemode", False)),
        "api_version": event.get("api_version"),
        "source": source,
        "received_at": utcnow(),
        "data": event,
    }


def record_event(session: Session, *, account_id: str, event: dict[str, Any], source: str) -> bool:
    """Append an event to the log; False when it was already there (a duplicate delivery)."""
    return bool(record_events(session, events=[(account_id, event)], source=source))


_EVENT_COLUMNS = (
    "account_id",
    "event_id",
    "type",
    "created",
    "livemode",
    "api_version",
    "source",
    "received_at",
    "data",
)


@functools.cache
def _append_events_sql(dialect: str, rows: int) -> str:
    """Return the multi-row insert of `rows` events, in the driver's own parameter style."""
    # Only this module's constants go into the text; every value is bound.
    return (
        f"INSERT INTO mirror_events ({', '.join(_EVENT_COLUMNS)}) "
        f"{_values_sql(dialect, len(_EVENT_COLUMNS), rows)} "
        "ON CONFLICT (account_id, event_id) DO NOTHING RETURNING account_id, event_id"
    )


def record_events(
    session: Session, *, events: Sequence[tuple[str, dict[str, Any]]], source: str
) -> set[tuple[str, str]]:
    """Append (account, event) pairs to the log; return the new (account, id)s.

    An id given twice is stored once (and returned as new once). Written through the driver,
    as pages are: a webhook batch is a few events, and SQLAlchemy's statement
    building and binding cost more than the database's work (bench/webhook_ingest.py).
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for account_id, event in events:
        rows.setdefault((account_id, str(event["id"])), _event_row(account_id, event, source))
    if not rows:
        return set()
    stored = _write_rows(
        session, StripeEvent.__table__, list(rows.values()), _EVENT_COLUMNS, _append_events_sql
    )
    return {(str(account), str(event_id)) for account, event_id in stored}


def stored_objects(
    session: Session, *, account_id: str, object_type: str, include_deleted: bool = False
) -> list[dict[str, Any]]:
    """Return the raw objects of one type of an account."""
    query = select(MirroredObject.data).where(
        MirroredObject.account_id == account_id, MirroredObject.object_type == object_type
    )
    if not include_deleted:
        query = query.where(MirroredObject.deleted_at.is_(None))
    return list(session.scalars(query))


def stored_ids(
    session: Session, *, account_id: str, object_type: str, created: Iterable[int] | None = None
) -> set[str]:
    """Return the ids of live objects of a type (optionally only those created in a range)."""
    query = select(MirroredObject.stripe_id).where(
        MirroredObject.account_id == account_id,
        MirroredObject.object_type == object_type,
        MirroredObject.deleted_at.is_(None),
    )
    if created is not None:
        low, high = created
        query = query.where(MirroredObject.created >= low, MirroredObject.created < high)
    return set(session.scalars(query))
