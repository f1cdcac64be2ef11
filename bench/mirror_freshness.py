"""Benchmark: time from a change at (emulated) Stripe to the updated row in the mirror.

Runs the emulator, `revlens serve` and `revlens worker` as processes, registers revlens'
endpoints with `revlens webhooks setup`, backfills one account, then updates its customers
through the SDK at `--rate` per second. Each change is timed from just before its API request
is sent (conservative: it includes the request) until the mirror row holds the new value,
polling the database every 20 ms. The path: emulator event → signed delivery →
`POST /webhooks/stripe` (store, enqueue) → worker → `apply_event`. Prints one JSON line.

    .venv/bin/python bench/mirror_freshness.py [--changes 300] [--rate 10] [--threads 4]
        [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import orjson
import stripe
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mirror_common import (
    database_url,
    emulator_process,
    free_port,
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


def main() -> None:  # noqa: PLR0915 (one linear script)
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=300)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name, ExitStack() as stack:
        folder = Path(name)
        state = folder / "emulator.sqlite3"
        (account,), key = seed(state, [2000], charge_share=0.0)
        url, _ = stack.enter_context(emulator_process(state, folder))
        db_url, drop = database_url(args.database, folder)
        stack.callback(drop)
        port = free_port()
        environ = {
            **revlens_environ(folder, db_url, url, key),
            "REVLENS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        }
        settings, database = prepare_revlens(environ, [account])
        stack.callback(database.dispose)
        serve = [sys.executable, "-m", "revlens", "serve", "--port", str(port)]
        stack.enter_context(process(serve, folder / "serve.log", environ))
        stack.enter_context(process(worker_args(args.threads), folder / "worker.log", environ))
        subprocess.run(
            [sys.executable, "-m", "revlens", "webhooks", "setup"],
            env=environ,
            check=True,
            capture_output=True,
            timeout=120,
        )
        make_queue(settings, database=database).enqueue(sync_account, account_id=account)
        deadline = time.monotonic() + 300
        while True:
            rows = stream_rows(database)
            if rows and all(r.status in ("complete", "gap") for r in rows):
                break
            if time.monotonic() > deadline:
                raise SystemExit("the backfill did not complete")
            time.sleep(0.2)
        client = stripe.StripeClient(
            key, base_addresses={"api": url, "connect": url}, max_network_retries=0
        )
        customers = [f"cus_b000x{n:09d}" for n in range(args.changes)]
        sent: dict[str, tuple[str, float]] = {}
        lock = threading.Lock()

        def change() -> None:
            began = time.perf_counter()
            for index, customer in enumerate(customers):
                due = began + index / args.rate
                time.sleep(max(0.0, due - time.perf_counter()))
                value = f"fresh {index}"
                with lock:
                    sent[customer] = (value, time.perf_counter())
                client.v1.customers.update(customer, {"name": value}, {"stripe_account": account})

        changer = threading.Thread(target=change)
        changer.start()
        latencies: list[float] = []
        seen: set[str] = set()
        deadline = time.monotonic() + args.changes / args.rate + 60
        while len(seen) < args.changes and time.monotonic() < deadline:
            with lock:
                pending = {c: v for c, v in sent.items() if c not in seen}
            if pending:
                with database.read() as session:
                    found = session.execute(
                        select(MirroredObject.stripe_id, MirroredObject.data).where(
                            MirroredObject.account_id == account,
                            MirroredObject.object_type == "customer",
                            MirroredObject.stripe_id.in_(list(pending)),
                        )
                    ).all()
                now = time.perf_counter()
                for stripe_id, data in found:
                    value, at = pending[stripe_id]
                    if data.get("name") == value:
                        seen.add(stripe_id)
                        latencies.append(now - at)
            time.sleep(0.02)
        changer.join()
    ordered = sorted(latencies)

    def pct(share: float) -> float | None:
        if not ordered:
            return None
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 3)

    result = {
        "benchmark": "mirror_freshness",
        "database": args.database,
        "changes": args.changes,
        "rate_per_second": args.rate,
        "seen": len(seen),
        "missing": args.changes - len(seen),
        "p50_seconds": round(statistics.median(ordered), 3) if ordered else None,
        "p95_seconds": pct(0.95),
        "p99_seconds": pct(0.99),
        "max_seconds": pct(1.0),
        "path": "webhook",
        "threads": args.threads,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
