"""SQLite writers of several processes take turns on one file lock, promptly and re-entrantly."""

from __future__ import annotations

import fcntl
import itertools
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from revlens.db.engine import sqlite_lock_path
from revlens.db.session import Database
from revlens.db.writer_lock import MAX_POLL_S, WriterLock


def _hold_intervals(url: str, rounds: int, out: str) -> None:
    """Open the database in a new process and record when each unit of work held the lock."""
    database = Database.from_url(url)
    with open(out, "w") as sink:
        for _ in range(rounds):
            with database.unit_of_work() as session:
                began = time.monotonic()
                session.execute(text("CREATE TABLE IF NOT EXISTS t (n INTEGER)"))
                session.execute(text("INSERT INTO t VALUES (1)"))
                time.sleep(0.01)  # long enough that an unlocked writer would overlap
                sink.write(f"{began} {time.monotonic()}\n")
    database.dispose()


def test_units_of_work_of_two_processes_never_overlap(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    context = multiprocessing.get_context("spawn")
    outs = [str(tmp_path / f"held{n}.txt") for n in range(2)]
    workers = [context.Process(target=_hold_intervals, args=(url, 30, out)) for out in outs]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    spans = sorted(
        (float(a), float(b), n)
        for n, out in enumerate(outs)
        for a, b in (line.split() for line in Path(out).read_text().splitlines())
    )
    assert len(spans) == 60
    assert {n for _, _, n in spans} == {0, 1}
    # `began` is taken before the transaction's BEGIN: without the file lock, a writer of the
    # other process would already be inside its block, waiting on SQLite, and overlap.
    for (_, end, _), (start, _, _) in itertools.pairwise(spans):
        assert start >= end  # the next holder began only after the one before it ended


def test_the_lock_is_a_file_beside_the_database_and_none_in_memory(tmp_path: Path) -> None:
    on_disk = Database.from_url(f"sqlite:///{tmp_path / 'revlens.db'}")
    assert sqlite_lock_path(on_disk.engine) == tmp_path / "revlens.db-writers"
    in_memory = Database.from_url("sqlite://")
    assert sqlite_lock_path(in_memory.engine) is None
    with in_memory.unit_of_work() as session:  # no file, and still one writer at a time
        assert session.execute(text("SELECT 1")).scalar() == 1


def _file_is_locked(path: Path) -> bool:
    """Ask as another process would: a second open file description cannot take it."""
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def test_a_nested_hold_keeps_the_file_locked_until_the_outer_one_ends(tmp_path: Path) -> None:
    path = tmp_path / "db-writers"
    lock = WriterLock(path, timeout_s=5)
    with lock.held() as outer:
        assert outer
        with lock.held() as inner:
            assert inner
        assert _file_is_locked(path)  # the inner block ending did not let another writer in
    assert not _file_is_locked(path)


def test_a_lock_held_elsewhere_past_the_timeout_lets_the_caller_go_on(tmp_path: Path) -> None:
    path = tmp_path / "db-writers"
    path.touch()
    elsewhere = os.open(path, os.O_RDWR)
    fcntl.flock(elsewhere, fcntl.LOCK_EX)
    try:
        lock = WriterLock(path, timeout_s=0.2)
        began = time.monotonic()
        with lock.held() as taken:
            assert taken is False  # SQLite's own busy timeout decides from here
        assert time.monotonic() - began >= 0.2  # it waited the whole timeout first
    finally:
        os.close(elsewhere)
    with lock.held() as taken:
        assert taken is True


def test_a_waiting_writer_polls_in_steps_of_at_most_2_ms(tmp_path: Path) -> None:
    path = tmp_path / "db-writers"
    path.touch()
    elsewhere = os.open(path, os.O_RDWR)
    fcntl.flock(elsewhere, fcntl.LOCK_EX)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        """Record the pause instead of taking it; the other holder lets go at the 20th."""
        pauses.append(seconds)
        if len(pauses) == 20:
            fcntl.flock(elsewhere, fcntl.LOCK_UN)

    waiter = WriterLock(path, timeout_s=3600, sleep=sleep)
    try:
        with waiter.held() as taken:
            assert taken
            assert _file_is_locked(path)
        # In at the first try after the release, having waited in short, growing steps:
        # SQLite's busy handler sleeps up to 100 ms while the lock may be free.
        assert len(pauses) == 20
        assert pauses[0] == pytest.approx(0.0002)
        assert pauses == sorted(pauses)
        assert max(pauses) == MAX_POLL_S <= 0.002
    finally:
        os.close(elsewhere)


def test_units_of_work_still_commit_and_roll_back(tmp_path: Path) -> None:
    rounds = 3
    database = Database.from_url(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with database.unit_of_work() as session:
        session.execute(text("CREATE TABLE t (n INTEGER)"))
    for n in range(rounds):
        with database.unit_of_work() as session:
            session.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    def failing() -> None:
        with database.unit_of_work() as session:
            session.execute(text("INSERT INTO t VALUES (99)"))
            raise RuntimeError("undo")

    with pytest.raises(RuntimeError):
        failing()
    with database.read() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == rounds
    assert not _file_is_locked(tmp_path / "db.sqlite-writers")
