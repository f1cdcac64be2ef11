"""Benchmark: backfill 50 connected accounts of Pareto-distributed sizes at once.

Setup inserts each account's customers and charges straight into the emulator's store; the
measured part runs the emulator and `revlens worker` as processes, queues `sync_account` for
every account at the same instant, and polls the mirror. Prints one JSON line: the time until
the last account is complete, and per account the time to first usable data (the first page of
customers stored) and to completion (p50, p95, max).

    .venv/bin/python bench/mirror_accounts.py [--accounts 50] [--min-size 400] [--max-size 20000]
        [--alpha 1.16] [--processes 1] [--threads 4] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mirror_common import (
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
from revlens.tasks.jobs import sync_account
from revlens.tasks.queue import make_queue


def pareto_sizes(count: int, *, alpha: float, low: int, high: int, seed: int) -> list[int]:
    """Return `count` account sizes drawn from a Pareto distribution (80/20 at alpha 1.16)."""
    rng = random.Random(seed)
    return [min(high, int(low * rng.paretovariate(alpha))) for _ in range(count)]


def quantile(values: list[float], share: float) -> float:
    """Return a quantile of the values, rounded to 10 ms."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 2)


def main() -> None:  # noqa: PLR0915 (one linear script)
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--min-size", type=int, default=400)
    parser.add_argument("--max-size", type=int, default=20_000)
    parser.add_argument("--alpha", type=float, default=1.16)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    sizes = pareto_sizes(
        args.accounts, alpha=args.alpha, low=args.min_size, high=args.max_size, seed=42
    )
    with tempfile.TemporaryDirectory() as name, ExitStack() as stack:
        folder = Path(name)
        state = folder / "emulator.sqlite3"
        began = time.perf_counter()
        accounts, key = seed(state, sizes, livemode=True)
        setup_seconds = time.perf_counter() - began
        url, emulator_pid = stack.enter_context(emulator_process(state, folder))
        db_url, drop = database_url(args.database, folder)
        stack.callback(drop)
        environ = revlens_environ(folder, db_url, url, key)
        settings, database = prepare_revlens(environ, accounts)
        stack.callback(database.dispose)
        workers = [
            stack.enter_context(process(worker_args(args.threads), folder / f"w{n}.log", environ))
            for n in range(args.processes)
        ]
        time.sleep(1.0)
        queue = make_queue(settings, database=database)
        size_of = dict(zip(accounts, sizes, strict=True))
        first_data: dict[str, float] = {}
        complete: dict[str, float] = {}
        started = time.perf_counter()
        worker_cpu = sum(cpu_seconds(w.pid) for w in workers)
        for account in accounts:
            queue.enqueue(sync_account, account_id=account)
        while len(complete) < len(accounts):
            now = time.perf_counter() - started
            if now > args.timeout:
                raise SystemExit(f"{len(complete)} of {len(accounts)} complete after {now:.0f} s")
            by_account: dict[str, list[object]] = {}
            for row in stream_rows(database):
                by_account.setdefault(row.account_id, []).append(row)
                if row.stream == "customers" and row.objects > 0:
                    first_data.setdefault(row.account_id, now)
            for account, rows in by_account.items():
                if len(rows) > 1 and all(
                    getattr(r, "status", "") in ("complete", "gap") for r in rows
                ):
                    complete.setdefault(account, now)
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        worker_cpu = sum(cpu_seconds(w.pid) for w in workers) - worker_cpu
        rss = max(peak_rss_mb(w.pid) for w in workers)
        rows = stream_rows(database)
        _ = emulator_pid
    objects = sum(r.objects for r in rows if r.stream != "events")
    requests = sum(r.requests for r in rows)
    firsts = [first_data.get(a, complete[a]) for a in accounts]
    completions = [complete[a] for a in accounts]
    largest = max(accounts, key=lambda a: size_of[a])
    result = {
        "benchmark": "mirror_accounts",
        "database": args.database,
        "accounts": len(accounts),
        "objects": objects,
        "sizes": {
            "min": min(sizes),
            "p50": sorted(sizes)[len(sizes) // 2],
            "max": max(sizes),
            "total": sum(sizes),
        },
        "last_complete_seconds": round(elapsed, 2),
        "objects_per_second": round(objects / elapsed, 1),
        "first_data_p50_seconds": quantile(firsts, 0.5),
        "first_data_p95_seconds": quantile(firsts, 0.95),
        "first_data_max_seconds": quantile(firsts, 1.0),
        "complete_p50_seconds": quantile(completions, 0.5),
        "complete_p95_seconds": quantile(completions, 0.95),
        "largest_account_complete_seconds": round(complete[largest], 2),
        "requests": requests,
        "requests_per_object": round(requests / max(1, objects), 5),
        "http_429": sum(r.rate_limited for r in rows),
        "worker_peak_rss_mb": round(rss, 1),
        "worker_cpu_seconds": round(worker_cpu, 1),
        "processes": args.processes,
        "threads": args.threads,
        "setup_seconds": round(setup_seconds, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
