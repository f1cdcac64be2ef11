"""Full metrics recompute of a mirrored account (50,000 customers, 3 years); one JSON line.

Run: .venv/bin/python bench/metrics_recompute.py [--customers N] [--url DATABASE_URL]
The mirror rows are written straight into the database first (bench/metrics_data.py, reused
between runs). Timed: reading the mirror, rebuilding every history, computing every customer's
contribution (standard preset, explained movements), writing the rows, the cash, the commit.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics_data import ACCOUNT, ensure
from revlens.db.session import Database
from revlens.metrics.service import recompute_account

DEFAULT_URL = "sqlite:////tmp/revlens-bench-metrics.db"


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    """Build (or reuse) the mirror, time one full recompute, print one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    setup = ensure(args.url, args.customers, args.seed)
    database = Database.from_url(args.url)
    began, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    with database.unit_of_work() as session:
        done = recompute_account(session, account_id=ACCOUNT)
    elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
    workers = _children_cpu() - children
    database.dispose()
    print(
        json.dumps(
            {
                "bench": "metrics_recompute",
                "backend": args.url.split(":", 1)[0],
                "customers": done.customers,
                "movements": done.movements,
                "cash_days": done.cash_days,
                "mirror_rows": setup["rows"],
                "full_recompute_s": round(elapsed, 2),
                # The machine is shared: CPU seconds show the work whatever the load (this
                # process's, and its worker processes' once they ended).
                "cpu_s": round(cpu + workers, 2),
                "cpu_main_s": round(cpu, 2),
                "cpu_workers_s": round(workers, 2),
                "load_1m": round(os.getloadavg()[0], 2),
                "target_s": 30,
            }
        )
    )


if __name__ == "__main__":
    main()
