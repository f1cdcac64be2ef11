"""Benchmark: signed webhook deliveries per second to a local receiver that answers 200.

The emulator runs as its own process (`python -m stripe_emulator`), the receiver as another (a
bare asyncio HTTP server in this file, `--sink`), and this process creates customers on a
connected account through the API with a few client threads. Every customer.created event goes
to `--endpoints` account endpoints of the connected account plus the platform's Connect endpoint.
Latency runs from just before the create request is sent (conservative: it includes the API
call) to the receiver reading the delivery.

Two phases: `saturated` creates events as fast as the clients can (maximum deliveries per
second); `paced` creates them at the rate that asks for `--paced` deliveries per second (the
latency at the target load). Prints one JSON line, with the CPU time per delivery of the
emulator, the receiver and this client in each phase.

    .venv/bin/python bench/emulator_webhooks.py [--events N] [--endpoints K] [--threads T]
        [--paced DELIVERIES_PER_SECOND]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import orjson

SECRET_KEY = "sk_test_benchmarkbenchmarkbench"  # noqa: S105 (a throwaway test key)


# ---- the receiver (runs in its own process) --------------------------------------------------


class _SinkProtocol(asyncio.Protocol):
    """Answers every POST with 200 and notes (receive time, object id); GET returns the count."""

    def __init__(self, records: list[tuple[float, str]]) -> None:
        self.records = records
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            found = re.search(rb"content-length:\s*(\d+)", head)
            length = int(found.group(1)) if found else 0
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4 : end + 4 + length]
            self.buffer = self.buffer[end + 4 + length :]
            assert self.transport is not None
            if head.startswith(b"get"):
                count = str(len(self.records)).encode()
                reply = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(count), count)
                self.transport.write(reply)
                continue
            received = time.time()
            self.records.append((received, orjson.loads(body)["data"]["object"]["id"]))
            self.transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")


def serve_sink(out: Path) -> None:
    """Run the receiver until SIGTERM, then write its records to `out`."""
    records: list[tuple[float, str]] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _SinkProtocol(records), "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        server.close()

    asyncio.run(run())
    out.write_bytes(orjson.dumps(records))


# ---- the driver -----------------------------------------------------------------------------


def start_emulator() -> tuple[subprocess.Popen[str], str]:
    """Run the emulator CLI on a free port and return the process and its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_emulator", "--port", "0", "--secret-key", SECRET_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    match = re.search(r"(http://\S+)", process.stdout.readline())
    if match is None:
        process.kill()
        raise RuntimeError("emulator did not start")
    return process, match.group(1)


def start_sink(out: Path) -> tuple[subprocess.Popen[str], str]:
    """Run the receiver process and return it and its base URL."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--sink", str(out)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, f"http://127.0.0.1:{int(process.stdout.readline())}"


def create_customers(
    url: str, account: str, count: int, threads: int, rate: float = 0.0
) -> dict[str, float]:
    """Create `count` customers over `threads` connections, at `rate` per second if given;
    return id → time before sending."""
    started: dict[str, float] = {}
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {SECRET_KEY}", "Stripe-Account": account}
    interval = threads / rate if rate else 0.0
    origin = time.time()

    def work(index: int, share: int) -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            for n in range(share):
                if interval:
                    slot = origin + (n + index / threads) * interval
                    time.sleep(max(0.0, slot - time.time()))
                began = time.time()
                response = http.post("/v1/customers", data={"name": "Bench"})
                with lock:
                    started[response.json()["id"]] = began

    workers = [
        threading.Thread(target=work, args=(i, count // threads + (i < count % threads)))
        for i in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return started


def cpu_seconds(pid: int) -> float:
    """Return a process's user + system CPU time in seconds (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for(sink: str, total: int, limit: float = 300.0) -> None:
    """Poll the receiver until it has `total` deliveries."""
    deadline = time.monotonic() + limit
    with httpx.Client(base_url=sink) as http:
        while int(http.get("/count").text) < total:
            if time.monotonic() > deadline:
                raise RuntimeError("deliveries did not all arrive")
            time.sleep(0.01)


def run_phase(
    emulator: tuple[subprocess.Popen[str], str],
    sink: tuple[subprocess.Popen[str], str],
    account: str,
    args: argparse.Namespace,
    *,
    rate: float,
    expected: int,
) -> tuple[float, dict[str, float], dict[str, float]]:
    """Create `args.events` customers at `rate` (0: flat out), wait for the deliveries, and
    return the start time, the create times and the phase's rate and CPU figures."""
    cpu = [cpu_seconds(emulator[0].pid), cpu_seconds(sink[0].pid), time.process_time()]
    began = time.time()
    started = create_customers(emulator[1], account, args.events, args.threads, rate)
    created_seconds = time.time() - began
    wait_for(sink[1], expected)
    cpu = [
        cpu_seconds(emulator[0].pid) - cpu[0],
        cpu_seconds(sink[0].pid) - cpu[1],
        time.process_time() - cpu[2],
    ]
    deliveries = args.events * (args.endpoints + 1)
    figures = {
        "events_per_second": round(args.events / created_seconds, 1),
        "emulator_cpu_ms_per_delivery": round(cpu[0] / deliveries * 1000, 3),
        "receiver_cpu_ms_per_delivery": round(cpu[1] / deliveries * 1000, 3),
        "client_cpu_ms_per_delivery": round(cpu[2] / deliveries * 1000, 3),
    }
    return began, started, figures


def _summary(
    records: list[tuple[float, str]], started: dict[str, float], began: float
) -> dict[str, float]:
    mine = [(t, oid) for t, oid in records if oid in started]
    latencies = sorted(t - started[oid] for t, oid in mine)
    elapsed = max(t for t, _ in mine) - began
    return {
        "deliveries": len(mine),
        "deliveries_per_second": round(len(mine) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
    }


def main() -> None:
    """Run the benchmark and print one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--paced", type=float, default=1000.0)
    parser.add_argument("--sink", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink is not None:
        serve_sink(args.sink)
        return
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "received.json"
        emulator, url = start_emulator()
        sink, sink_url = start_sink(out)
        try:
            auth = {"Authorization": f"Bearer {SECRET_KEY}"}
            with httpx.Client(base_url=url, headers=auth, timeout=30) as http:
                account = http.post("/v1/accounts", data={"type": "standard"}).json()["id"]
                hooks = [(f"/a{i}", {"Stripe-Account": account}) for i in range(args.endpoints)]
                hooks.append(("/connect", {}))
                for path, extra in hooks:
                    form = {"url": sink_url + path, "enabled_events[0]": "customer.created"}
                    if not extra:
                        form["connect"] = "true"
                    http.post("/v1/webhook_endpoints", data=form, headers=extra).raise_for_status()
            per_event = len(hooks)
            expected = 100 * per_event
            create_customers(url, account, 100, args.threads)  # warm up connections
            wait_for(sink_url, expected)
            phases: list[tuple[str, float, dict[str, float], dict[str, float]]] = []
            for phase, rate in (("saturated", 0.0), ("paced", args.paced / per_event)):
                expected += args.events * per_event
                began, started, figures = run_phase(
                    (emulator, url), (sink, sink_url), account, args, rate=rate, expected=expected
                )
                phases.append((phase, began, started, figures))
        finally:
            sink.send_signal(signal.SIGTERM)
            sink.wait(timeout=30)
            emulator.terminate()
            emulator.wait(timeout=30)
        records = [(t, oid) for t, oid in orjson.loads(out.read_bytes())]
    result: dict[str, object] = {
        "benchmark": "emulator_webhooks",
        "events_per_phase": args.events,
        "endpoints_per_event": per_event,
    }
    for phase, began, started, figures in phases:
        result[phase] = {**_summary(records, started, began), **figures}
    result["client_threads"] = args.threads
    result["load_average"] = round(os.getloadavg()[0], 2)
    result["cpus"] = os.cpu_count()
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
