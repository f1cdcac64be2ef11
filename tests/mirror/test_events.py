"""Webhooks and the Events API keep the mirror equal to Stripe, in any order, with duplicates."""

from __future__ import annotations

import json
import random
import time
from typing import Any

import httpx
from sqlalchemy import func, select

from revlens.mirror.catchup import catch_up
from revlens.mirror.models import EventCursor, StripeEvent
from revlens.stripe_api.webhooks import sign_payload
from revlens.tasks.jobs import sync_account
from revlens.web.app import create_app
from tests.live_server import live_server
from tests.mirror.conftest import WEBHOOK_SECRET, Mirror


def _events(mirror: Mirror) -> list[dict[str, Any]]:
    """Every event of the account, oldest first, as Stripe would deliver them."""
    listed = mirror.stripe_list("/v1/events")
    return sorted(listed.values(), key=lambda e: (e["created"], e["id"]))


def _post(url: str, event: dict[str, Any], secret: str = WEBHOOK_SECRET) -> httpx.Response:
    body = json.dumps(event).encode()
    header = sign_payload(body, secret, timestamp=int(time.time()))
    return httpx.post(
        f"{url}/webhooks/stripe",
        content=body,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


def _churn(mirror: Mirror) -> None:
    """Create, update and delete objects so that order matters."""
    client, opts = mirror.platform, mirror.opts
    for n in range(4):
        customer = client.v1.customers.create({"email": f"v{n}@x.example"}, opts)
        for m in range(3):
            client.v1.customers.update(customer.id, {"name": f"Name {m}"}, opts)
        if n == 3:
            client.v1.customers.delete(customer.id, options=opts)
    product = client.v1.products.create({"name": "Gold"}, opts)
    client.v1.products.update(product.id, {"name": "Platinum"}, opts)


def test_duplicated_and_shuffled_webhooks_converge_on_stripe(mirror: Mirror) -> None:
    _churn(mirror)
    events = [e | {"account": mirror.account} for e in _events(mirror)]
    deliveries = events + events[::2]  # every other event twice
    random.Random(7).shuffle(deliveries)
    app = create_app(mirror.settings, database=mirror.database, queue=mirror.queue)
    with live_server(app) as url:
        answers = [_post(url, event) for event in deliveries]
    assert all(a.status_code == 200 for a in answers)
    assert sum(a.json()["duplicate"] for a in answers) == len(events[::2])
    expected = mirror.stripe_list("/v1/customers")
    stored = mirror.stored("customer")
    assert stored == expected
    assert mirror.stored("product") == mirror.stripe_list("/v1/products")
    with mirror.database.read() as session:
        logged = session.scalar(select(func.count()).select_from(StripeEvent))
        unprocessed = session.scalar(
            select(func.count()).select_from(StripeEvent).where(StripeEvent.processed_at.is_(None))
        )
    assert logged == len(events)
    assert unprocessed == 0


def test_bad_signatures_and_payloads_store_nothing(mirror: Mirror) -> None:
    event = {"id": "evt_x", "object": "event", "type": "customer.created", "created": 1}
    app = create_app(mirror.settings, database=mirror.database, queue=mirror.queue)
    with live_server(app) as url:
        forged = _post(url, event, secret="whsec_not_ours")
        body = b"{not json"
        header = sign_payload(body, WEBHOOK_SECRET, timestamp=int(time.time()))
        malformed = httpx.post(
            f"{url}/webhooks/stripe", content=body, headers={"Stripe-Signature": header}
        )
        old = json.dumps(event).encode()
        stale = httpx.post(
            f"{url}/webhooks/stripe",
            content=old,
            headers={"Stripe-Signature": sign_payload(old, WEBHOOK_SECRET, timestamp=1000)},
        )
        huge = httpx.post(f"{url}/webhooks/stripe", content=b"x" * (600 * 1024))
        unknown = _post(
            url,
            {
                **event,
                "id": "evt_y",
                "type": "radar.early_fraud_warning.created",
                "data": {"object": {"id": "issfr_1", "object": "radar.early_fraud_warning"}},
            },
        )
    assert forged.status_code == 400
    assert "no signature matches" in forged.json()["error"]
    assert malformed.status_code == 400
    assert "not JSON" in malformed.json()["error"]
    assert stale.status_code == 400
    assert "older than" in stale.json()["error"]
    assert huge.status_code == 413
    assert unknown.status_code == 200  # stored, acknowledged, ignored
    with mirror.database.read() as session:
        ids = list(session.scalars(select(StripeEvent.event_id)))
    assert ids == ["evt_y"]


def test_events_api_catch_up_fills_what_webhooks_missed(mirror: Mirror) -> None:
    mirror.queue.enqueue(sync_account, account_id=mirror.account)
    with mirror.database.unit_of_work() as session:
        cursor = session.get(EventCursor, mirror.account)
        assert cursor is not None
        cursor.created -= 5  # the backfill froze a moment ago
    _churn(mirror)
    fetcher = mirror.queue.context.fetcher
    result = catch_up(mirror.database, fetcher, account_id=mirror.account, lag=-5)
    assert result is not None
    assert result.applied >= 15
    assert not result.warn
    assert mirror.stored("customer") == mirror.stripe_list("/v1/customers")
    assert mirror.stored("product") == mirror.stripe_list("/v1/products")
    again = catch_up(mirror.database, fetcher, account_id=mirror.account, lag=-5)
    assert again is not None
    assert again.applied == 0  # the boundary ids keep the same second from being re-applied
