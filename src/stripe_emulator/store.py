"""SQLite storage for every emulated object, partitioned by (account, livemode).

One table holds all objects as JSON with a few promoted columns (`k1`..`k4`) that list filters
use. `seq` is the insertion order, so objects created in the same second keep a stable order.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

SLOTS = ("k1", "k2", "k3", "k4")
# Told (scope, type, object, deleted) after each object write, inside its transaction.
WriteListener = Callable[["Scope", str, dict[str, Any], bool], None]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    livemode INTEGER NOT NULL,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    created INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    k1 TEXT, k2 TEXT, k3 TEXT, k4 TEXT,
    data BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_id ON objects (account, livemode, type, id);
CREATE INDEX IF NOT EXISTS objects_by_created
    ON objects (account, livemode, type, deleted, created DESC, seq DESC);
CREATE INDEX IF NOT EXISTS objects_by_k1
    ON objects (account, livemode, type, deleted, k1, created DESC, seq DESC);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS idempotency (
    account TEXT NOT NULL,
    livemode INTEGER NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    body BLOB NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (account, livemode, key)
);
CREATE TABLE IF NOT EXISTS connections (
    platform TEXT NOT NULL,
    account TEXT NOT NULL,
    livemode INTEGER NOT NULL,
    scope TEXT NOT NULL,
    active INTEGER NOT NULL,
    created INTEGER NOT NULL,
    revoked INTEGER,
    PRIMARY KEY (platform, account, livemode)
);
"""


@dataclass(frozen=True)
class Scope:
    """The partition a request acts in: an account id and a mode."""

    account: str
    livemode: bool


class Row(NamedTuple):
    """One stored object: its raw JSON plus bookkeeping (a tuple: lists build 100s of them)."""

    id: str
    created: int
    seq: int
    deleted: int
    data: bytes

    def load(self) -> dict[str, Any]:
        """Return the object as a fresh dict."""
        loaded: dict[str, Any] = orjson.loads(self.data)
        return loaded


@dataclass(frozen=True)
class Condition:
    """A list filter on a promoted column: equality or membership."""

    column: str  # a promoted column (k1..k4) or a JSON path such as `$.currency`
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Page:
    """One page of rows in list order (newest first) and whether more follow."""

    rows: list[Row]
    has_more: bool


class Store:
    """A single SQLite connection guarded by a lock; every mutation runs in a transaction."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path or ":memory:"
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            # Reading list pages through a bounded memory map halves query time; the bound
            # keeps the resident size of a large state file in check.
            self._db.execute("PRAGMA mmap_size=268435456")
        self._db.executescript(_SCHEMA)
        # Bumped on every write to an (account, livemode, type); read-ahead pages check it.
        self._generations: dict[tuple[str, bool, str], int] = {}
        # The billing engine derives its schedule from writes of the types it watches.
        self.write_listeners: list[WriteListener] = []

    def generation(self, scope: Scope, type_: str) -> int:
        """Return how many writes touched this scope and type since start."""
        return self._generations.get((scope.account, scope.livemode, type_), 0)

    def _bump(self, scope: Scope, type_: str) -> None:
        key = (scope.account, scope.livemode, type_)
        self._generations[key] = self._generations.get(key, 0) + 1

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @property
    def lock(self) -> threading.RLock:
        """Return the lock that serialises use of the connection."""
        return self._lock

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Run the block atomically; nested calls join the outer transaction."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    # ---- objects ---------------------------------------------------------------------------

    def insert(
        self,
        scope: Scope,
        type_: str,
        obj: dict[str, Any],
        slots: Sequence[str | None] = (),
    ) -> None:
        """Store a new object; its id must be unused in this scope and type."""
        padded = (list(slots) + [None] * 4)[:4]
        with self._lock:
            self._bump(scope, type_)
            self._db.execute(
                "INSERT INTO objects (account, livemode, type, id, created, deleted,"
                " k1, k2, k3, k4, data) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                (
                    scope.account,
                    scope.livemode,
                    type_,
                    obj["id"],
                    obj["created"],
                    *padded,
                    orjson.dumps(obj),
                ),
            )
            for listener in self.write_listeners:
                listener(scope, type_, obj, False)

    def insert_many(
        self, scope: Scope, type_: str, rows: Sequence[tuple[dict[str, Any], Sequence[str | None]]]
    ) -> None:
        """Store many new objects at once (seeding and benchmarks)."""
        params = [
            (
                scope.account,
                scope.livemode,
                type_,
                obj["id"],
                obj["created"],
                *(list(slots) + [None] * 4)[:4],
                orjson.dumps(obj),
            )
            for obj, slots in rows
        ]
        with self._lock:
            self._bump(scope, type_)
            self._db.executemany(
                "INSERT INTO objects (account, livemode, type, id, created, deleted,"
                " k1, k2, k3, k4, data) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)",
                params,
            )
            for listener in self.write_listeners:
                for obj, _slots in rows:
                    listener(scope, type_, obj, False)

    def exists(self, scope: Scope, type_: str, object_id: str) -> bool:
        """Tell whether an object (deleted or not) has this id."""
        rows = self._query(
            "SELECT 1 FROM objects WHERE account=? AND livemode=? AND type=? AND id=?",
            (scope.account, scope.livemode, type_, object_id),
        )
        return bool(rows)

    def get(self, scope: Scope, type_: str, object_id: str) -> Row | None:
        """Return the stored row for an id, including deleted ones."""
        rows = self._query(
            "SELECT id, created, seq, deleted, data FROM objects"
            " WHERE account=? AND livemode=? AND type=? AND id=?",
            (scope.account, scope.livemode, type_, object_id),
        )
        return (
            Row(rows[0][0], rows[0][1], rows[0][2], bool(rows[0][3]), rows[0][4]) if rows else None
        )

    def update(
        self,
        scope: Scope,
        type_: str,
        obj: dict[str, Any],
        slots: Sequence[str | None] = (),
        *,
        deleted: bool = False,
    ) -> None:
        """Replace a stored object (same id) and its promoted columns."""
        padded = (list(slots) + [None] * 4)[:4]
        with self._lock:
            self._bump(scope, type_)
            self._db.execute(
                "UPDATE objects SET data=?, deleted=?, k1=?, k2=?, k3=?, k4=?"
                " WHERE account=? AND livemode=? AND type=? AND id=?",
                (
                    orjson.dumps(obj),
                    deleted,
                    *padded,
                    scope.account,
                    scope.livemode,
                    type_,
                    obj["id"],
                ),
            )
            for listener in self.write_listeners:
                listener(scope, type_, obj, deleted)

    def list_page(
        self,
        scope: Scope,
        type_: str,
        *,
        limit: int,
        conditions: Sequence[Condition] = (),
        created: dict[str, int] | None = None,
        after: tuple[int, int] | None = None,
        before: tuple[int, int] | None = None,
        ids: Sequence[str] | None = None,
    ) -> Page:
        """Return up to `limit` live rows newest first, after/before a (created, seq) cursor."""
        where = ["account=?", "livemode=?", "type=?", "deleted=0"]
        args: list[Any] = [scope.account, scope.livemode, type_]
        for condition in conditions:
            values = tuple(value for value in condition.values if value is not None)
            marks = ",".join("?" * len(values))
            if condition.column.startswith("$."):
                # Unindexed filters read the JSON; fine for the small catalog resources.
                column, lead = "json_extract(CAST(data AS TEXT), ?)", [condition.column]
            elif condition.column in SLOTS:
                column, lead = condition.column, []
            else:
                raise ValueError(f"not a filter column: {condition.column}")
            tests: list[str] = []
            if values or not condition.values:
                tests.append(f"{column} IN ({marks})")
                args.extend([*lead, *values])
            if len(values) < len(condition.values):
                # A None value matches a missing or null field (e.g. no test clock).
                tests.append(f"{column} IS NULL")
                args.extend(lead)
            where.append("(" + " OR ".join(tests) + ")")
        if ids is not None:
            where.append(f"id IN ({','.join('?' * len(ids))})")
            args.extend(ids)
        for op, sql in (("eq", "="), ("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
            if created and op in created:
                where.append(f"created {sql} ?")
                args.append(created[op])
        if after is not None:
            where.append("(created, seq) < (?, ?)")
            args.extend(after)
        order = "DESC"
        if before is not None:
            where.append("(created, seq) > (?, ?)")
            args.extend(before)
            order = "ASC"
        # Only constant fragments are joined here; every value is a bound parameter.
        sql = (
            "SELECT id, created, seq, deleted, data FROM objects WHERE "  # noqa: S608
            + " AND ".join(where)
            + f" ORDER BY created {order}, seq {order} LIMIT ?"
        )
        args.append(limit + 1)
        found = list(map(Row._make, self._query(sql, args)))
        has_more = len(found) > limit
        rows = found[:limit]
        if before is not None:
            rows.reverse()
        return Page(rows, has_more)

    def count(self, scope: Scope, type_: str) -> int:
        """Count live objects of a type in a scope."""
        rows = self._query(
            "SELECT COUNT(*) FROM objects WHERE account=? AND livemode=? AND type=? AND deleted=0",
            (scope.account, scope.livemode, type_),
        )
        return int(rows[0][0])

    # ---- key/value metadata ----------------------------------------------------------------

    def meta_get(self, key: str) -> str | None:
        """Return a stored setting, or None."""
        rows = self._query("SELECT value FROM meta WHERE key=?", (key,))
        return str(rows[0][0]) if rows else None

    def meta_set(self, key: str, value: str) -> None:
        """Store a setting."""
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """Run a statement for the few tables outside `objects` (idempotency, connections)."""
        return self._query(sql, args)
