"""The scenario generator: determinism, coverage, and ground truth that matches the emulator."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from stripe_emulator.scenario.run import ScenarioOptions, run
from stripe_emulator.scenario.stories import MIX
from stripe_emulator.store import Scope, Store
from tests.reference.mrr import customer_mrr

END = 1_735_689_600  # 2025-01-01 00:00 UTC


def _seed(tmp_path: Path, name: str, seed: int = 11) -> tuple[dict[str, Any], Path]:
    state = tmp_path / f"{name}.db"
    truth = tmp_path / f"{name}.json"
    options = ScenarioOptions(
        accounts=2, customers=40, months=5, seed=seed, end=END, truth=truth, state=str(state)
    )
    summary = run(options)
    assert summary["customers"] == 40
    return orjson.loads(truth.read_bytes()), state


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Path]:
    """Run one small scenario and keep its truth, state and folder."""
    folder = tmp_path_factory.mktemp("scenario")
    truth, state = _seed(folder, "a")
    return truth, state, folder


def _objects(state: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(state) as db:
        rows = db.execute("SELECT type, id, created FROM objects ORDER BY seq").fetchall()
    return [(str(t), str(i), int(c)) for t, i, c in rows]


def test_same_seed_same_history(seeded: tuple[dict[str, Any], Path, Path]) -> None:
    truth, state, folder = seeded
    _again, state_again = _seed(folder, "b")
    assert (folder / "a.json").read_bytes() == (folder / "b.json").read_bytes()
    assert _objects(state) == _objects(state_again)
    other, _ = _seed(folder, "c", seed=12)
    assert other != truth


def test_the_history_covers_the_plan_mix(seeded: tuple[dict[str, Any], Path, Path]) -> None:
    truth = seeded[0]
    assert [a["currency"] for a in truth["accounts"]] == ["usd", "gbp"]
    stories = Counter(c["story"] for a in truth["accounts"] for c in a["customers"])
    assert set(stories) == {name for name, _ in MIX}
    prices = truth["accounts"][0]["prices"].values()
    assert {(p["interval"], p["interval_count"]) for p in prices} >= {
        ("month", 1),
        ("month", 3),
        ("year", 1),
        ("week", 1),
    }
    assert {p["tiers_mode"] for p in prices} >= {"volume", "graduated"}
    assert any(p["usage_type"] == "metered" for p in prices)
    statuses = {
        entry["status"]
        for a in truth["accounts"]
        for c in a["customers"]
        for s in c["subscriptions"]
        for entry in s["timeline"]
    }
    assert statuses >= {"active", "trialing", "past_due", "paused", "canceled"}


def test_ground_truth_matches_the_emulator(seeded: tuple[dict[str, Any], Path, Path]) -> None:
    truth, state, _ = seeded
    store = Store(str(state))
    try:
        for account in truth["accounts"]:
            scope = Scope(account["id"], False)
            for customer in account["customers"]:
                for sub in customer["subscriptions"]:
                    stored = store.get(scope, "subscription", sub["id"])
                    assert stored is not None
                    actual = stored.load()
                    last = sub["timeline"][-1]
                    assert actual["status"] == last["status"], (customer["story"], sub["id"])
                    if last["status"] == "canceled":
                        assert actual["ended_at"] == last["at"]
                    items = store.list_page(scope, "subscription_item", limit=100).rows
                    mine = [r.load() for r in items if r.load()["subscription"] == sub["id"]]
                    assert sorted((i["price"], i["quantity"]) for i in mine) == sorted(
                        (i["price"], i["quantity"]) for i in last["items"]
                    )
        account, enterprise = next(
            (a, c) for a in truth["accounts"] for c in a["customers"] if c["story"] == "enterprise"
        )
        big = enterprise["subscriptions"][0]
        assert len(big["timeline"][0]["items"]) > 10
        scope = Scope(account["id"], False)
        lines = store.list_page(scope, "line_item", limit=10_000).rows
        per_invoice = Counter(row.load()["invoice"] for row in lines)
        assert max(per_invoice.values()) > 10
    finally:
        store.close()


def test_reference_mrr_from_the_truth(seeded: tuple[dict[str, Any], Path, Path]) -> None:
    truth = seeded[0]
    series = customer_mrr(truth)
    assert len(series) == 40
    last_day = max(next(iter(series.values())))
    paying = [mrr[last_day] for mrr in series.values() if mrr[last_day] > 0]
    assert paying
    assert all(value >= 0 for mrr in series.values() for value in mrr.values())


def test_http_and_in_process_transports_make_the_same_history(tmp_path: Path) -> None:
    def seed(name: str, *, http: bool) -> tuple[bytes, list[tuple[str, str, int]]]:
        options = ScenarioOptions(
            accounts=1,
            customers=18,
            months=3,
            seed=5,
            end=END,
            truth=tmp_path / f"{name}.json",
            state=str(tmp_path / f"{name}.db"),
            http=http,
        )
        run(options)
        return options.truth.read_bytes(), _objects(tmp_path / f"{name}.db")

    assert seed("http", http=True) == seed("local", http=False)


def test_in_process_seeding_works_under_a_running_event_loop(tmp_path: Path) -> None:
    # Playwright's sync API leaves an event loop running in the main thread for the rest of
    # a test session; the in-process transport must not need that thread's loop.
    async def seed_inside_a_loop() -> dict[str, Any]:
        options = ScenarioOptions(
            accounts=1, customers=4, months=2, seed=3, end=END, truth=tmp_path / "truth.json"
        )
        return run(options)

    # A thread of its own, so the test also runs where the main thread's loop is taken.
    result: list[dict[str, Any]] = []

    def in_thread() -> None:
        loop = asyncio.new_event_loop()
        try:
            result.append(loop.run_until_complete(seed_inside_a_loop()))
        finally:
            loop.close()

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join(120)
    [summary] = result
    assert summary["customers"] == 4
    assert summary["events"] > 0
