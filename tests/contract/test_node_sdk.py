"""The official Node SDK (npm `stripe`, pinned in tests/contract/node) works against the emulator.

`npm ci` installs the pinned SDK from the npm registry into tests/contract/node/node_modules the
first time (CI installs Node.js); the smoke script asserts values itself and prints a summary that
is checked here against what the Python SDK sees of the same objects.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import stripe

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from tests.conftest import require_tool
from tests.stripe_emulator.conftest import make_client

NODE_DIR = Path(__file__).parent / "node"


def _installed_version() -> str | None:
    manifest = NODE_DIR / "node_modules" / "stripe" / "package.json"
    if not manifest.exists():
        return None
    version: str = json.loads(manifest.read_text())["version"]
    return version


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return the node binary once the pinned SDK is installed."""
    node_binary = require_tool("node")
    npm = require_tool("npm")
    pinned = json.loads((NODE_DIR / "package.json").read_text())["dependencies"]["stripe"]
    if _installed_version() != pinned:
        log = tmp_path_factory.mktemp("npm") / "npm-ci.log"
        with log.open("wb") as sink:
            status = subprocess.call(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=NODE_DIR,
                stdout=sink,
                stderr=subprocess.STDOUT,
                timeout=300,
            )
        assert status == 0, f"npm ci failed:\n{log.read_text()}"
    assert _installed_version() == pinned
    return node_binary


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(control=True)) as running:
        yield running


def test_node_sdk_smoke_set(node: str, server: EmulatorServer, tmp_path: Path) -> None:
    python = make_client(server)
    account = python.v1.accounts.create({"type": "standard"}).id
    environ = {
        "PATH": os.environ["PATH"],
        "EMULATOR_URL": server.url,
        "EMULATOR_KEY": server.emulator.platform.secret_key_test,
        "EMULATOR_ACCOUNT": account,
    }
    log = tmp_path / "smoke.log"
    with log.open("wb") as sink:
        status = subprocess.call(
            [node, "smoke.mjs"], cwd=NODE_DIR, env=environ, stdout=sink, stderr=sink, timeout=120
        )
    output = log.read_text()
    assert status == 0, output
    summary = json.loads(output.strip().splitlines()[-1])

    # What Node created, the Python SDK reads back identically.
    assert summary["platform"] == server.emulator.platform.account_id
    opts: stripe.RequestOptions = {"stripe_account": account}
    listed = [c.id for c in python.v1.customers.list({"limit": 100}, opts).auto_paging_iter()]
    for customer in summary["customers"]:
        assert (customer in listed) == (customer != summary["deleted"])
    assert python.v1.customers.retrieve(summary["renamed"], options=opts).name == "Ada Node"
    subscription = python.v1.subscriptions.retrieve(summary["subscription"], options=opts)
    assert subscription.status == "active"
    assert subscription["items"].data[0].quantity == 3
    event = python.v1.events.retrieve(summary["event"])
    assert event.type == "product.created"
