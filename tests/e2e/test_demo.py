"""`revlens demo` exactly as a newcomer runs it, driven in headless Chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from playwright.sync_api import Browser, Page, expect

from tests.live_server import free_port

# Seeding 2,400 customers over 24 months takes about 45 s on this 2-core machine, minutes when
# other work shares it.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

Shoot = Callable[[Page, str], Path]
READY_LINE = "and connect one of the three businesses"
WORKER_LINE = "worker: 3 processes on"


def _wait_for(
    log: Path, text: str, process: subprocess.Popen[bytes], timeout: float, *, count: int = 1
) -> float:
    started = time.monotonic()

    def seen() -> str:
        return log.read_text(errors="replace") if log.exists() else ""

    while seen().count(text) < count:
        assert process.poll() is None, seen()
        assert time.monotonic() - started < timeout, seen()
        time.sleep(0.2)
    return time.monotonic() - started


@contextmanager
def _demo(
    tmp_path: Path, data: Path, *options: str
) -> Iterator[tuple[subprocess.Popen[bytes], Path, int, int]]:
    """Run `revlens demo` on free ports until the block ends, then Ctrl-C it (it must stop
    cleanly); yield the process, its log and the ports of the app and the emulator."""
    port, emulator_port = free_port(), free_port()
    log = tmp_path / f"demo-{len(list(tmp_path.glob('demo-*.log')))}.log"
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "COLUMNS": "120"}
    command = [sys.executable, "-m", "revlens", "demo", "--data-dir", str(data)]
    command += ["--port", str(port), "--emulator-port", str(emulator_port), *options]
    with log.open("wb") as sink:
        demo = subprocess.Popen(command, env=environ, stdout=sink, stderr=subprocess.STDOUT)
    try:
        yield demo, log, port, emulator_port
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0, log.read_text(errors="replace")
    assert "demo stopped" in log.read_text()


@pytest.mark.browser
def test_demo_from_start_to_dashboard(
    browser: Browser, tmp_path: Path, shoot: Shoot, record_property: Callable[[str, object], None]
) -> None:
    data = tmp_path / "demo"
    with _demo(tmp_path, data, "--activity-every", "2") as (demo, log, port, emulator_port):
        started = time.monotonic()
        ready_after = _wait_for(log, READY_LINE, demo, timeout=1800)
        url = f"http://127.0.0.1:{port}"
        truth = json.loads((data / "truth.json").read_text())
        sizes = {a["id"]: len(a["customers"]) for a in truth["accounts"]}
        largest = max(sizes, key=lambda account: sizes[account])
        assert sizes[largest] > 2000
        assert len(set(sizes.values())) == 3
        page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
        page.goto(url)
        shoot(page, "1-landing")
        page.click("#connect-with-stripe")
        page.wait_for_url(f"http://127.0.0.1:{emulator_port}/oauth/authorize*")
        offered = page.locator("input[name=account]").evaluate_all("e => e.map(x => x.value)")
        assert sorted(a for a in offered if a != "new") == sorted(sizes)
        shoot(page, "2-consent")
        page.check(f"input[name=account][value={largest}]")
        page.click("button[value=allow]")
        page.wait_for_url(f"{url}/accounts/{largest}*")
        connected_after = time.monotonic() - started
        shoot(page, "3-backfill")
        expect(page.locator("#sync-state")).to_contain_text("mirrored", timeout=600_000)
        mirrored_after = time.monotonic() - started
        page.reload()
        tile = page.locator("#mrr-tile")
        expect(tile).not_to_have_attribute("data-value", "", timeout=120_000)
        usable_after = time.monotonic() - started
        shoot(page, "4-dashboard")
        shown, day, latest = _tile_beside_the_api(page, f"{url}/api/v1/accounts/{largest}/metrics")
        assert latest["date"] == day
        assert shown == latest["mrr"]
        assert shown > 0
        # The largest business's amounts (ARR in millions) fit their tiles.
        overflowing = page.locator(".tile").evaluate_all(
            "tiles => tiles.filter(t => t.scrollWidth > t.clientWidth).map(t => t.innerText)"
        )
        assert overflowing == []
        _moves_within_a_reload(page, shown)
        shoot(page, "5-moved")
        for step, after in (
            ("ready", ready_after),
            ("connected", connected_after),
            ("mirrored", mirrored_after),
            ("usable", usable_after),
        ):
            record_property(f"demo_{step}_seconds", round(after, 1))
        print(
            f"demo: ready after {ready_after:.1f} s, connected after {connected_after:.1f} s, "
            f"mirrored after {mirrored_after:.1f} s, dashboard usable after {usable_after:.1f} s"
        )
    # The workers, started while the seeding merged, ran the backfill and stopped cleanly.
    workers = (data / "worker.log").read_text()
    assert workers.count(WORKER_LINE) == 1, workers
    assert "Traceback" not in workers, workers


def _platform(emulator_port: int) -> tuple[str, list[str]]:
    """The emulator's platform key, and the accounts the SDK lists with it."""
    url = f"http://127.0.0.1:{emulator_port}"
    key = str(httpx.get(f"{url}/_emulator/platform", timeout=30).json()["secret_key_test"])
    client = stripe.StripeClient(key, base_addresses={"api": url, "connect": url})
    return key, sorted(account.id for account in client.v1.accounts.list({"limit": 10}).data)


def _worker_key(demo: subprocess.Popen[bytes]) -> str:
    """The Stripe key in the environment of the demo's `revlens worker` (its child process)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes().split(b"\0")
            environ = (stat.parent / "environ").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue  # a process that ended meanwhile
        if parent == demo.pid and b"worker" in command:
            variable = b"REVLENS_STRIPE_SECRET_KEY="
            return next(v[len(variable) :].decode() for v in environ if v.startswith(variable))
    raise AssertionError(f"no worker process under the demo (pid {demo.pid})")


def test_a_second_run_reuses_the_data_and_the_platform(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    small = ("--customers", "30", "--months", "2")
    with _demo(tmp_path, data, *small) as (demo, log, _, emulator_port):
        _wait_for(log, READY_LINE, demo, timeout=600)
        # The first run chose the platform's key before its emulator started (its workers
        # started with it during the seeding) and registered the webhook endpoints with it.
        key, accounts = _platform(emulator_port)
        assert "seeding three businesses" in log.read_text()
        _wait_for(data / "worker.log", WORKER_LINE, demo, timeout=300)
        assert _worker_key(demo) == key
    assert len(accounts) == 3
    with _demo(tmp_path, data, *small) as (demo, log, _, emulator_port):
        _wait_for(log, READY_LINE, demo, timeout=600)
        assert "seeding" not in log.read_text()
        assert _platform(emulator_port) == (key, accounts)
        _wait_for(data / "worker.log", WORKER_LINE, demo, timeout=300, count=2)
        assert _worker_key(demo) == key
    # The workers started once per run, and stopped cleanly.
    workers = (data / "worker.log").read_text()
    assert workers.count(WORKER_LINE) == 2, workers
    assert "Traceback" not in workers, workers


def _tile_beside_the_api(page: Page, metrics_url: str) -> tuple[int, str, dict[str, Any]]:
    """Read the MRR tile and the API's last day for the dashboard's own query, at one moment.

    The demo's live activity changes the business every few seconds, so the tile is read
    between two API answers and kept only when the two agree (nothing changed meanwhile).
    """

    def latest() -> dict[str, Any]:
        answer = httpx.get(
            metrics_url,
            # The query the dashboard itself made, from its pickers.
            params={
                "start": page.input_value("#pick-start"),
                "end": page.input_value("#pick-end"),
                "interval": page.input_value("#pick-interval"),
                "preset": page.input_value("#pick-preset"),
            },
            cookies={c["name"]: c["value"] for c in page.context.cookies()},
            # Refreshed metrics can take longer than httpx's default 5 s on a loaded machine.
            timeout=120,
        )
        assert answer.status_code == 200, answer.text
        row: dict[str, Any] = answer.json()["series"][-1]
        return row

    seen = []
    for _ in range(30):
        before = latest()
        page.reload()
        tile = page.locator("#mrr-tile")
        expect(tile).not_to_have_attribute("data-value", "", timeout=120_000)
        shown = int(tile.get_attribute("data-value") or "-1")
        day = tile.get_attribute("data-date") or ""
        after = latest()
        if before == after:
            return shown, day, after
        seen.append((before["mrr"], shown, after["mrr"]))
    raise AssertionError(f"the business never held still for one page load: {seen}")


def _moves_within_a_reload(page: Page, shown: int) -> None:
    """The demo's live activity changes the business: a reload shows a new MRR soon."""
    tile = page.locator("#mrr-tile")
    deadline = time.monotonic() + 180
    while True:
        page.reload()
        expect(tile).not_to_have_attribute("data-value", "", timeout=120_000)
        value = tile.get_attribute("data-value")
        assert value, "the MRR tile has no value"
        if int(value) != shown:
            return
        assert time.monotonic() < deadline, f"the MRR tile stayed at {shown} for 3 minutes"
        time.sleep(2)
