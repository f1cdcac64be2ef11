"""Benchmark: seed a scenario (default 10,000 customers over 24 months) and time it.

The generator drives the emulator through its API and clock control API, exactly as
`python -m stripe_emulator seed` does: by default with emulators in this process and its
children, requests handed to their application without a socket (the history is played in
parts, one process per CPU or `--processes`, merged into a state file in a temporary folder);
with `--http` each served on a port and driven over HTTP; or with `--subprocess` as one
emulator process (`python -m stripe_emulator --control --now START --seed S --state FILE`,
driven whole as `seed --url` drives it). Prints one JSON line: wall and CPU seconds (children
included), the events of the history, and events generated per wall second.

    .venv/bin/python bench/emulator_seed.py [--customers N] [--months K] [--accounts A]
        [--seed S] [--processes P] [--http | --subprocess] [--profile FILE]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import orjson

from stripe_emulator.resources.discounts import add_months
from stripe_emulator.scenario.run import ScenarioOptions, run

END = 1_767_225_600  # 2026-01-01 00:00 UTC


def main() -> None:
    """Run the benchmark and print its JSON line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--processes", type=int, default=None, help="play the parts in N processes (default: CPUs)"
    )
    parser.add_argument("--subprocess", action="store_true", help="run the emulator apart")
    parser.add_argument("--http", action="store_true", help="serve it on a port in this process")
    parser.add_argument("--profile", default=None, help="write a cProfile dump here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state.db"
        started = time.perf_counter()
        cpu_started = _cpu_seconds()
        server = _start_emulator(args, state) if args.subprocess else None
        options = ScenarioOptions(
            accounts=args.accounts,
            customers=args.customers,
            months=args.months,
            seed=args.seed,
            end=END,
            truth=Path(folder) / "truth.json",
            url=None if server is None else server[1],
            state=str(state) if server is None else None,
            http=args.http,
            processes=args.processes,
        )
        try:
            if args.profile:
                profiler = cProfile.Profile()
                summary = profiler.runcall(run, options)
                profiler.dump_stats(args.profile)
            else:
                summary = run(options)
        finally:
            if server is not None:
                server[0].terminate()
                server[0].wait(timeout=30)
        seconds = time.perf_counter() - started
        cpu_seconds = _cpu_seconds() - cpu_started
        with closing(sqlite3.connect(state)) as db:
            stored = db.execute("SELECT COUNT(*) FROM objects WHERE type='event'").fetchone()[0]
    # Every event of the history, stored or past the Events API's 30-day retention at the end
    # (a seeding stores only the last 30 days); a --subprocess emulator reports none: stored.
    events = summary["events"] if summary["events"] is not None else stored
    print(
        orjson.dumps(
            {
                "benchmark": "emulator_seed",
                "accounts": summary["accounts"],
                "customers": summary["customers"],
                "months": args.months,
                "subscriptions": summary["subscriptions"],
                "shards": summary["shards"],
                "processes": options.process_count(),
                "events": events,
                "events_stored": stored,
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu_seconds, 2),
                "events_per_second": round(events / seconds, 1),
                "events_per_cpu_second": round(events / cpu_seconds, 1),
                "simulated_days": summary["simulated_seconds"] // 86400,
                "transport": "subprocess" if args.subprocess else "http" if args.http else "local",
                # Other work on the machine stretches wall time: say how busy it was.
                "load_average_1m": os.getloadavg()[0],
            }
        ).decode()
    )


def _cpu_seconds() -> float:
    """Return the CPU time of this process and its finished children (a --subprocess emulator)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _start_emulator(args: argparse.Namespace, state: Path) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m stripe_emulator` at the scenario's start; return it and its URL."""
    start = add_months(END, -args.months)
    command = [sys.executable, "-m", "stripe_emulator", "--port", "0", "--control"]
    command += ["--now", str(start), "--seed", str(args.seed), "--state", str(state)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"http://\S+", line)
    if found is None:
        process.terminate()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return process, found.group(0)


if __name__ == "__main__":
    main()
