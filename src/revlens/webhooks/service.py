"""Registering revlens' webhook endpoints, and the secrets a delivery may be signed with."""

from __future__ import annotations

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
