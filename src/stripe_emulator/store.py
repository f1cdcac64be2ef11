"""SQLite storage for every emulated object, partitioned by (account, livemode).

One table holds all objects as JSON with a few promoted columns (`k1`..`k4`) that list filters
use. `seq` is the insertion order, so objects created in the same second keep a stable order.

Reads are cached in memory (`read_cache.py`): rows by id, written through by every write, and
list pages until a write touches their (account, livemode, type). This connection is the only
writer, so only a rollback can make them stale, and a rollback drops them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NamedTuple

import orjson

from stripe_emulator.list_sql import list_query
from stripe_emulator.read_cache import UNCACHED, ReadCache

# Told (scope, type, object, deleted) after each object write, inside its transaction.
WriteListener = Callable[["Scope", str, dict[str, Any], bool], None]
# Told after a rollback undid writes the listener may have mirrored.
RollbackListener = Callable[[], None]
# Bound on the `k1` remembered per written object and on the per-`k1` counters (forgetting
# only costs cache misses).
MAX_KNOWN_K1 = 200_000
_UNKNOWN = object()
_INSERT = (
    "INSERT INTO objects (account, livemode, type, id, created, deleted,"
    " k1, k2, k3, k4, data) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?)"
)

# Unfiltered lists read newest first through it. A bulk load (whose billing reads filter by
# `k1`) builds it once at the end instead of keeping it up to date at every insert.
_CREATED_INDEX = """
CREATE INDEX IF NOT EXISTS objects_by_created
    ON objects (account, livemode, type, deleted, created DESC, seq DESC)
"""
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

    def __init__(self, path: str | None = None, *, bulk_load: bool = False) -> None:
        self.path = path or ":memory:"
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            # WAL lets readers in while the emulator writes; a bulk load writes pages once.
            self._db.execute(f"PRAGMA journal_mode={'MEMORY' if bulk_load else 'WAL'}")
            # The state must survive the process, not a power cut: no fsync (a long seeding
            # otherwise waits on the disk at every WAL checkpoint).
            self._db.execute("PRAGMA synchronous=OFF")
            # Reading list pages through a bounded memory map halves query time; the bound
            # keeps the resident size of a large state file in check.
            self._db.execute("PRAGMA mmap_size=268435456")
        # 64 MiB of page cache instead of 2: the index pages of a long history stay in memory.
        self._db.execute("PRAGMA cache_size=-65536")
        self._db.executescript(_SCHEMA)
        self._bulk = bulk_load and self.path != ":memory:"
        if not self._bulk:
            self._db.execute(_CREATED_INDEX)
        # Bumped on every write to an (account, livemode, type); read-ahead pages check it.
        self._generations: dict[tuple[str, bool, str], int] = {}
        # Finer validity for the cached pages of one `k1` (a subscription's items, an invoice's
        # lines): bumped by writes of objects with that `k1`, and all at once (the type's
        # epoch) by a write that may have moved an object off another `k1`.
        self._keyed: dict[tuple[str, bool, str, str], int] = {}
        self._epochs: dict[tuple[str, bool, str], int] = {}
        # The `k1` each object written since start (or the last overflow) was stored with.
        self._k1_of: dict[tuple[str, bool, str, str], Any] = {}
        # The billing engine derives its schedule from writes of the types it watches.
        self.write_listeners: list[WriteListener] = []
        self.rollback_listeners: list[RollbackListener] = []
        self._cache = ReadCache()
        self._meta: dict[str, str | None] = {}

    def generation(self, scope: Scope, type_: str) -> int:
        """Return how many writes touched this scope and type since start."""
        return self._generations.get((scope.account, scope.livemode, type_), 0)

    def _bump(self, scope: Scope, type_: str) -> None:
        key = (scope.account, scope.livemode, type_)
        self._generations[key] = self._generations.get(key, 0) + 1

    def _bump_keyed(self, row_key: tuple[str, bool, str, str], k1: Any, *, new: bool) -> None:
        """Invalidate the cached pages of `k1`, and of the `k1` the object had before."""
        old = None if new else self._k1_of.get(row_key, _UNKNOWN)
        type_key = row_key[:3]
        if old is _UNKNOWN or not isinstance(k1, str | None) or not isinstance(old, str | None):
            self._epochs[type_key] = self._epochs.get(type_key, 0) + 1
        elif old is not None and old != k1:
            keyed = (*type_key, old)
            self._keyed[keyed] = self._keyed.get(keyed, 0) + 1
        if isinstance(k1, str):
            if len(self._keyed) >= MAX_KNOWN_K1:
                self._forget_keyed()
            keyed = (*type_key, k1)
            self._keyed[keyed] = self._keyed.get(keyed, 0) + 1
        if row_key[2] in UNCACHED:
            return  # never updated (events): nobody asks what `k1` it had
        if len(self._k1_of) >= MAX_KNOWN_K1:
            self._k1_of.clear()
        self._k1_of[row_key] = k1

    def _forget_keyed(self) -> None:
        # Counters start again from 0: move the epochs on so no cached page matches again.
        for type_key in {keyed[:3] for keyed in self._keyed}:
            self._epochs[type_key] = self._epochs.get(type_key, 0) + 1
        self._keyed.clear()

    def _page_validity(self, scope: Scope, type_: str, conditions: Sequence[Condition]) -> Any:
        """Return what a cached page of this query is valid for (compared for equality)."""
        for condition in conditions:
            if condition.column == "k1" and len(condition.values) == 1:
                value = condition.values[0]
                if isinstance(value, str):
                    type_key = (scope.account, scope.livemode, type_)
                    return (
                        self._epochs.get(type_key, 0),
                        self._keyed.get((*type_key, value), 0),
                    )
        return self.generation(scope, type_)

    def close(self) -> None:
        """Close the connection (after building what a bulk load left out)."""
        with self._lock:
            if self._bulk:
                self._db.execute(_CREATED_INDEX)
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
                self._rolled_back()
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Run the block inside the open transaction; an exception undoes only its writes."""
        with self._lock:
            if not self._depth:
                raise RuntimeError("a savepoint needs an open transaction")
            self._db.execute("SAVEPOINT block")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK TO block")
                self._db.execute("RELEASE block")
                self._rolled_back()
                raise
            self._db.execute("RELEASE block")

    def _rolled_back(self) -> None:
        self._cache.clear()
        self._meta.clear()
        # Caches elsewhere compare generations: move every one on so none matches again.
        for key in self._generations:
            self._generations[key] += 1
        # What was remembered of rolled-back writes is wrong now (cached pages went above).
        self._k1_of.clear()
        for listener in self.rollback_listeners:
            listener()

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
        data = orjson.dumps(obj)
        object_id, created = obj["id"], obj["created"]
        with self._lock:
            self._bump(scope, type_)
            self._bump_keyed((scope.account, scope.livemode, type_, object_id), padded[0], new=True)
            cursor = self._db.execute(
                _INSERT,
                (scope.account, scope.livemode, type_, object_id, created, *padded, data),
            )
            self._cache.put_row(
                (scope.account, scope.livemode, type_, object_id),
                Row(object_id, created, cursor.lastrowid or 0, False, data),
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
            type_key = (scope.account, scope.livemode, type_)
            self._epochs[type_key] = self._epochs.get(type_key, 0) + 1
            self._db.executemany(_INSERT, params)
            for listener in self.write_listeners:
                for obj, _slots in rows:
                    listener(scope, type_, obj, False)

    def exists(self, scope: Scope, type_: str, object_id: str) -> bool:
        """Tell whether an object (deleted or not) has this id."""
        if self._cache.row((scope.account, scope.livemode, type_, object_id)) is not None:
            return True
        rows = self._query(
            "SELECT 1 FROM objects WHERE account=? AND livemode=? AND type=? AND id=?",
            (scope.account, scope.livemode, type_, object_id),
        )
        return bool(rows)

    def get(self, scope: Scope, type_: str, object_id: str) -> Row | None:
        """Return the stored row for an id, including deleted ones."""
        key = (scope.account, scope.livemode, type_, object_id)
        with self._lock:
            row = self._cache.row(key)
            if row is not None:
                return row
            rows = self._db.execute(
                "SELECT id, created, seq, deleted, data FROM objects"
                " WHERE account=? AND livemode=? AND type=? AND id=?",
                key,
            ).fetchall()
            if not rows:
                return None
            row = Row(rows[0][0], rows[0][1], rows[0][2], bool(rows[0][3]), rows[0][4])
            self._cache.put_row(key, row)
            return row

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
        data = orjson.dumps(obj)
        key = (scope.account, scope.livemode, type_, obj["id"])
        with self._lock:
            self._bump(scope, type_)
            self._bump_keyed(key, padded[0], new=False)
            self._db.execute(
                "UPDATE objects SET data=?, deleted=?, k1=?, k2=?, k3=?, k4=?"
                " WHERE account=? AND livemode=? AND type=? AND id=?",
                (data, deleted, *padded, *key),
            )
            self._cache.rewrite_row(key, data, deleted)
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
        key = (
            scope.account,
            scope.livemode,
            type_,
            limit,
            tuple(conditions),
            tuple(sorted(created.items())) if created else None,
            after,
            before,
            None if ids is None else tuple(ids),
        )
        # First pages are read again and again (a subscription's items, an invoice's lines);
        # a page after a cursor is read once by someone paging through: caching it only costs.
        cacheable = after is None and before is None and _hashable(key)
        with self._lock:
            generation = self._page_validity(scope, type_, conditions)
            cached = self._cache.page(key, generation) if cacheable else None
            if cached is not None:
                return Page(list(cached.rows), cached.has_more)
            sql, args = list_query(
                scope,
                type_,
                limit=limit,
                conditions=conditions,
                created=created,
                after=after,
                before=before,
                ids=ids,
            )
            found = list(map(Row._make, self._db.execute(sql, args).fetchall()))
            page = Page(found[:limit], len(found) > limit)
            if before is not None:
                page.rows.reverse()
            if cacheable:
                self._cache.put_page(key, generation, page)
            return Page(list(page.rows), page.has_more)

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
        with self._lock:
            if key not in self._meta:
                rows = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchall()
                self._meta[key] = str(rows[0][0]) if rows else None
            return self._meta[key]

    def meta_set(self, key: str, value: str) -> None:
        """Store a setting."""
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                (key, value),
            )
            self._meta[key] = value

    def execute(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        """Run a statement for the few tables outside `objects` (idempotency, connections)."""
        return self._query(sql, args)


def _hashable(key: tuple[Any, ...]) -> bool:
    # Filter values come from requests: a hash-valued one cannot key the page cache.
    try:
        hash(key)
    except TypeError:
        return False
    return True
