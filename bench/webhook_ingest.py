"""Benchmark: signed events into `POST /webhooks/stripe` of a `revlens serve` process.

The web app runs as its own process (`python -m revlens serve`, SQLite database and queue, no
worker: only ingest is measured: verify, store raw, enqueue, answer). This process sends
pre-signed events over keep-alive HTTP/1.1 connections from one asyncio loop. Three phases:

- `saturated`: as fast as `--connections` connections go; events/s and time to the 2xx.
- `paced`: `--rate` events/s spread evenly; p50/p99 time to the 2xx at that load.
- `kill`: load, `kill -9` of the web process mid-way (of all its processes with
  `--web-workers N`), restart; every event that was answered 2xx must be in the event log
  (`lost` counts those that are not).

Prints one JSON line.

    .venv/bin/python bench/webhook_ingest.py [--events 20000] [--rate 1000] [--connections 16]
        [--database sqlite|postgresql] [--runs 1] [--web-workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import orjson
from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mirror_common import (
    WEBHOOK_SECRET,
    cpu_seconds,
    database_url,
    free_port,
    prepare_revlens,
    process,
    process_tree,
    revlens_environ,
)
from revlens.mirror.models import StripeEvent
from revlens.stripe_api.webhooks import sign_payload

ACCOUNT = "acct_benchingestbench1"


def make_events(prefix: str, count: int) -> list[tuple[str, bytes, str]]:
    """Return (event id, body, signature) of `count` customer.updated events, signed now."""
    now = int(time.time())
    made = []
    for n in range(count):
        event_id = f"evt_{prefix}{n:010d}"
        body = orjson.dumps(
            {
                "id": event_id,
                "object": "event",
                "account": ACCOUNT,
                "api_version": "2026-08-26.dahlia",
                "created": now,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": "customer.updated",
                "data": {
                    "object": {
                        "id": f"cus_{prefix}{n % 5000:08d}",
                        "object": "customer",
                        "created": now - 86400,
                        "email": f"c{n}@ingest.test",
                        "livemode": False,
                        "metadata": {"n": str(n)},
                        "name": f"Customer {n}",
                    },
                    "previous_attributes": {"name": None},
                },
            }
        )
        made.append((event_id, body, sign_payload(body, WEBHOOK_SECRET, timestamp=now)))
    return made


class Connection:
    """One keep-alive HTTP/1.1 connection that posts an event and reads the status."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes, signature: str) -> int:
        """Send one event; return the status code."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST /webhooks/stripe HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nStripe-Signature: {signature}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("closed")
        status = int(status_line.split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        """Close the socket."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def send_all(
    port: int,
    events: list[tuple[str, bytes, str]],
    *,
    connections: int,
    rate: float | None,
    acknowledged: list[str] | None = None,
) -> tuple[list[float], int, float]:
    """Post every event; return latencies (s), failures, and the wall time."""
    latencies: list[float] = []
    failures = 0
    queue: asyncio.Queue[tuple[int, tuple[str, bytes, str]]] = asyncio.Queue()
    for item in enumerate(events):
        queue.put_nowait(item)
    began = time.perf_counter()

    async def run() -> None:
        nonlocal failures
        connection = Connection("127.0.0.1", port)
        while not queue.empty():
            index, (event_id, body, signature) = queue.get_nowait()
            if rate:
                due = began + index / rate
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
            sent = time.perf_counter()
            try:
                status = await connection.post(body, signature)
            except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError):
                failures += 1
                connection.close()
                continue
            latencies.append(time.perf_counter() - sent)
            if 200 <= status < 300:
                if acknowledged is not None:
                    acknowledged.append(event_id)
            else:
                failures += 1
        connection.close()

    await asyncio.gather(*(run() for _ in range(connections)))
    return latencies, failures, time.perf_counter() - began


def listening(port: int) -> int:
    """Count the sockets listening on a local TCP port (one per `revlens serve` process)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            count += int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A"
    return count


def wait_ready(port: int, processes: int = 1) -> None:
    """Wait until the web app answers and each of its processes listens."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
        except httpx.HTTPError:
            time.sleep(0.1)
            continue
        if listening(port) >= processes:
            return
        time.sleep(0.1)
    raise RuntimeError("revlens serve did not start")


def percentile(values: list[float], share: float) -> float:
    """Return a percentile in milliseconds."""
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000, 2)


def main() -> None:
    """Run the benchmark `--runs` times and print one JSON line (medians; losses summed)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--web-workers", type=int, default=1, help="revlens serve --workers")
    args = parser.parse_args()
    runs = [run_once(args) for _ in range(args.runs)]
    result = dict(runs[-1])
    for key, value in result.items():
        if isinstance(value, float) and key != "paced_target_per_second":
            result[key] = statistics.median(float(run[key]) for run in runs)
    for key in ("kill_acknowledged", "kill_stored", "kill_lost", "saturated_failures"):
        result[key] = sum(int(run[key]) for run in runs)
    result |= {
        "runs": args.runs,
        "saturated_events_per_second_each": [run["saturated_events_per_second"] for run in runs],
        "saturated_p99_ms_each": [run["saturated_p99_ms"] for run in runs],
        "paced_p99_ms_each": [run["paced_p99_ms"] for run in runs],
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


def run_once(args: argparse.Namespace) -> dict[str, object]:
    """Run the three phases once against a fresh web process and database."""
    with tempfile.TemporaryDirectory() as name, ExitStack() as stack:
        folder = Path(name)
        db_url, drop = database_url(args.database, folder)
        stack.callback(drop)
        environ = revlens_environ(folder, db_url, "http://127.0.0.1:9")
        _, database = prepare_revlens(environ, [])
        stack.callback(database.dispose)
        port = free_port()
        serve = [sys.executable, "-m", "revlens", "serve", "--port", str(port)]
        serve += ["--workers", str(args.web_workers)]
        result: dict[str, object] = {
            "benchmark": "webhook_ingest",
            "database": args.database,
            "web_workers": args.web_workers,
        }
        with process(serve, folder / "serve.log", environ, group=True) as web:
            wait_ready(port, args.web_workers)
            warm = make_events("warm", 500 * args.web_workers)
            asyncio.run(send_all(port, warm, connections=args.connections, rate=None))
            pids = process_tree(web.pid)
            cpu_before = [cpu_seconds(pid) for pid in pids]
            saturated = make_events("sat", args.events)
            latencies, failures, elapsed = asyncio.run(
                send_all(port, saturated, connections=args.connections, rate=None)
            )
            result |= {
                "saturated_events_per_second": round(len(saturated) / elapsed, 1),
                "saturated_p50_ms": percentile(latencies, 0.5),
                "saturated_p99_ms": percentile(latencies, 0.99),
                "saturated_failures": failures,
            }
            # Every process of the server (with --web-workers, how evenly the load spread).
            used = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu_before, strict=True)]
            result |= {
                "web_cpu_ms_per_event": round(sum(used) / len(saturated) * 1000, 3),
                "web_cpu_ms_per_event_by_process": [
                    round(u / len(saturated) * 1000, 3) for u in used if u > 0.05
                ],
            }
            paced = make_events("pace", int(args.rate * 10))
            latencies, failures, elapsed = asyncio.run(
                send_all(port, paced, connections=args.connections, rate=args.rate)
            )
            result |= {
                "paced_target_per_second": args.rate,
                "paced_events_per_second": round(len(paced) / elapsed, 1),
                "paced_p50_ms": round(statistics.median(latencies) * 1000, 2),
                "paced_p99_ms": percentile(latencies, 0.99),
                "paced_failures": failures,
            }
            # Kill -9 mid-load: every acknowledged event must be in the log after a restart.
            doomed = make_events("kill", args.events)
            acknowledged: list[str] = []

            async def load_and_kill() -> None:
                sender = asyncio.ensure_future(
                    send_all(
                        port,
                        doomed,
                        connections=args.connections,
                        rate=None,
                        acknowledged=acknowledged,
                    )
                )
                while len(acknowledged) < args.events // 3:
                    await asyncio.sleep(0.005)
                os.killpg(web.pid, signal.SIGKILL)  # the server and all its workers
                await sender

            asyncio.run(load_and_kill())
            web.wait()
        with process(serve, folder / "serve2.log", environ, group=True):
            wait_ready(port, args.web_workers)
            with database.read() as session:
                stored = set(
                    session.scalars(
                        select(StripeEvent.event_id).where(StripeEvent.event_id.like("evt_kill%"))
                    )
                )
        lost = [event_id for event_id in acknowledged if event_id not in stored]
        result |= {
            "kill_acknowledged": len(acknowledged),
            "kill_stored": len(stored),
            "kill_lost": len(lost),
            "connections": args.connections,
            "load_average_1m": round(os.getloadavg()[0], 2),
            "cpus": os.cpu_count(),
        }
    return result


if __name__ == "__main__":
    main()
