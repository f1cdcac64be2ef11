"""`revlens billing …` as a person runs it: what it prints and its one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer

PLANS = """
[billing.plans.free]
free = true

[billing.plans.team]
name = "Team"
amount = 4900
currency = "usd"
unlocks = { accounts = 5, api = true }
"""


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(control=True)) as server:
        yield server


def _run(tmp_path: Path, emulator: EmulatorServer, *args: str) -> tuple[int, str, str]:
    keys = emulator.emulator.platform
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "REVLENS_DATA_DIR": str(tmp_path / "data"),
        "REVLENS_STRIPE_SECRET_KEY": keys.secret_key_test,
        "REVLENS_STRIPE_CLIENT_ID": keys.client_id,
        "REVLENS_STRIPE_API_BASE": emulator.url,
        "REVLENS_STRIPE_CONNECT_BASE": emulator.url,
    }
    out, err = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with out.open("w") as stdout, err.open("w") as stderr:
        code = subprocess.run(
            [sys.executable, "-m", "revlens", *args],
            env=environ,
            cwd=tmp_path,
            stdout=stdout,
            stderr=stderr,
            timeout=120,
            check=False,
        ).returncode
    return code, out.read_text(), err.read_text()


def test_setup_creates_then_finds_the_prices(tmp_path: Path, emulator: EmulatorServer) -> None:
    (tmp_path / "revlens.toml").write_text(PLANS)
    assert _run(tmp_path, emulator, "migrate")[0] == 0
    code, out, err = _run(tmp_path, emulator, "billing", "setup")
    assert code == 0, err
    [line] = out.splitlines()
    assert line.startswith("  team: created price_")
    code, out, err = _run(tmp_path, emulator, "billing", "setup")
    assert code == 0, err
    assert out.splitlines() == [line.replace("created", "found")]


def test_a_plan_without_price_is_one_line(tmp_path: Path, emulator: EmulatorServer) -> None:
    (tmp_path / "revlens.toml").write_text("[billing.plans.team]\nname = 'Team'\n")
    code, out, err = _run(tmp_path, emulator, "billing", "setup")
    assert (code, out) == (2, "")
    assert err == (
        "revlens: error: revlens.toml: billing.plans.team: has no price: set `price` to an "
        "existing price_… or `amount`, `currency` and `interval` for `revlens billing setup` to "
        "create (or `free = true`)\n"
    )


def test_fees_on_read_only_say_why(tmp_path: Path, emulator: EmulatorServer) -> None:
    assert _run(tmp_path, emulator, "migrate")[0] == 0
    args = ("--customer", "cus_x", "--price", "price_x", "--percent", "10")
    code, _, err = _run(tmp_path, emulator, "billing", "fee-subscription", "acct_x", *args)
    assert code == 2
    assert err.startswith("revlens: error: Application fees are off: this deployment connects ")
    assert err.count("\n") == 1
