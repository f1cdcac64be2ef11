"""Webhook to metric: how long until a subscription change shows in the API; one JSON line.

Run: .venv/bin/python bench/metrics_freshness.py [--customers N] [--url DATABASE_URL] [--n K]
On the 50,000-customer mirror of bench/metrics_data.py, K times: a signed
`customer.subscription.updated` webhook raises one customer's quantity; the clock runs from the
POST until the customer's MRR timeline in the API shows the new value. Jobs run in the web
process (immediate queue), so this measures the work, not a worker's polling delay.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))

from tests.live_server import live_server

from metrics_data import ACCOUNT, ensure
from revlens.config import load_settings
from revlens.db.session import Database
from revlens.metrics.queries import state_of
from revlens.metrics.service import recompute_account
from revlens.mirror.models import MirroredObject
from revlens.stripe_api.webhooks import sign_payload
from revlens.tasks.queue import make_queue
from revlens.web.app import create_app

DEFAULT_URL = "sqlite:////tmp/revlens-bench-metrics.db"
TOKEN = "bench-admin-token-0123456789abcdef"  # noqa: S105  (a throwaway local server)
SECRET = "whsec_bench_metrics_0123456789abcdef"  # noqa: S105


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _active(database: Database, count: int, seed: int) -> list[dict[str, Any]]:
    with database.read() as session:
        rows = list(
            session.scalars(
                select(MirroredObject.data).where(
                    MirroredObject.account_id == ACCOUNT,
                    MirroredObject.object_type == "subscription",
                    MirroredObject.status == "active",
                )
            )
        )
    return random.Random(seed).sample(rows, count)


def main() -> None:
    """Post webhooks and time how soon the API shows them; print one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--n", type=int, default=20)
    args = parser.parse_args()
    ensure(args.url, args.customers, args.seed)
    database = Database.from_url(args.url)
    with database.unit_of_work() as session:
        state = state_of(session, account_id=ACCOUNT, preset="standard")
        if state is None or state.status != "ready":
            recompute_account(session, account_id=ACCOUNT)
    settings = load_settings(
        {
            "REVLENS_DATA_DIR": tempfile.mkdtemp(prefix="revlens-bench-"),
            "REVLENS_DATABASE_URL": args.url,
            "REVLENS_ADMIN_TOKEN": TOKEN,
            "REVLENS_STRIPE_SECRET_KEY": "sk_test_bench_not_used_0123456789",
            "REVLENS_STRIPE_API_BASE": "http://127.0.0.1:9",
            "REVLENS_STRIPE_WEBHOOK_SECRETS": SECRET,
        }
    )
    queue = make_queue(settings, database=database, immediate=True)
    app = create_app(settings, database=database, queue=queue)
    latencies: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with live_server(app) as url, httpx.Client(base_url=url, timeout=120) as http:
        for index, subscription in enumerate(_active(database, args.n, args.seed)):
            changed = copy.deepcopy(subscription)
            item = changed["items"]["data"][0]
            item["quantity"] += 1
            now = int(time.time())
            event = {
                "id": f"evt_bench_fresh_{now}_{index}",
                "object": "event",
                "type": "customer.subscription.updated",
                "created": now,
                "account": ACCOUNT,
                "data": {
                    "object": changed,
                    "previous_attributes": {"items": subscription["items"]},
                },
            }
            body = json.dumps(event).encode()
            signature = sign_payload(body, SECRET, timestamp=now)
            path = f"/api/v1/accounts/{ACCOUNT}/customers/{subscription['customer']}/mrr"
            before = http.get(path, headers=headers).json()["timeline"][-1]["mrr"]
            began = time.perf_counter()
            posted = http.post(
                "/webhooks/stripe", content=body, headers={"Stripe-Signature": signature}
            )
            posted.raise_for_status()
            while http.get(path, headers=headers).json()["timeline"][-1]["mrr"] == before:
                time.sleep(0.01)
            latencies.append(time.perf_counter() - began)
    database.dispose()
    print(
        json.dumps(
            {
                "bench": "metrics_webhook_freshness",
                "backend": args.url.split(":", 1)[0],
                "customers": args.customers,
                "webhooks": len(latencies),
                "p50_s": round(_p(latencies, 0.5), 3),
                "p95_s": round(_p(latencies, 0.95), 3),
                "target_p95_s": 3,
                "queue": "immediate (jobs in the web process)",
            }
        )
    )


if __name__ == "__main__":
    main()
