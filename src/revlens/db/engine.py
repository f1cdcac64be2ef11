"""Engine factory: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL through psycopg 3."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from revlens.errors import StartupError

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A write transaction on SQLite takes the write lock at BEGIN: a deferred one that reads first
# and writes later fails with SQLITE_BUSY at once, whatever the busy timeout, when another
# writer committed in between.
IMMEDIATE = "immediate"
DEFERRED = "deferred"


def _json_dumps(value: Any) -> str:
    # The mirror writes a whole Stripe object per row: the standard library's encoder was the
    # largest single cost of storing a backfill page (bench/mirror_backfill.py).
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


# Same JSON text for every backend; reading back through orjson is faster too.
JSON_OPTIONS: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Build the engine for a normalised database URL (see revlens.config)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database or "")
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        **JSON_OPTIONS,
    )


def _sqlite_engine(url: str, database: str) -> Engine:
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **JSON_OPTIONS
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy so that BEGIN below is the only BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Writers checkpoint after they release the writer lock, not in their commit
        # (revlens.db.checkpoint).
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if mode == IMMEDIATE else "BEGIN")

    return engine


def check_database(engine: Engine) -> None:
    """Connect once and run a trivial query, or raise StartupError in one line."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StartupError(
            f"REVLENS_DATABASE_URL: cannot connect to {engine.url!r}: {reason}"
        ) from None
    except SQLAlchemyError as exc:
        raise StartupError(f"REVLENS_DATABASE_URL: {engine.url!r}: {exc}") from None


def sqlite_lock_path(engine: Engine) -> Path | None:
    """The file beside a SQLite database that its writers lock (None for an in-memory one)."""
    database = engine.url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    return Path(database).expanduser().with_name(Path(database).name + "-writers")


def bind_mark(dialect: str) -> str:
    """Return the driver's placeholder for one bound value in SQL sent as text (`?` or `%s`)."""
    return "%s" if dialect == "postgresql" else "?"


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"
