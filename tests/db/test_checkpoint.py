"""SQLite's write-ahead log is copied by the writers after they release the writer lock."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from revlens.db.checkpoint import RESTART_PAGES, WalCheckpoints
from revlens.db.session import Database
from revlens.db.writer_lock import WriterLock

ROW = 3000  # bytes: a page of the log per row, about


def _write(database: Database, rows: int) -> None:
    with database.unit_of_work() as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER, blob BLOB)"))
        for n in range(rows):
            session.execute(
                text("INSERT INTO t VALUES (:n, randomblob(:size))"), {"n": n, "size": ROW}
            )


def test_connections_never_checkpoint_when_they_commit(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'revlens.db'}")
    with database.read() as session:
        assert session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == 0
        assert session.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    database.dispose()


def _restarts(wal: Path) -> int:
    """The log's checkpoint sequence number (its header, bytes 12-15): +1 at each restart."""
    return int.from_bytes(wal.read_bytes()[12:16], "big")


def test_a_writer_copies_the_log_and_the_next_one_starts_it_over(tmp_path: Path) -> None:
    path = tmp_path / "revlens.db"
    database = Database.from_url(f"sqlite:///{path}")
    wal = Path(f"{path}-wal")
    _write(database, 1)  # the first unit of work checkpoints at once (a tiny log)
    before = path.stat().st_size
    # Far more than SQLite's own threshold, in units of work less than a second apart: no
    # writer checkpointed, so all of it is in the log and none of it in the database yet.
    for _ in range(6):
        _write(database, RESTART_PAGES // 4)
    peak = wal.stat().st_size
    assert peak > RESTART_PAGES * 4096
    assert path.stat().st_size == before
    restarts = _restarts(wal)
    time.sleep(1.05)  # revlens.db.checkpoint.EVERY_S
    _write(database, 1)  # its writer copies the log: outside the lock, then the rest inside
    assert path.stat().st_size > before + 6 * (RESTART_PAGES // 4) * ROW
    # The log was wholly in the database: the next writer starts it over from its beginning
    # and writes the file over instead of growing it.
    _write(database, 1)
    assert _restarts(wal) == restarts + 1
    for _ in range(6):
        _write(database, RESTART_PAGES // 4)
    assert wal.stat().st_size < 1.1 * peak  # appended, it would be twice the size
    with database.read() as session:
        count = session.execute(text("SELECT COUNT(*) FROM t")).scalar_one()
    assert count == 12 * (RESTART_PAGES // 4) + 3
    database.dispose()


def test_the_second_copy_waits_for_the_writer_lock(tmp_path: Path) -> None:
    path = tmp_path / "revlens.db"
    database = Database.from_url(f"sqlite:///{path}")
    _write(database, RESTART_PAGES + 10)
    lock = WriterLock(tmp_path / "revlens.db-writers", timeout_s=30)
    checkpoints = WalCheckpoints(database.engine, lock, every_s=0)
    calls: list[tuple[float, tuple[bool, int, int]]] = []
    original = checkpoints.checkpoint

    def recorded(connection: Any) -> tuple[bool, int, int]:
        result = original(connection)
        calls.append((time.monotonic(), result))
        return result

    checkpoints.checkpoint = recorded  # type: ignore[method-assign]
    holding = threading.Event()
    released: list[float] = []

    def hold() -> None:
        with lock.held():
            holding.set()
            time.sleep(0.3)
            released.append(time.monotonic())

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(5)
    checkpoints.after_write()
    holder.join()
    assert len(calls) == 2
    (first_at, first), (second_at, second) = calls
    # The first copy ran while another writer held the lock; the second only after it let go.
    assert first_at < released[0] <= second_at
    assert not first[0]
    assert first[1] > RESTART_PAGES
    assert first[2] == first[1]
    assert second == first
    database.dispose()


def test_a_small_log_is_copied_but_not_under_the_lock(tmp_path: Path) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'revlens.db'}")
    _write(database, 20)
    lock = WriterLock(tmp_path / "revlens.db-writers", timeout_s=30)
    now = [100.0]
    checkpoints = WalCheckpoints(database.engine, lock, every_s=1.0, clock=lambda: now[0])
    calls: list[tuple[bool, int, int]] = []
    original = checkpoints.checkpoint

    def recorded(connection: Any) -> tuple[bool, int, int]:
        calls.append(original(connection))
        return calls[-1]

    checkpoints.checkpoint = recorded  # type: ignore[method-assign]
    checkpoints.after_write()
    assert len(calls) == 1  # under RESTART_PAGES: no second copy under the lock
    assert 0 < calls[0][1] < RESTART_PAGES
    now[0] += 0.5
    checkpoints.after_write()
    assert len(calls) == 1  # not due yet
    now[0] += 0.5
    checkpoints.after_write()
    assert len(calls) == 2
    database.dispose()


def test_a_failed_checkpoint_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = Database.from_url(f"sqlite:///{tmp_path / 'revlens.db'}")
    _write(database, 5)
    lock = WriterLock(tmp_path / "revlens.db-writers", timeout_s=30)
    checkpoints = WalCheckpoints(database.engine, lock, every_s=0, restart_pages=1)
    original = checkpoints.checkpoint
    calls: list[int] = []

    def failing(connection: Any) -> tuple[bool, int, int]:
        calls.append(1)
        if len(calls) == 2:  # the second, under the writer lock
            raise sqlite3.OperationalError("disk I/O error")
        return original(connection)

    checkpoints.checkpoint = failing  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="revlens.db.checkpoint"):
        checkpoints.after_write()  # its caller's transaction has committed: no exception
    assert len(calls) == 2
    assert "checkpoint of the SQLite log failed" in caplog.text
    assert "disk I/O error" in caplog.text
    # The writer lock was let go: another holder (its own open file) gets it at once.
    with WriterLock(tmp_path / "revlens.db-writers", timeout_s=1).held() as held:
        assert held
    database.dispose()
