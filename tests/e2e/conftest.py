"""The whole stack for browser tests: the emulator, revlens on a real port, headless Chromium."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from revlens.config import Settings, load_settings
from revlens.db import migrate
from revlens.db.session import Database
from revlens.stripe_api.client import StripeClients
from revlens.web.app import create_app
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from tests.conftest import CHROMIUM_VARIABLE, REPO_ROOT, require_service
from tests.live_server import free_port, live_server
from tests.processes import revlens_process

ARTIFACTS = REPO_ROOT / "test-artifacts"
# Debian's chromium as root, on a machine with no network beyond loopback.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the session."""
    executable = require_service("Chromium", CHROMIUM_VARIABLE)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@dataclass
class Stack:
    """A running emulator and revlens wired to each other."""

    emulator: EmulatorServer
    url: str
    settings: Settings
    database: Database
    clients: StripeClients
    environ: dict[str, str]

    def create_business(self, name: str) -> str:
        """Create a Stripe account on the emulator that a person can pick on the consent page."""
        account = self.clients.platform().v1.accounts.create(
            {"type": "standard", "business_profile": {"name": name}}
        )
        return str(account.id)


def make_stack(
    database_url: str,
    tmp_path: Path,
    *,
    overrides: dict[str, Any] | None = None,
    before_serving: Callable[[Stack], None] | None = None,
) -> Iterator[Stack]:
    """Start an emulator and a revlens web app (fresh database) that trust each other."""
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    config = EmulatorConfig(control=True, redirect_uris=(public_url + "/oauth/callback",))
    with EmulatorServer(config) as emulator:
        platform = emulator.emulator.platform
        environ = {
            "REVLENS_DATA_DIR": str(tmp_path / "data"),
            "REVLENS_DATABASE_URL": database_url,
            "REVLENS_PUBLIC_URL": public_url,
            "REVLENS_ADMIN_TOKEN": "operator-token-0123456789",
            "REVLENS_STRIPE_SECRET_KEY": platform.secret_key_test,
            "REVLENS_STRIPE_CLIENT_ID": platform.client_id,
            "REVLENS_STRIPE_API_BASE": emulator.url,
            "REVLENS_STRIPE_CONNECT_BASE": emulator.url,
        }
        settings = load_settings(environ, overrides=overrides)
        database = Database.from_url(settings.database_url)
        migrate.upgrade(database.engine)
        app = create_app(settings, database=database)
        with live_server(app, port=port) as url:
            stack = Stack(emulator, url, settings, database, StripeClients(settings), environ)
            if before_serving is not None:
                before_serving(stack)
            yield stack
        database.dispose()


@pytest.fixture
def stack(fresh_database_url: str, tmp_path: Path) -> Iterator[Stack]:
    """Start an emulator and a revlens web app (fresh database) that trust each other."""
    yield from make_stack(fresh_database_url, tmp_path)


@contextmanager
def running_worker(stack: Stack) -> Iterator[subprocess.Popen[bytes]]:
    """Run `revlens worker` on the stack's settings until the block ends."""
    environ = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **stack.environ}
    log = stack.settings.data_dir / "worker.log"
    with revlens_process("worker", "--workers", "4", env=environ, log=log) as worker:
        yield worker


@pytest.fixture
def shoot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """Save a screenshot of a step under test-artifacts/<test name>/."""
    folder = ARTIFACTS / request.node.name.replace("/", "_")
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, step: str) -> Path:
        path = folder / f"{step}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def connect_in_browser(page: Page, stack: Stack, business: str, **kwargs: Any) -> None:
    """Click through landing → consent page → pick the business → allow."""
    page.goto(stack.url + "/")
    if kwargs.get("email"):
        page.fill("input[name=email]", kwargs["email"])
    page.click("#connect-with-stripe")
    page.wait_for_url(stack.emulator.url + "/oauth/authorize*")
    page.check(f"input[name=account][value={business}]")
    page.click("button[value=allow]")


# The demo test's measured times (`record_property("demo_…")`), printed at the end of every run
# so that CI's log says how long the demo took, not only the junit file.
_DEMO_TIMES: list[tuple[str, list[tuple[str, object]]]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    measured = [(name, value) for name, value in report.user_properties if name.startswith("demo_")]
    if report.when == "call" and measured:
        _DEMO_TIMES.append((report.nodeid, measured))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for nodeid, measured in _DEMO_TIMES:
        shown = ", ".join(f"{name} = {value}" for name, value in measured)
        terminalreporter.write_line(f"{nodeid}: {shown}")
