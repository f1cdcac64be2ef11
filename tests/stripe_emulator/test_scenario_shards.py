"""A history played in parts (shards) in several processes and merged into one state file."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import orjson
import pytest
import stripe

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.scenario.merge import MergeError, merge_states, prepare_fork
from stripe_emulator.scenario.options import CUSTOMERS_PER_SHARD, MAX_SHARDS, ScenarioOptions
from stripe_emulator.scenario.play import Opened
from stripe_emulator.scenario.run import run
from stripe_emulator.scenario.wire import ScenarioError
from stripe_emulator.server import EmulatorServer
from tests.stripe_emulator.conftest import make_client

END = 1_735_689_600  # 2025-01-01 00:00 UTC
DAY = 86_400
SHARDS = 3


def _options(tmp_path: Path, name: str, **changes: Any) -> ScenarioOptions:
    base: dict[str, Any] = {
        "accounts": 2,
        "customers": 40,
        "months": 5,
        "seed": 11,
        "end": END,
        "truth": tmp_path / f"{name}.json",
        "state": str(tmp_path / f"{name}.db"),
        "shards": SHARDS,
        "processes": 2,
    }
    return ScenarioOptions(**{**base, **changes})


def _rows(state: Path) -> list[tuple[Any, ...]]:
    """Every object as stored, minus the random request ids events carry."""
    with closing(sqlite3.connect(state)) as db:
        rows = db.execute(
            "SELECT seq, account, type, id, created, deleted, k1, data FROM objects ORDER BY seq"
        ).fetchall()
    kept = []
    for row in rows:
        data = orjson.loads(row[-1])
        if row[2] == "event":
            data["request"]["id"] = None
        kept.append((*row[:-1], data))
    return kept


def _anonymous(truth: dict[str, Any]) -> list[Any]:
    """The truth without the ids parts draw from their own streams (customers, subscriptions)."""
    return [
        (
            account["id"],
            [
                (customer["story"], [s["timeline"] for s in customer["subscriptions"]])
                for customer in account["customers"]
            ],
        )
        for account in truth["accounts"]
    ]


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Path]:
    """A small history in three parts, played by two processes."""
    folder = tmp_path_factory.mktemp("shards")
    options = _options(folder, "a")
    summary = run(options)
    assert summary["shards"] == SHARDS
    assert summary["customers"] == 40
    return orjson.loads(options.truth.read_bytes()), Path(str(options.state)), folder


def test_the_part_count_follows_the_options_not_the_machine(tmp_path: Path) -> None:
    def parts(**changes: Any) -> int:
        return _options(tmp_path, "x", shards=None, **changes).shard_count()

    assert parts(customers=40) == 1
    assert parts(customers=3 * CUSTOMERS_PER_SHARD) == 3
    assert parts(customers=100 * CUSTOMERS_PER_SHARD) == MAX_SHARDS
    # A running emulator has one clock: its history is played whole.
    assert parts(customers=1_000, url="http://127.0.0.1:1") == 1
    # Never more processes than parts; by default no more than the CPUs this process may use.
    assert _options(tmp_path, "x", processes=16).process_count() == SHARDS
    assert _options(tmp_path, "x", processes=2).process_count() == 2
    assert _options(tmp_path, "x", shards=1, processes=4).process_count() == 1
    default = _options(tmp_path, "x", shards=MAX_SHARDS, processes=None).process_count()
    assert default == min(MAX_SHARDS, len(os.sched_getaffinity(0)))


def test_the_history_does_not_depend_on_the_number_of_processes(
    sharded: tuple[dict[str, Any], Path, Path],
) -> None:
    truth, state, folder = sharded
    alone = _options(folder, "one-process", processes=1)
    run(alone)
    assert orjson.loads(alone.truth.read_bytes()) == truth
    assert _rows(Path(str(alone.state))) == _rows(state)


def test_parts_tell_the_same_stories_as_a_whole_run(
    sharded: tuple[dict[str, Any], Path, Path],
) -> None:
    truth, state, folder = sharded
    whole = _options(folder, "whole", shards=1)
    run(whole)
    whole_truth = orjson.loads(whole.truth.read_bytes())
    # The accounts and catalogs come from the same fork: same ids; customers' ids differ.
    assert [a["prices"] for a in whole_truth["accounts"]] == [
        a["prices"] for a in truth["accounts"]
    ]
    assert _anonymous(whole_truth) == _anonymous(truth)

    def kinds(path: Path) -> Counter[str]:
        return Counter(row[2] for row in _rows(path))

    assert kinds(state) == kinds(Path(str(whole.state)))


def test_the_merged_state_matches_the_truth_and_keeps_billing(
    sharded: tuple[dict[str, Any], Path, Path],
) -> None:
    truth, state, folder = sharded
    copy = folder / "served.db"
    shutil.copyfile(state, copy)
    index_of = {
        customer["id"]: number
        for account in truth["accounts"]
        for number, customer in enumerate(account["customers"])
    }
    config = EmulatorConfig(state_file=str(copy), control=True, now=END)
    with EmulatorServer(config) as server:
        client = make_client(server)
        for account in truth["accounts"]:
            opts: Any = {"stripe_account": account["id"]}
            listed = list(client.v1.customers.list({"limit": 7}, opts).auto_paging_iter())
            assert sorted(c.id for c in listed) == sorted(c["id"] for c in account["customers"])
            created = [c.created for c in listed]
            assert created == sorted(created, reverse=True)
            for customer in account["customers"]:
                for sub in customer["subscriptions"]:
                    stored = client.v1.subscriptions.retrieve(sub["id"], options=opts)
                    assert stored.status == sub["timeline"][-1]["status"], customer["story"]
            events = list(client.v1.events.list({"limit": 100}, opts).auto_paging_iter())
            assert len({e.id for e in events}) == len(events) > 0
        # The billing engine goes on from the merged schedule: renewals of every part's customers.
        server.emulator.engine.advance(END + 40 * DAY, freeze=True)
        renewed: set[str] = set()
        for account in truth["accounts"]:
            opts = {"stripe_account": account["id"]}
            after: Any = {"created": {"gt": END}, "limit": 100}
            for invoice in client.v1.invoices.list(after, opts).auto_paging_iter():
                if invoice.billing_reason == "subscription_cycle":
                    renewed.add(str(invoice.customer))
    assert renewed
    # Customers of one account are dealt to the parts in turn: renewals came from several.
    assert len({index_of[customer] % SHARDS for customer in renewed}) > 1


def test_seeding_in_parts_into_an_existing_state_keeps_it(tmp_path: Path) -> None:
    state = tmp_path / "existing.db"
    config = EmulatorConfig(state_file=str(state), control=True, now=END - 200 * DAY, seed=3)
    opened = Opened(config, http=False)
    try:
        kept = opened.api.call("POST", "/v1/customers", {"email": "kept@example.test"})["id"]
    finally:
        opened.close()
    run(_options(tmp_path, "existing", customers=9, months=2))
    with closing(sqlite3.connect(state)) as db:
        found = db.execute("SELECT COUNT(*) FROM objects WHERE id=?", (kept,)).fetchone()[0]
        accounts = db.execute("SELECT COUNT(*) FROM objects WHERE type='account'").fetchone()[0]
    assert found == 1
    assert accounts >= 2


def test_an_existing_state_with_billing_due_is_refused_before_any_work(tmp_path: Path) -> None:
    state = tmp_path / "billing.db"
    config = EmulatorConfig(state_file=str(state), control=True, now=END - 200 * DAY, seed=3)
    opened = Opened(config, http=False)
    try:
        api = opened.api
        account = api.call("POST", "/v1/accounts", {"type": "standard"})["id"]
        product = api.call("POST", "/v1/products", {"name": "Plan"}, account)["id"]
        recurring = {"interval": "month"}
        price = {"product": product, "currency": "usd", "unit_amount": 900, "recurring": recurring}
        price_id = api.call("POST", "/v1/prices", price, account)["id"]
        card = "pm_card_visa"
        paying = {"payment_method": card, "invoice_settings": {"default_payment_method": card}}
        customer = api.call("POST", "/v1/customers", paying, account)["id"]
        subscription = {"customer": customer, "items": [{"price": price_id}]}
        assert api.call("POST", "/v1/subscriptions", subscription, account)["status"] == "active"
    finally:
        opened.close()
    before = state.read_bytes()
    with pytest.raises(ScenarioError, match="billing due before the history's end"):
        run(_options(tmp_path, "billing", customers=9, months=2))
    assert state.read_bytes() == before


def _fork_with_coupon(folder: Path) -> tuple[Path, str, str, int]:
    """A fork holding an account and a coupon; return it, the ids and its last row."""
    fork = folder / "fork.db"
    opened = Opened(
        EmulatorConfig(state_file=str(fork), control=True, now=END, seed=5, bulk_load=True),
        http=False,
    )
    try:
        account = opened.api.call("POST", "/v1/accounts", {"type": "standard"})["id"]
        coupon = opened.api.call(
            "POST", "/v1/coupons", {"percent_off": 10, "duration": "forever"}, account
        )["id"]
    finally:
        opened.close()
    return fork, account, coupon, prepare_fork(fork)


def _part(fork: Path, folder: Path, number: int, work: Any) -> Path:
    """Play `work(api)` on a copy of the fork with an id stream of its own."""
    part = folder / f"part-{number}.db"
    shutil.copyfile(fork, part)
    opened = Opened(
        EmulatorConfig(state_file=str(part), control=True, now=END, seed=5, bulk_load=True),
        http=False,
    )
    try:
        opened.emulator.ids.reseed(f"test:{number}")
        work(opened.api)
    finally:
        opened.close()
    return part


def test_parts_redeeming_one_coupon_add_up(tmp_path: Path) -> None:
    fork, account, coupon, fork_seq = _fork_with_coupon(tmp_path)

    def redeem(times: int) -> Any:
        def work(api: Any) -> None:
            for _ in range(times):
                api.call("POST", "/v1/customers", {"coupon": coupon}, account)

        return work

    parts = [_part(fork, tmp_path, n, redeem(n + 1)) for n in range(3)]
    target = tmp_path / "merged.db"
    merge_states(target, fork, parts, fork_seq)
    with closing(sqlite3.connect(target)) as db:
        data = db.execute("SELECT data FROM objects WHERE id=?", (coupon,)).fetchone()[0]
        customers = db.execute("SELECT COUNT(*) FROM objects WHERE type='customer'").fetchone()
    assert orjson.loads(data)["times_redeemed"] == 1 + 2 + 3
    assert customers[0] == 6


def test_parts_that_disagree_on_a_shared_object_are_refused(tmp_path: Path) -> None:
    fork, account, coupon, fork_seq = _fork_with_coupon(tmp_path)

    def rename(name: str) -> Any:
        def work(api: Any) -> None:
            api.call("POST", f"/v1/coupons/{coupon}", {"name": name}, account)

        return work

    parts = [_part(fork, tmp_path, 0, rename("Spring")), _part(fork, tmp_path, 1, rename("Fall"))]
    target = tmp_path / "merged.db"
    target.write_bytes(b"the previous state")
    with pytest.raises(MergeError, match=f"coupon {coupon}: parts set name to different values"):
        merge_states(target, fork, parts, fork_seq)
    # Nothing half-merged replaced what was there.
    assert target.read_bytes() == b"the previous state"


def test_the_sdk_sees_one_account_whatever_part_wrote_it(tmp_path: Path) -> None:
    # Each part's rows keep their order within one second: lists page without gaps or repeats.
    options = _options(tmp_path, "pages", accounts=1, customers=12, months=2)
    run(options)
    truth = orjson.loads(options.truth.read_bytes())
    account = truth["accounts"][0]["id"]
    config = EmulatorConfig(state_file=str(options.state), control=True, now=END)
    with EmulatorServer(config) as server:
        client: stripe.StripeClient = make_client(server)
        opts: Any = {"stripe_account": account}
        paged = [
            invoice.id for invoice in client.v1.invoices.list({"limit": 3}, opts).auto_paging_iter()
        ]
    with closing(sqlite3.connect(str(options.state))) as db:
        stored = db.execute(
            "SELECT id FROM objects WHERE type='invoice' AND account=? AND deleted=0"
            " ORDER BY created DESC, seq DESC",
            (account,),
        ).fetchall()
    assert paged == [row[0] for row in stored]
    assert len(paged) > 3


def test_the_seed_command_plays_parts_in_processes(tmp_path: Path) -> None:
    # `python -m stripe_emulator` is the main module the spawned processes start from.
    state, truth = tmp_path / "cli.db", tmp_path / "cli.json"
    command = [sys.executable, "-m", "stripe_emulator", "seed", "--accounts", "2"]
    command += ["--customers", "200", "--months", "2", "--end", str(END), "--processes", "2"]
    command += ["--state", str(state), "--truth", str(truth)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    summary = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert summary["shards"] == 2
    assert summary["customers"] == 200
    written = orjson.loads(truth.read_bytes())
    ids = [c["id"] for account in written["accounts"] for c in account["customers"]]
    with closing(sqlite3.connect(state)) as db:
        stored = {
            row[0] for row in db.execute("SELECT id FROM objects WHERE type='customer'").fetchall()
        }
    assert set(ids) <= stored
    assert len(set(ids)) == 200


def test_the_seed_command_refuses_zero_processes(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "stripe_emulator", "seed", "--processes", "0"]
    command += ["--state", str(tmp_path / "none.db")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "--processes" in done.stderr
    assert not (tmp_path / "none.db").exists()


def test_a_part_that_lost_a_fork_row_is_refused_by_name(tmp_path: Path) -> None:
    fork, _account, coupon, fork_seq = _fork_with_coupon(tmp_path)
    part = _part(fork, tmp_path, 0, lambda api: None)
    with closing(sqlite3.connect(part)) as db, db:
        db.execute("DELETE FROM objects WHERE id=?", (coupon,))
    target = tmp_path / "merged.db"
    with pytest.raises(MergeError, match=r"part-0\.db lost rows of the fork"):
        merge_states(target, fork, [part], fork_seq)
    assert not target.exists()


def test_on_played_is_told_once_every_part_has_played_and_before_the_merge(
    tmp_path: Path,
) -> None:
    options = _options(tmp_path, "told", processes=1)
    seen: list[tuple[bool, list[str]]] = []

    def played() -> None:
        # The parts are on disk beside the state, which the merge has not written yet.
        parts = sorted(p.name for p in tmp_path.glob("scenario-parts-*/part-*.db"))
        seen.append((Path(str(options.state)).exists(), parts))

    run(options, on_played=played)
    assert seen == [(False, [f"part-{n}.db" for n in range(SHARDS)])]
    assert Path(str(options.state)).exists()


def test_on_played_is_told_once_by_a_history_played_whole(tmp_path: Path) -> None:
    options = _options(tmp_path, "whole", shards=1)
    calls: list[int] = []
    summary = run(options, on_played=lambda: calls.append(len(calls)))
    assert summary["shards"] == 1
    assert calls == [0]
