"""revlens charging for itself against an emulator: plans, a platform, events, a clock."""

from __future__ import annotations

import json
import secrets
import time
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import itsdangerous
import pytest
import stripe
from sqlalchemy import func, select

from revlens.accounts.service import Grant, record_connection
from revlens.billing.entitlements import Access, entitlements
from revlens.billing.plans import BillingConfig, parse_billing
from revlens.billing.service import setup_prices
from revlens.config import Settings, load_settings
from revlens.db import migrate
from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.models import StripeEvent
from revlens.stripe_api.client import StripeClients
from revlens.stripe_api.webhooks import sign_payload
from revlens.tasks.queue import Queue, make_queue
from revlens.web.app import create_app
from revlens.web.sessions import ACCOUNT, ADMIN, CSRF, SESSION_COOKIE
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from tests.live_server import free_port, live_server

DAY = 86400
WEBHOOK_SECRET = "whsec_test_billing_secret_0123456789"
ADMIN_TOKEN = "operator-token-for-billing-0123"
PLANS: dict[str, Any] = {
    "grace_days": 7,
    "plans": {
        "free": {"name": "Free", "free": True, "unlocks": {"accounts": 1, "history_days": 30}},
        "starter": {
            "name": "Starter",
            "amount": 1900,
            "currency": "usd",
            "interval": "month",
            "trial_days": 14,
            "unlocks": {"accounts": 1, "history_days": 365, "csv_export": True},
        },
        "pro": {
            "name": "Pro",
            "amount": 4900,
            "currency": "usd",
            "interval": "month",
            "unlocks": {"accounts": 3, "csv_export": True, "api": True},
        },
    },
}


@dataclass
class Platform:
    """revlens (its database, app and queue) and the emulator that is its Stripe."""

    emulator: EmulatorServer
    settings: Settings
    database: Database
    queue: Queue
    clients: StripeClients
    client: httpx.Client  # revlens' web app, served on a real port
    control: httpx.Client
    delivered: set[str]

    @property
    def billing(self) -> BillingConfig:
        """The plans under test."""
        return self.settings.billing

    @property
    def stripe(self) -> stripe.StripeClient:
        """The SDK client of the platform account."""
        return self.clients.platform()

    def now(self) -> int:
        """The emulator's clock."""
        return int(self.control.get("/_emulator/clock").json()["now"])

    def advance(self, seconds: int) -> None:
        """Move the emulator's clock forward (frozen there), running the billing work due."""
        response = self.control.post(
            "/_emulator/clock/advance", json={"by": seconds, "freeze": True}
        )
        assert response.status_code == 200, response.text

    def connect(self, name: str, *, scope: str = "read_only") -> str:
        """Create a Stripe account and record it as connected to revlens."""
        account = str(self.stripe.v1.accounts.create({"type": "standard"}).id)
        with self.database.unit_of_work() as session:
            record_connection(
                session, grant=Grant(account, name, False, scope, scope), now=utcnow()
            )
        return account

    def platform_events(self) -> list[dict[str, Any]]:
        """Every event of the platform account, oldest first."""
        found: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 100}
        while True:
            page = self.stripe.raw_request("get", "/v1/events", **params).data
            found.extend(page["data"])
            if not page["has_more"]:
                break
            params["starting_after"] = page["data"][-1]["id"]
        return list(reversed(found))

    def post_event(self, event: dict[str, Any]) -> httpx.Response:
        """Deliver one event to revlens' webhook endpoint, signed as Stripe signs."""
        body = json.dumps(event).encode()
        signature = sign_payload(body, WEBHOOK_SECRET, timestamp=int(time.time()))
        return self.client.post(
            "/webhooks/stripe",
            content=body,
            headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
        )

    def deliver(self) -> int:
        """Deliver the platform events revlens has not received yet, in creation order.

        Returns once revlens has applied them (the endpoint answers when they are stored).
        """
        sent: list[str] = []
        for event in self.platform_events():
            if event["id"] in self.delivered:
                continue
            response = self.post_event(event)
            assert response.status_code == 200, response.text
            self.delivered.add(event["id"])
            sent.append(event["id"])
        self.wait_applied(sent)
        return len(sent)

    def pending_deliveries(self) -> int:
        """How many platform events the emulator has not delivered successfully yet."""
        page = self.stripe.raw_request("get", "/v1/events", delivery_success="false", limit=100)
        return len(page.data["data"])

    def wait_applied(self, event_ids: list[str], timeout: float = 30) -> None:
        """Wait until the stored events are applied (a job runs them after the answer)."""
        deadline = time.monotonic() + timeout
        while True:
            with self.database.read() as session:
                pending = session.scalar(
                    select(func.count())
                    .select_from(StripeEvent)
                    .where(StripeEvent.event_id.in_(event_ids), StripeEvent.processed_at.is_(None))
                )
                stored = session.scalar(
                    select(func.count())
                    .select_from(StripeEvent)
                    .where(StripeEvent.event_id.in_(event_ids))
                )
            if pending == 0 and stored == len(event_ids):
                return
            assert time.monotonic() < deadline, f"{pending} of {len(event_ids)} events unapplied"
            time.sleep(0.02)

    def access(self, account: str, *, now: int | None = None) -> Access:
        """The account's entitlements at emulator time `now` (default: the emulator's now)."""
        with self.database.read() as session:
            return entitlements(
                session,
                billing=self.billing,
                account_id=account,
                now=self.now() if now is None else now,
            )

    def sign_in(self, account: str) -> str:
        """Sign the test client in to a workspace; return the session's CSRF token."""
        return self._session({ACCOUNT: account})

    def sign_in_operator(self) -> str:
        """Sign the test client in to the operator view; return the CSRF token."""
        return self._session({ADMIN: True})

    def _session(self, values: dict[str, Any]) -> str:
        token = secrets.token_urlsafe(16)
        signer = itsdangerous.TimestampSigner(self.settings.secret_key.get_secret_value())
        data = json.dumps({**values, CSRF: token}).encode()
        self.client.cookies.set(SESSION_COOKIE, signer.sign(b64encode(data)).decode())
        return token


def build_platform(
    emulator: EmulatorServer, database_url: str, data_dir: Path, *, scope: str = "read_only"
) -> Iterator[Platform]:
    """Wire revlens (immediate queue) to an emulator; yield it, then tear it down."""
    keys = emulator.emulator.platform
    port = free_port()
    settings = load_settings(
        {
            "REVLENS_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "REVLENS_DATA_DIR": str(data_dir),
            "REVLENS_DATABASE_URL": database_url,
            "REVLENS_STRIPE_SECRET_KEY": keys.secret_key_test,
            "REVLENS_STRIPE_CLIENT_ID": keys.client_id,
            "REVLENS_STRIPE_API_BASE": emulator.url,
            "REVLENS_STRIPE_CONNECT_BASE": emulator.url,
            "REVLENS_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
            "REVLENS_ADMIN_TOKEN": ADMIN_TOKEN,
        },
        overrides={"billing": parse_billing(PLANS), "stripe_scope": scope},
    )
    database = Database.from_url(settings.database_url)
    migrate.upgrade(database.engine)
    queue = make_queue(settings, database=database, immediate=True)
    clients = StripeClients(settings)
    app = create_app(settings, database=database, queue=queue)
    with (
        live_server(app, port=port) as url,
        httpx.Client(base_url=url) as client,
        httpx.Client(base_url=emulator.url) as control,
    ):
        platform = Platform(emulator, settings, database, queue, clients, client, control, set())
        setup_prices(database, clients, settings.billing)
        yield platform
    database.dispose()


def _platform(database_url: str, tmp_path: Path, scope: str) -> Iterator[Platform]:
    config = EmulatorConfig(control=True, now=1_767_225_600)  # 2026-01-01 00:00 UTC
    with EmulatorServer(config) as emulator:
        control = httpx.post(
            f"{emulator.url}/_emulator/clock/advance", json={"by": 0, "freeze": True}
        )
        assert control.status_code == 200, control.text
        yield from build_platform(emulator, database_url, tmp_path / "data", scope=scope)


@pytest.fixture
def platform(fresh_database_url: str, tmp_path: Path) -> Iterator[Platform]:
    """A fresh emulator (clock frozen at a known instant) and revlens with the test plans."""
    yield from _platform(fresh_database_url, tmp_path, "read_only")


@pytest.fixture
def write_platform(fresh_database_url: str, tmp_path: Path) -> Iterator[Platform]:
    """The same with a read_write Connect application (application fees are possible)."""
    yield from _platform(fresh_database_url, tmp_path, "read_write")
