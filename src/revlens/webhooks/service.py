"""Registering revlens' webhook endpoints, and the secrets a delivery may be signed with."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from revlens.config import Settings
from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.stripe_api import endpoints
from revlens.stripe_api.client import StripeClients
from revlens.webhooks.models import WebhookEndpoint

WEBHOOK_PATH = "/webhooks/stripe"


@dataclass(frozen=True)
class SetupResult:
    """What `revlens webhooks setup` did for each kind of endpoint."""

    url: str
    created: list[str]
    kept: list[str]
    replaced: list[str]


def webhook_url(settings: Settings) -> str:
    """Return the URL Stripe delivers to."""
    return settings.public_url + WEBHOOK_PATH


def setup_endpoints(database: Database, clients: StripeClients, settings: Settings) -> SetupResult:
    """Make sure one Connect and one account endpoint deliver to revlens, with known secrets.

    Stripe shows a secret only when it creates the endpoint: an endpoint revlens has no secret
    for is deleted and created again.
    """
    url = webhook_url(settings)
    with database.read() as session:
        known = {row.stripe_id: row for row in session.scalars(select(WebhookEndpoint))}
    created: list[str] = []
    kept: list[str] = []
    replaced: list[str] = []
    at_stripe = endpoints.existing_endpoints(clients, url)
    for connect in (True, False):
        matching = [e for e in at_stripe if e.connect is connect]
        usable = [e for e in matching if e.stripe_id in known]
        if usable:
            kept.append(usable[0].stripe_id)
            continue
        for stale in matching:
            endpoints.delete_endpoint(clients, stale.stripe_id)
            replaced.append(stale.stripe_id)
        made = endpoints.create_endpoint(clients, url, connect=connect)
        assert made.secret is not None
        with database.unit_of_work() as session:
            session.add(
                WebhookEndpoint(
                    stripe_id=made.stripe_id,
                    url=url,
                    connect=connect,
                    secret=made.secret,
                    created_at=utcnow(),
                )
            )
        created.append(made.stripe_id)
    live = {e.stripe_id for e in endpoints.existing_endpoints(clients, url)}
    with database.unit_of_work() as session:
        session.execute(delete(WebhookEndpoint).where(WebhookEndpoint.stripe_id.not_in(live)))
    return SetupResult(url, created, kept, replaced)


def signing_secrets(session: Session, settings: Settings) -> tuple[str, ...]:
    """Return every secret a delivery may be signed with: configured ones, then registered ones."""
    stored = tuple(session.scalars(select(WebhookEndpoint.secret)))
    return settings.stripe_webhook_secrets + tuple(
        s for s in stored if s not in settings.stripe_webhook_secrets
    )


class SigningSecrets:
    """The signing secrets of one web process, read from the database at most every `ttl` s.

    `revlens webhooks setup` runs in another process: a delivery that no cached secret verifies
    makes the caller `reload` (at most every `min_reload` s, so that bad signatures cannot make
    every request read the database) before it is refused.
    """

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        ttl: float = 5.0,
        min_reload: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._settings = settings
        self._ttl = ttl
        self._min_reload = min_reload
        self._clock = clock
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self._loaded_at: float | None = None

    @property
    def current(self) -> tuple[str, ...]:
        """Return the cached secrets (possibly stale: check `stale` first)."""
        return self._secrets

    @property
    def stale(self) -> bool:
        """Whether the cached secrets are older than the TTL (or were never read)."""
        loaded = self._loaded_at
        return loaded is None or self._clock() - loaded >= self._ttl

    def reload(self, *, forced: bool = False) -> bool:
        """Read the secrets again; return whether they changed.

        Without `forced`, a read done less than `min_reload` s ago is not repeated.
        """
        with self._lock:
            loaded = self._loaded_at
            if not forced and loaded is not None and self._clock() - loaded < self._min_reload:
                return False
            with self._database.read() as session:
                secrets = signing_secrets(session, self._settings)
            changed = secrets != self._secrets
            self._secrets, self._loaded_at = secrets, self._clock()
            return changed
