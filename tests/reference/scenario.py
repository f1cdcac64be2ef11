"""Generated scenarios, synced by revlens: the emulator's ground truth beside revlens's mirror.

A scenario is generated once per seed (the emulator keeps running, its clock just past the
scenario's end); each database backend then connects revlens to its accounts and backfills them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from revlens.accounts.service import Grant, record_connection
from revlens.config import Settings, load_settings
from revlens.db import migrate
from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.tasks.jobs import sync_account
from revlens.tasks.queue import make_queue
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.resources.discounts import add_months
from stripe_emulator.scenario.run import START_MARGIN_S, ScenarioOptions, run
from stripe_emulator.server import EmulatorServer

END = 1_767_225_600  # 2026-01-01 00:00 UTC
WEBHOOK_SECRET = "whsec_test_reference_secret_0123456789"


@dataclass
class Generated:
    """A generated scenario: the emulator that holds it and its ground truth."""

    server: EmulatorServer
    truth: dict[str, Any]

    @property
    def accounts(self) -> list[str]:
        """Return the scenario's connected accounts."""
        return [account["id"] for account in self.truth["accounts"]]


@contextmanager
def generated(
    folder: Path, *, seed: int, customers: int, months: int, accounts: int = 1
) -> Iterator[Generated]:
    """Generate a scenario on an emulator of its own and keep that emulator running."""
    start = add_months(END, -months)
    config = EmulatorConfig(control=True, now=start - START_MARGIN_S, seed=seed)
    with EmulatorServer(config) as server:
        options = ScenarioOptions(
            accounts=accounts,
            customers=customers,
            months=months,
            seed=seed,
            end=END,
            truth=folder / "truth.json",
            url=server.url,
        )
        run(options)
        yield Generated(server, json.loads(options.truth.read_text()))


@dataclass
class Synced:
    """revlens connected to every account of a scenario, backfilled, metrics computed."""

    scenario: Generated
    settings: Settings
    database: Database


@contextmanager
def synced(scenario: Generated, database_url: str, data_dir: Path) -> Iterator[Synced]:
    """Connect revlens to the scenario's accounts and backfill them (jobs run inline)."""
    platform = scenario.server.emulator.platform
    url = scenario.server.url
    settings = load_settings(
        {
            "REVLENS_DATA_DIR": str(data_dir),
            "REVLENS_DATABASE_URL": database_url,
            "REVLENS_STRIPE_SECRET_KEY": platform.secret_key_test,
            "REVLENS_STRIPE_CLIENT_ID": platform.client_id,
            "REVLENS_STRIPE_API_BASE": url,
            "REVLENS_STRIPE_CONNECT_BASE": url,
            "REVLENS_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        }
    )
    database = Database.from_url(settings.database_url)
    migrate.upgrade(database.engine)
    with database.unit_of_work() as session:
        for account in scenario.accounts:
            grant = Grant(account, f"Scenario {account}", False, "read_only", "read_only")
            record_connection(session, grant=grant, now=utcnow())
    queue = make_queue(settings, database=database, immediate=True)
    for account in scenario.accounts:
        queue.enqueue(sync_account, account_id=account)  # its completion recomputes metrics
    try:
        yield Synced(scenario, settings, database)
    finally:
        database.dispose()
