"""A revlens mirror wired to an emulator: settings, a fresh database, a connected account."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import stripe

from revlens.accounts.service import Grant, record_connection
from revlens.config import Settings, load_settings
from revlens.db import migrate
from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.store import stored_objects
from revlens.tasks.queue import Queue, make_queue
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from stripe_emulator.store import Scope

WEBHOOK_SECRET = "whsec_test_mirror_secret_0123456789"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(control=True)) as server:
        yield server


@dataclass
class Mirror:
    """Everything a mirror test touches."""

    emulator: EmulatorServer
    settings: Settings
    database: Database
    queue: Queue
    platform: stripe.StripeClient
    account: str

    @property
    def opts(self) -> dict[str, Any]:
        """Request options acting as the connected account."""
        return {"stripe_account": self.account}

    def stored(self, object_type: str) -> dict[str, dict[str, Any]]:
        """Return the mirrored objects of a type by id."""
        with self.database.read() as session:
            rows = stored_objects(session, account_id=self.account, object_type=object_type)
        return {row["id"]: row for row in rows}

    def stripe_list(self, path: str, **params: Any) -> dict[str, dict[str, Any]]:
        """Return every object a list endpoint shows, read through the SDK."""
        found: dict[str, dict[str, Any]] = {}
        cursor: str | None = None
        while True:
            query = {"limit": 100, **params, **({"starting_after": cursor} if cursor else {})}
            page = self.platform.raw_request("get", path, stripe_account=self.account, **query)
            body = page.data
            found.update({obj["id"]: obj for obj in body["data"]})
            if not body["has_more"]:
                return found
            cursor = body["data"][-1]["id"]

    def bulk_customers(self, count: int, *, start: int, spread: int) -> None:
        """Insert customers straight into the emulator's store with `created` spread out."""
        template = self.platform.v1.customers.create({"email": "t@x.example"}, self.opts)
        base = self.stripe_list("/v1/customers")[template.id]
        rows = []
        for index in range(count):
            obj = {
                **base,
                "id": f"cus_bulk{index:08d}",
                "email": f"c{index}@x.example",
                # Bursts: every tenth second holds ten customers; the rest are one per second.
                "created": start + (index * spread) // count // 10 * 10,
            }
            rows.append((obj, (obj["email"], None)))
        store = self.emulator.emulator.store
        with store.transaction():
            store.insert_many(Scope(self.account, False), "customer", rows)
            # The account must predate its customers (the backfill starts at its `created`).
            platform = Scope(self.emulator.emulator.platform.account_id, False)
            row = store.get(platform, "account", self.account)
            assert row is not None
            store.update(platform, "account", {**row.load(), "created": start - 86400})


@pytest.fixture
def mirror(emulator: EmulatorServer, fresh_database_url: str, tmp_path: Path) -> Iterator[Mirror]:
    platform = emulator.emulator.platform
    settings = load_settings(
        {
            "REVLENS_DATA_DIR": str(tmp_path / "data"),
            "REVLENS_DATABASE_URL": fresh_database_url,
            "REVLENS_STRIPE_SECRET_KEY": platform.secret_key_test,
            "REVLENS_STRIPE_CLIENT_ID": platform.client_id,
            "REVLENS_STRIPE_API_BASE": emulator.url,
            "REVLENS_STRIPE_CONNECT_BASE": emulator.url,
            "REVLENS_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        }
    )
    database = Database.from_url(settings.database_url)
    migrate.upgrade(database.engine)
    client = stripe.StripeClient(
        platform.secret_key_test, base_addresses={"api": emulator.url, "connect": emulator.url}
    )
    account = client.v1.accounts.create({"type": "standard"}).id
    with database.unit_of_work() as session:
        grant = Grant(account, "Mirror test", False, "read_only", "read_only")
        record_connection(session, grant=grant, now=utcnow())
    queue = make_queue(settings, database=database, immediate=True)
    yield Mirror(emulator, settings, database, queue, client, account)
    database.dispose()
