"""The queue on SQLite and on Redis: a job enqueued by one process is run by another."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from revlens.config import Settings
from revlens.db import migrate
from revlens.db.session import Database
from revlens.errors import StartupError
from revlens.system.service import heartbeats
from revlens.tasks.jobs import heartbeat
from revlens.tasks.queue import make_queue
from tests.processes import process_environ


def _revlens(*args: str, settings: Settings, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "revlens", *args],
        env=process_environ(settings),
        cwd=settings.data_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def _wait_for_heartbeat(database: Database, source: str, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with database.read() as session:
            found = heartbeats(session, source=source)
        if found:
            return [h.process for h in found]
        time.sleep(0.1)
    raise AssertionError(f"no heartbeat from {source!r} within {timeout}s")


def _round_trip(settings: Settings) -> None:
    """Enqueue with `revlens heartbeat` in one process; a `revlens worker` process runs it."""
    database = Database.from_url(settings.database_url)
    migrate.upgrade(database.engine)
    enqueue = _revlens("heartbeat", settings=settings)
    out, _ = enqueue.communicate(timeout=60)
    assert enqueue.returncode == 0, out
    with database.read() as session:
        assert heartbeats(session, source="cli") == []  # nothing ran it yet
    assert make_queue(settings).pending() == 1
    worker = _revlens("worker", "--workers", "1", settings=settings)
    try:
        processes = _wait_for_heartbeat(database, "cli")
    finally:
        worker.send_signal(signal.SIGINT)
        out, _ = worker.communicate(timeout=30)
    assert len(processes) == 1
    assert processes[0].endswith(f":{worker.pid}"), (processes, out)
    assert make_queue(settings).pending() == 0
    database.dispose()


def test_sqlite_queue_round_trip_between_processes(
    make_settings: Any, fresh_database_url: str
) -> None:
    _round_trip(make_settings(REVLENS_DATABASE_URL=fresh_database_url))


@pytest.mark.redis
def test_redis_queue_round_trip_between_processes(
    make_settings: Any, fresh_database_url: str, redis_url: str
) -> None:
    settings = make_settings(REVLENS_DATABASE_URL=fresh_database_url, REVLENS_QUEUE_URL=redis_url)
    assert settings.queue_url.startswith("redis://")
    _round_trip(settings)


def test_immediate_mode_runs_the_job_inline(make_settings: Any, database: Database) -> None:
    settings = make_settings()
    queue = make_queue(settings, database=database, immediate=True)
    row_id = queue.enqueue(heartbeat, source="immediate")
    with database.read() as session:
        found = heartbeats(session, source="immediate")
    assert [h.id for h in found] == [row_id.get()]
    with database.unit_of_work() as session:
        for row in found:
            session.delete(session.merge(row))


def test_only_declared_jobs_can_be_enqueued(make_settings: Any) -> None:
    queue = make_queue(make_settings())
    with pytest.raises(LookupError, match="not a declared job"):
        queue.enqueue(print)


def test_an_unreachable_redis_is_one_line(make_settings: Any) -> None:
    queue = make_queue(make_settings(REVLENS_QUEUE_URL="redis://127.0.0.1:1/0"))
    with pytest.raises(StartupError) as caught:
        queue.check()
    assert str(caught.value).startswith("REVLENS_QUEUE_URL: cannot reach the queue: ")
    assert "\n" not in str(caught.value)


def test_sqlite_queue_creates_its_directory(make_settings: Any, tmp_path: Path) -> None:
    queue = make_queue(make_settings(REVLENS_QUEUE_URL=f"sqlite:///{tmp_path}/q/dir/queue.db"))
    queue.check()
    assert (tmp_path / "q" / "dir" / "queue.db").exists()


def test_forked_worker_processes_run_the_jobs_and_stop_cleanly(
    make_settings: Any, fresh_database_url: str
) -> None:
    settings = make_settings(REVLENS_DATABASE_URL=fresh_database_url)
    database = Database.from_url(settings.database_url)
    migrate.upgrade(database.engine)
    queue = make_queue(settings)
    for _ in range(12):
        queue.enqueue(heartbeat, source="forked")
    worker = _revlens("worker", "--workers", "2", "--processes", settings=settings)
    try:
        deadline = time.monotonic() + 60
        while len(ran := _wait_for_heartbeat(database, "forked")) < 12:
            assert time.monotonic() < deadline, "the forked workers did not run every job"
            time.sleep(0.1)
        # Run by processes this one forked, which are still alive and answer to it.
        pids = {int(process.rsplit(":", 1)[1]) for process in ran}
        assert worker.pid not in pids
        for pid in pids:
            status = Path(f"/proc/{pid}/status").read_text()
            assert f"PPid:\t{worker.pid}\n" in status, status
    finally:
        worker.send_signal(signal.SIGINT)
        out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out
    assert "worker: 2 processes on" in out
    assert "Traceback" not in out, out
    database.dispose()


def test_processes_without_fork_are_one_clear_error(
    make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on Windows, where multiprocessing has no "fork" start method.
    real = multiprocessing.get_context

    def no_fork(method: str | None = None) -> Any:
        if method == "fork":
            raise ValueError("cannot find context for 'fork'")
        return real(method)

    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    queue = make_queue(make_settings())
    with pytest.raises(StartupError, match=r"^--processes: .*fork\(\) start-method"):
        queue.run_worker(workers=2, processes=True)
