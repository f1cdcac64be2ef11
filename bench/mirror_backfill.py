"""Benchmark: backfill one connected account of N objects (customers and charges) end to end.

Setup inserts the objects straight into the emulator's store; the measured part runs the
emulator (`python -m stripe_emulator --control --state …`) and `revlens worker` as their own
processes, queues `sync_account` and waits until every stream is complete. Prints one JSON line:
objects/s, the workers' peak RSS, requests per object, 429s, and (with `--rate-limited`, the
emulator's test-mode limits of 25 requests/s on) the share of the request budget used.

    .venv/bin/python bench/mirror_backfill.py [--objects 200000] [--rate-limited]
        [--processes 1] [--threads 4] [--database sqlite|postgresql] [--runs 1]

With `--runs N` the account is seeded once and backfilled N times (fresh emulator process,
database and workers each time); the line holds the medians, and each run's objects/s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mirror_common import (
    control,
    cpu_seconds,
    database_url,
    emulator_process,
    peak_rss_mb,
    prepare_revlens,
    process,
    revlens_environ,
    seed,
    stream_rows,
    worker_args,
)
from revlens.mirror.models import MirroredObject
from revlens.tasks.jobs import sync_account
from revlens.tasks.queue import make_queue

TEST_RATE = 25.0


MEDIAN_KEYS = (
    "seconds",
    "objects_per_second",
    "requests_per_object",
    "http_429_share",
    "budget_use",
    "worker_peak_rss_mb",
    "worker_cpu_seconds",
    "emulator_cpu_seconds",
    "objects_per_worker_cpu_second",
)


def main() -> None:
    """Run the benchmark `--runs` times on one seeded state; print one JSON line of medians."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=200_000)
    parser.add_argument("--rate-limited", action="store_true")
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        seeded = Path(name) / "seeded.sqlite3"
        began = time.perf_counter()
        # Without the emulator's limits, read as a live key does: revlens budgets 100 requests/s
        # per account (25 per endpoint) for live keys, 25 for test keys.
        (account,), key = seed(seeded, [args.objects], livemode=not args.rate_limited)
        setup_seconds = time.perf_counter() - began
        runs = []
        for number in range(args.runs):
            folder = Path(name) / f"run{number}"
            folder.mkdir()
            shutil.copy(seeded, folder / "emulator.sqlite3")
            runs.append(run_once(args, folder, account, key))
    result = dict(runs[-1])
    for name_ in MEDIAN_KEYS:
        result[name_] = statistics.median(run[name_] for run in runs)
    result |= {
        "runs": args.runs,
        "objects_per_second_each": [run["objects_per_second"] for run in runs],
        "setup_seconds": round(setup_seconds, 1),
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


def run_once(args: argparse.Namespace, folder: Path, account: str, key: str) -> dict[str, Any]:
    """Backfill the seeded account once with fresh revlens processes and database."""
    state = folder / "emulator.sqlite3"
    with ExitStack() as stack:
        url, emulator_pid = stack.enter_context(emulator_process(state, folder))
        if args.rate_limited:
            control(url, "rate_limits", {"enabled": True})
        db_url, drop = database_url(args.database, folder)
        stack.callback(drop)
        environ = revlens_environ(folder, db_url, url, key)
        settings, database = prepare_revlens(environ, [account])
        stack.callback(database.dispose)
        workers = [
            stack.enter_context(process(worker_args(args.threads), folder / f"w{n}.log", environ))
            for n in range(args.processes)
        ]
        time.sleep(1.0)  # the workers' imports and first poll
        queue = make_queue(settings, database=database)
        started = time.perf_counter()
        cpu_before = [cpu_seconds(w.pid) for w in workers], cpu_seconds(emulator_pid)
        queue.enqueue(sync_account, account_id=account)
        while True:
            rows = stream_rows(database)
            if rows and all(row.status in ("complete", "gap") for row in rows):
                break
            if time.perf_counter() - started > args.timeout:
                raise SystemExit(f"backfill incomplete after {args.timeout} s")
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        rss = max(peak_rss_mb(worker.pid) for worker in workers)
        worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - sum(cpu_before[0])
        emulator_cpu = cpu_seconds(emulator_pid) - cpu_before[1]
        with database.read() as session:
            stored = session.scalar(
                select(func.count())
                .select_from(MirroredObject)
                .where(MirroredObject.account_id == account)
            )
    objects = int(stored or 0)
    requests = sum(row.requests for row in rows) + 1  # + the account read that froze the bound
    rate_limited = sum(row.rate_limited for row in rows)
    return {
        "benchmark": "mirror_backfill",
        "database": args.database,
        "rate_limited": args.rate_limited,
        "key_mode": "test" if args.rate_limited else "live",
        "objects": objects,
        "seconds": round(elapsed, 2),
        "objects_per_second": round(objects / elapsed, 1),
        "requests": requests,
        "requests_per_object": round(requests / max(1, objects), 5),
        "http_429": rate_limited,
        "http_429_share": round(rate_limited / requests, 4),
        "retries": sum(row.retries for row in rows),
        "budget_use": round((requests - rate_limited) / elapsed / TEST_RATE, 3),
        "worker_peak_rss_mb": round(rss, 1),
        "worker_cpu_seconds": round(worker_cpu, 1),
        "objects_per_worker_cpu_second": round(objects / max(0.1, worker_cpu)),
        "emulator_cpu_seconds": round(emulator_cpu, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "processes": args.processes,
        "threads": args.threads,
        "gaps": [row.stream for row in rows if row.status == "gap"],
        "cpus": os.cpu_count(),
    }


if __name__ == "__main__":
    main()
