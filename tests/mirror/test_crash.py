"""`kill -9` of the worker in the middle of a backfill, then a restart: no gaps, no duplicates."""

from __future__ import annotations

import signal
import subprocess
import time
from contextlib import AbstractContextManager

import httpx
import pytest
from sqlalchemy import func, select

from revlens.mirror.models import MirroredObject, SyncStream
from revlens.tasks.jobs import sync_account
from revlens.tasks.queue import make_queue
from tests.mirror.conftest import Mirror
from tests.mirror.test_sync_cli import settings_environ
from tests.processes import revlens_process

pytestmark = pytest.mark.slow


def _worker(mirror: Mirror) -> AbstractContextManager[subprocess.Popen[bytes]]:
    log = mirror.settings.data_dir / "worker.log"
    return revlens_process(
        "worker", "--workers", "4", env=settings_environ(mirror.settings), log=log
    )


def _customers(mirror: Mirror) -> int:
    with mirror.database.read() as session:
        count = session.scalar(
            select(func.count())
            .select_from(MirroredObject)
            .where(MirroredObject.object_type == "customer")
        )
    return int(count or 0)


def _complete(mirror: Mirror) -> bool:
    with mirror.database.read() as session:
        statuses = set(session.scalars(select(SyncStream.status)))
    return statuses == {"complete"}


def test_kill_9_mid_backfill_then_restart(mirror: Mirror) -> None:
    now = mirror.emulator.emulator.clock.now()
    mirror.bulk_customers(20_000, start=now - 400 * 86400, spread=400 * 86400 - 20)
    # Slow Stripe down so that the worker is surely killed with pages in flight.
    httpx.post(
        f"{mirror.emulator.url}/_emulator/faults", json={"latency_ms": 40}
    ).raise_for_status()
    make_queue(mirror.settings, database=mirror.database).enqueue(
        sync_account, account_id=mirror.account
    )
    with _worker(mirror) as first:
        deadline = time.monotonic() + 120
        while _customers(mirror) < 4_000:
            assert time.monotonic() < deadline, "the backfill did not start"
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    killed_at = _customers(mirror)
    assert killed_at < 20_001  # killed mid-way
    httpx.post(f"{mirror.emulator.url}/_emulator/faults", json={"latency_ms": 0}).raise_for_status()
    with _worker(mirror):
        deadline = time.monotonic() + 240  # the dead worker's leases expire, the sweep re-queues
        while not _complete(mirror):
            assert time.monotonic() < deadline, f"stuck at {_customers(mirror)} customers"
            time.sleep(0.5)
    expected = mirror.stripe_list("/v1/customers")
    assert len(expected) == 20_001
    assert mirror.stored("customer") == expected
    assert _customers(mirror) == 20_001  # no duplicates, no gaps
