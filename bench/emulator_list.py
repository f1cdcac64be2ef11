"""Benchmark: page through 1,000,000 customers of one connected account over HTTP.

Setup inserts the customers straight into the emulator's SQLite store (fast, and fine for a
benchmark); the measured part runs the emulator as its own process (`python -m stripe_emulator`)
and pages with `limit=100`, `starting_after`, `Stripe-Account`, exactly as the SDK's
`auto_paging_iter` does, decoding each page with orjson. Prints one JSON line, with the CPU time
per page of the server process and of this client.

The client is the standard library's keep-alive `http.client`: httpx spends about twice its CPU
per page (URL parsing, header models, h11), more than the emulator spends serving the page, so
on a two-core machine it measured the client. `--client httpx` runs the former client.

    .venv/bin/python bench/emulator_list.py [--customers N] [--pages N] [--client stdlib|httpx]
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.emulator import Emulator
from stripe_emulator.resources.accounts import account_object
from stripe_emulator.store import Scope

SECRET_KEY = "sk_test_benchmarkbenchmarkbench"  # noqa: S105 (a throwaway test key)
BATCH = 20_000


def seed(state: Path, customers: int) -> str:
    """Create a connected account holding `customers` customers; return its id."""
    emulator = Emulator(EmulatorConfig(state_file=str(state), secret_key=SECRET_KEY, seed=7))
    try:
        now = emulator.clock.now()
        platform = Scope(emulator.platform.account_id, False)
        account_id = emulator.ids.make("acct", 16)
        account = account_object(now, account_id, livemode=False, params={})
        with emulator.store.transaction():
            emulator.store.insert(platform, "account", account)
            emulator.connections.connect(account_id, livemode=False, scope="read_write", now=now)
        scope = Scope(account_id, False)
        template = {
            "object": "customer",
            "address": None,
            "balance": 0,
            "business_name": None,
            "currency": None,
            "customer_account": None,
            "default_source": None,
            "delinquent": False,
            "description": None,
            "discount": None,
            "individual_name": None,
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": {"source": "bench"},
            "name": None,
            "next_invoice_sequence": 1,
            "phone": None,
            "preferred_locales": [],
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        start = now - customers  # one second apart, several per second near the end
        for offset in range(0, customers, BATCH):
            rows = []
            for index in range(offset, min(offset + BATCH, customers)):
                email = f"customer{index}@bench.test"
                obj = {
                    "id": f"cus_{index:014d}",
                    **template,
                    "created": start + index // 3,
                    "email": email,
                    "invoice_prefix": f"{index:08X}"[:8],
                    "name": f"Customer {index}",
                }
                rows.append((obj, (email, None)))
            with emulator.store.transaction():
                emulator.store.insert_many(scope, "customer", rows)
        return account_id
    finally:
        emulator.close()


def start_server(state: Path) -> tuple[subprocess.Popen[str], str]:
    """Run the emulator CLI on a free port and return the process and its URL."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stripe_emulator",
            "--port",
            "0",
            "--state",
            str(state),
            "--secret-key",
            SECRET_KEY,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"(http://\S+)", line)
    if match is None:
        process.kill()
        raise RuntimeError(f"emulator did not start: {line}")
    return process, match.group(1)


def peak_rss_mb(pid: int) -> float:
    """Return a process's peak resident set size in MiB (Linux)."""
    text = Path(f"/proc/{pid}/status").read_text()
    kib = int(re.search(r"VmHWM:\s+(\d+)", text).group(1))  # type: ignore[union-attr]
    return kib / 1024


def cpu_seconds(pid: int) -> float:
    """Return a process's user + system CPU time in seconds (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


Get = Callable[[str], tuple[int, bytes]]


@contextmanager
def stdlib_client(url: str, headers: dict[str, str]) -> Iterator[Get]:
    """Yield a GET function over one keep-alive `http.client` connection."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)

    def get(path: str) -> tuple[int, bytes]:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()

    try:
        yield get
    finally:
        connection.close()


@contextmanager
def httpx_client(url: str, headers: dict[str, str]) -> Iterator[Get]:
    """Yield a GET function over an httpx client (the benchmark's former client)."""
    with httpx.Client(base_url=url, headers=headers, timeout=30) as client:

        def get(path: str) -> tuple[int, bytes]:
            response = client.get(path)
            return response.status_code, response.content

        yield get


CLIENTS = {"stdlib": stdlib_client, "httpx": httpx_client}


def page_through(url: str, account: str, max_pages: int, client: str) -> tuple[list[float], int]:
    """Page newest-first with limit=100; return per-page latencies and objects seen."""
    latencies: list[float] = []
    seen = 0
    path = "/v1/customers?limit=100"
    headers = {"Authorization": f"Bearer {SECRET_KEY}", "Stripe-Account": account}
    with CLIENTS[client](url, headers) as get:
        while len(latencies) < max_pages:
            began = time.perf_counter()
            status, content = get(path)
            body = orjson.loads(content)
            latencies.append(time.perf_counter() - began)
            if status != 200:
                raise RuntimeError(content.decode())
            seen += len(body["data"])
            if not body["has_more"]:
                break
            path = f"/v1/customers?limit=100&starting_after={body['data'][-1]['id']}"
    return latencies, seen


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=10_000)
    parser.add_argument("--client", choices=sorted(CLIENTS), default="stdlib")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "bench.sqlite3"
        began = time.perf_counter()
        account = seed(state, args.customers)
        setup_seconds = time.perf_counter() - began
        process, url = start_server(state)
        try:
            page_through(url, account, 20, args.client)  # warm the connection and the page cache
            server_cpu = cpu_seconds(process.pid)
            client_cpu = time.process_time()
            began = time.perf_counter()
            latencies, seen = page_through(url, account, args.pages, args.client)
            elapsed = time.perf_counter() - began
            client_cpu = time.process_time() - client_cpu
            server_cpu = cpu_seconds(process.pid) - server_cpu
            server_rss = peak_rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(timeout=10)
    ordered = sorted(latencies)
    result = {
        "benchmark": "emulator_list",
        "customers": args.customers,
        "client": args.client,
        "pages": len(latencies),
        "objects": seen,
        "pages_per_second": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(ordered[int(len(ordered) * 0.99) - 1] * 1000, 3),
        "server_cpu_ms_per_page": round(server_cpu / len(latencies) * 1000, 3),
        "client_cpu_ms_per_page": round(client_cpu / len(latencies) * 1000, 3),
        "load_average": round(os.getloadavg()[0], 2),
        "server_peak_rss_mb": round(server_rss, 1),
        "client_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "setup_seconds": round(setup_seconds, 1),
        "cpus": os.cpu_count(),
    }
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
