"""`revlens demo` exactly as a newcomer runs it, driven in headless Chromium."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.live_server import free_port

# Seeding 2,400 customers over 24 months takes about 45 s on this 2-core machine, minutes when
# other work shares it.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(2400)]

Shoot = Callable[[Page, str], Path]
READY_LINE = "and connect one of the three businesses"


def _wait_for(log: Path, text: str, process: subprocess.Popen[bytes], timeout: float) -> float:
    started = time.monotonic()
    while text not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() - started < timeout, log.read_text(errors="replace")
        time.sleep(0.2)
    return time.monotonic() - started


def test_demo_from_start_to_dashboard(
    browser: Browser, tmp_path: Path, shoot: Shoot, record_property: Callable[[str, object], None]
) -> None:
    port, emulator_port = free_port(), free_port()
    data = tmp_path / "demo"
    log = tmp_path / "demo.log"
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "COLUMNS": "120"}
    command = [
        sys.executable,
        "-m",
        "revlens",
        "demo",
        "--data-dir",
        str(data),
        "--port",
        str(port),
        "--emulator-port",
        str(emulator_port),
        "--activity-every",
        "2",
    ]
    with log.open("wb") as sink:
        demo = subprocess.Popen(command, env=environ, stdout=sink, stderr=subprocess.STDOUT)
    try:
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
        record_property("demo_ready_seconds", round(ready_after, 1))
        record_property("demo_usable_seconds", round(usable_after, 1))
        print(
            f"demo: ready after {ready_after:.1f} s, connected after {connected_after:.1f} s, "
            f"mirrored after {mirrored_after:.1f} s, dashboard usable after {usable_after:.1f} s"
        )
    finally:
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0, log.read_text(errors="replace")
    assert "demo stopped" in log.read_text()


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
