"""Merge the parts of a history played in parts (`shards.py`) into one emulator state file.

Every part starts from a copy of the same fork (the accounts and their catalogs) and then
writes only its own customers' objects, with ids from a stream of its own. So:

- the rows a part added after the fork are appended as they are, part after part, each part's
  in its own order (lists order by `created`, and by insertion within one second);
- a fork row that only one part changed takes that part's version; one that several parts
  changed is combined when the changes are counters (`times_redeemed`: the parts' increments
  add up) or the same value, and refused (`MergeError`) otherwise;
- rows of the other tables (the billing schedule, idempotency keys, connections, settings) are
  matched by primary key, and the same rule holds: one version, or refusal.

An unknown table or a part whose tables differ is refused too: nothing is dropped silently.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson

from stripe_emulator.store import Store

# Fields that count uses of a shared object: each part's increments add up.
COUNTERS = frozenset({"times_redeemed"})
COLUMNS = "account, livemode, type, id, created, deleted, k1, k2, k3, k4, data"
_DATA = COLUMNS.split(", ").index("data")
# Indexes a merge rebuilds once at the end instead of updating at every appended row.
_REBUILT = ("objects_by_created", "objects_by_k1", "objects_by_id")
_MISSING = object()


class MergeError(RuntimeError):
    """The parts changed a shared row in ways that cannot be combined."""


def prepare_fork(path: Path) -> int:
    """Ready a fork for copying: drop the index parts need not keep; return its last row."""
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        # Unfiltered newest-first lists are read only after the merge, which builds it.
        db.execute("DROP INDEX IF EXISTS objects_by_created")
        row = db.execute("SELECT COALESCE(MAX(seq), 0) FROM objects").fetchone()
    return int(row[0])


def merge_states(target: Path, fork: Path, parts: Sequence[Path], fork_seq: int) -> None:
    """Write the fork plus every part's changes to `target` (replaced only once complete)."""
    merged = fork.with_name(fork.name + ".merged")
    with closing(sqlite3.connect(fork)) as source, closing(sqlite3.connect(merged)) as copy:
        source.backup(copy)
    with closing(sqlite3.connect(merged, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=MEMORY")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA cache_size=-262144")
        tables = _tables(db, "main")
        for index in _REBUILT:
            db.execute(f"DROP INDEX IF EXISTS {index}")
        fork_rows = db.execute(f"SELECT seq, {COLUMNS} FROM objects")  # noqa: S608
        forked = {row[0]: row[1:] for row in fork_rows}
        small = {table: _keyed_rows(db, "main", table) for table in tables if table != "objects"}
        changed: dict[int, list[tuple[Any, ...]]] = {}
        small_changes: dict[tuple[str, tuple[Any, ...]], list[tuple[Any, ...] | None]] = {}
        for part in parts:
            db.execute("ATTACH DATABASE ? AS part", (str(part),))
            try:
                if _tables(db, "part") != tables:
                    raise MergeError(f"{part.name} does not hold the fork's tables")
                db.execute("BEGIN")
                _collect_object_changes(db, part, forked, fork_seq, changed)
                db.execute(
                    f"INSERT INTO objects ({COLUMNS}) SELECT {COLUMNS} FROM part.objects"  # noqa: S608
                    " WHERE seq > ? ORDER BY seq",
                    (fork_seq,),
                )
                db.execute("COMMIT")
                for table, rows in small.items():
                    theirs = _keyed_rows(db, "part", table)
                    for key in rows.keys() | theirs.keys():
                        if rows.get(key) != theirs.get(key):
                            small_changes.setdefault((table, key), []).append(theirs.get(key))
            finally:
                if db.in_transaction:  # a refused part: DETACH is not allowed mid-transaction
                    db.execute("ROLLBACK")
                db.execute("DETACH DATABASE part")
        db.execute("BEGIN")
        for seq, versions in changed.items():
            row = _combined(forked[seq], versions)
            db.execute(
                "UPDATE objects SET deleted=?, k1=?, k2=?, k3=?, k4=?, data=? WHERE seq=?",
                (*row[5:], seq),
            )
        keys = {table: _key_columns(db, "main", table) for table in small}
        for (table, key), left in small_changes.items():
            _apply_small(db, (table, keys[table]), key, left, small[table].get(key))
        db.execute("COMMIT")
    # Builds the indexes dropped above (the store creates what its schema lacks).
    Store(str(merged)).close()
    os.replace(merged, target)
    for suffix in ("-wal", "-shm"):  # an older state's side files would corrupt the new one
        Path(f"{target}{suffix}").unlink(missing_ok=True)


def _tables(db: sqlite3.Connection, schema: str) -> set[str]:
    rows = db.execute(
        f"SELECT name FROM {schema}.sqlite_master"  # noqa: S608 (schema: "main" or "part")
        " WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    )
    return {row[0] for row in rows}


def _key_columns(db: sqlite3.Connection, schema: str, table: str) -> list[str]:
    """Return a table's primary key columns in key order (none: its rows cannot be matched)."""
    info = db.execute(f"PRAGMA {schema}.table_info({table})").fetchall()
    key_columns = [row[1] for row in sorted(info, key=lambda row: row[5]) if row[5]]
    if not key_columns:
        raise MergeError(f"table {table} has no primary key: its rows cannot be matched")
    return key_columns


def _keyed_rows(
    db: sqlite3.Connection, schema: str, table: str
) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Return a table's rows by primary key."""
    columns = [row[1] for row in db.execute(f"PRAGMA {schema}.table_info({table})")]
    positions = [columns.index(name) for name in _key_columns(db, schema, table)]
    # Names from the file's own schema (sqlite_master, table_info), never from outside.
    rows = db.execute(f"SELECT {', '.join(columns)} FROM {schema}.{table}").fetchall()  # noqa: S608
    return {tuple(row[i] for i in positions): tuple(row) for row in rows}


def _collect_object_changes(
    db: sqlite3.Connection,
    part: Path,
    forked: dict[int, tuple[Any, ...]],
    fork_seq: int,
    changed: dict[int, list[tuple[Any, ...]]],
) -> None:
    seen = 0
    for seq, *row in db.execute(
        f"SELECT seq, {COLUMNS} FROM part.objects WHERE seq <= ?",  # noqa: S608
        (fork_seq,),
    ):
        seen += 1
        if tuple(row) != forked[seq]:
            if tuple(row[:4]) != forked[seq][:4]:
                raise MergeError(f"{part.name}: row {seq} is not the fork's object any more")
            changed.setdefault(seq, []).append(tuple(row))
    if seen != len(forked):
        raise MergeError(f"{part.name} lost rows of the fork")


def _combined(base: tuple[Any, ...], versions: list[tuple[Any, ...]]) -> tuple[Any, ...]:
    """Return one version of a fork row from the versions parts left (see the module doc)."""
    if len(versions) == 1:
        return versions[0]
    what = f"{base[2]} {base[3]}"
    result = list(base)
    for column in range(len(base)):
        if column == _DATA:
            continue
        values = {version[column] for version in versions if version[column] != base[column]}
        if len(values) > 1:
            raise MergeError(f"{what}: parts stored different values of a column")
        if values:
            result[column] = values.pop()
    result[_DATA] = orjson.dumps(
        _combined_object(
            orjson.loads(base[_DATA]), [orjson.loads(v[_DATA]) for v in versions], what
        )
    )
    return tuple(result)


def _combined_object(
    base: dict[str, Any], versions: list[dict[str, Any]], what: str
) -> dict[str, Any]:
    result = dict(base)
    set_by: dict[str, Any] = {}
    counted = 0
    for version in versions:
        for key in [*base, *(key for key in version if key not in base)]:
            old, new = base.get(key, _MISSING), version.get(key, _MISSING)
            if old == new:
                continue
            if key in COUNTERS and isinstance(old, int) and isinstance(new, int):
                result[key] += new - old
                counted += 1
                continue
            if key in set_by and set_by[key] != new:
                raise MergeError(f"{what}: parts set {key} to different values")
            set_by[key] = new
            if new is _MISSING:
                result.pop(key, None)
            else:
                result[key] = new
    if counted > 1 and result.get("max_redemptions") is not None:
        # Each part saw only its own redemptions: the limit was not enforced across them.
        raise MergeError(f"{what}: redeemed in several parts but limited to max_redemptions")
    return result


def _apply_small(
    db: sqlite3.Connection,
    table: tuple[str, list[str]],
    key: tuple[Any, ...],
    versions: list[tuple[Any, ...] | None],
    base: tuple[Any, ...] | None,
) -> None:
    """Write the one version parts left of a row (`table`: its name and key columns)."""
    name, key_columns = table
    if len(set(versions)) > 1:
        raise MergeError(f"{name} {key}: parts left different rows")
    row = versions[0]
    where = " AND ".join(f"{column}=?" for column in key_columns)
    if base is not None:
        db.execute(f"DELETE FROM {name} WHERE {where}", key)  # noqa: S608
    if row is not None:
        marks = ", ".join("?" for _ in row)
        db.execute(f"INSERT INTO {name} VALUES ({marks})", row)  # noqa: S608
