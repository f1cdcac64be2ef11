"""The metrics API on a 50,000-customer account: a 3-year daily series over HTTP; one JSON line.

Run: .venv/bin/python bench/metrics_api.py [--customers N] [--url DATABASE_URL] [--requests K]
Uses the mirror of bench/metrics_data.py (recomputed first if needed) and a real server. Reports
the first request (the process loads the ledger), then p50/p95 of K requests for different
3-year windows (the ledger is warm, every series is computed), then K repeats of one window.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from tests.live_server import live_server

from metrics_data import ACCOUNT, ensure
from revlens.config import load_settings
from revlens.db.session import Database
from revlens.metrics.queries import state_of
from revlens.metrics.service import recompute_account
from revlens.tasks.queue import make_queue
from revlens.web.app import create_app

DEFAULT_URL = "sqlite:////tmp/revlens-bench-metrics.db"
TOKEN = "bench-admin-token-0123456789abcdef"  # noqa: S105  (a throwaway local server)
LAST = date(2024, 12, 31)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    """Time the daily series endpoint; print one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    ensure(args.url, args.customers, args.seed)
    database = Database.from_url(args.url)
    with database.unit_of_work() as session:
        state = state_of(session, account_id=ACCOUNT, preset="standard")
        if state is None or state.status != "ready":
            recompute_account(session, account_id=ACCOUNT)
    folder = tempfile.mkdtemp(prefix="revlens-bench-")
    settings = load_settings(
        {
            "REVLENS_DATA_DIR": folder,
            "REVLENS_DATABASE_URL": args.url,
            "REVLENS_ADMIN_TOKEN": TOKEN,
        }
    )
    queue = make_queue(settings, database=database, immediate=True)
    app = create_app(settings, database=database, queue=queue)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with live_server(app) as url, httpx.Client(base_url=url, headers=headers, timeout=120) as http:

        def get(end: date) -> tuple[float, int]:
            start = end - timedelta(days=3 * 365)
            params = {"start": start.isoformat(), "end": end.isoformat(), "interval": "day"}
            began = time.perf_counter()
            answer = http.get(f"/api/v1/accounts/{ACCOUNT}/metrics", params=params)
            elapsed = time.perf_counter() - began
            answer.raise_for_status()
            return elapsed, len(answer.json()["series"])

        cold, days = get(LAST)
        varied = [get(LAST - timedelta(days=n + 1))[0] for n in range(args.requests)]
        repeated = [get(LAST)[0] for _ in range(args.requests)]
    database.dispose()
    print(
        json.dumps(
            {
                "bench": "metrics_api_daily_series",
                "backend": args.url.split(":", 1)[0],
                "customers": args.customers,
                "days": days,
                "first_request_s": round(cold, 3),
                "p50_ms": round(statistics.median(varied) * 1000, 1),
                "p95_ms": round(_p(varied, 0.95) * 1000, 1),
                "repeated_p95_ms": round(_p(repeated, 0.95) * 1000, 1),
                "target_p95_ms": 150,
            }
        )
    )


if __name__ == "__main__":
    main()
