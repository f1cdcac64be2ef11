"""Replay `stripe trigger` sequences and check that their events arrive as signed webhooks.

Each sequence runs twice: as the platform (its account endpoint receives the events, without
`account`) and as a fresh connected account (the platform's Connect endpoint receives them, with
`account` set). Every event the replay records must be delivered and verify with the SDK.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from tests.conftest import require_shared
from tests.contract.test_stripe_cli_triggers import IN_SCOPE, _resolve, _steps, encode
from tests.stripe_emulator.webhook_support import Received, Sink, wait_until

# Sequences whose named event the emulator did not record when this was written (the event type
# is unknown to it, or the request that should emit it does not). Delivery of every event it
# does record is still checked; drop a name once its event is emitted (nothing fails before).
NAMED_EVENT_NOT_RECORDED = {
    "account.application.deauthorized",  # DELETE /v1/accounts/{id} emits nothing yet
    "balance.available",  # not an event type the emulator knows
    "charge.failed",  # the declined request fails, and its transaction (event too) rolls back
    "charge.refund.updated",  # not an event type the emulator knows
    "customer.discount.created",  # discounts on customers emit no event yet
    "customer.discount.deleted",
    "setup_intent.requires_action",  # not an event type the emulator knows
    "subscription.payment_succeeded",  # not a Stripe event type: the CLI's alias
}


@dataclass(frozen=True)
class Hooks:
    """A running emulator, its receiver, and the secrets of the two endpoints."""

    server: EmulatorServer
    sink: Sink
    platform_secret: str
    connect_secret: str


@pytest.fixture(scope="module")
def hooks() -> Iterator[Hooks]:
    """Run an emulator with an account endpoint and a Connect endpoint, both for every event."""
    require_shared("stripe-oracles/stripe-cli-triggers")
    with Sink() as sink, EmulatorServer(EmulatorConfig(control=True)) as server:
        key = server.emulator.platform.secret_key_test
        with httpx.Client(base_url=server.url, headers=_auth(key)) as http:
            secrets = []
            for path, connect in (("/platform", "false"), ("/connect", "true")):
                form = {"url": sink.url(path), "enabled_events[0]": "*", "connect": connect}
                secrets.append(http.post("/v1/webhook_endpoints", data=form).json()["secret"])
        yield Hooks(server, sink, secrets[0], secrets[1])


def _auth(key: str, account: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {key}"}
    if account is not None:
        headers["Stripe-Account"] = account
    return headers


def _event_ids(http: httpx.Client) -> set[str]:
    ids: set[str] = set()
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = http.get("/v1/events", params=params).json()
        ids.update(event["id"] for event in page["data"])
        if not page["has_more"]:
            return ids
        params["starting_after"] = page["data"][-1]["id"]


def _replay(http: httpx.Client, trigger: Path, results: dict[str, Any]) -> str | None:
    """Run a sequence, keeping each step's response in `results`; return why it failed."""
    for step in _steps(trigger):
        path = _resolve(step["path"], results)
        params = list(encode(_resolve(step.get("params") or {}, results)))
        method = step["method"].upper()
        if method == "POST":
            response = http.post(path, data=dict(params))
        else:
            response = http.request(method, path, params=params)
        body = response.json()
        if step.get("expected_error_type"):
            continue
        if response.status_code != 200:
            return f"step {step['name']} answered {response.status_code}: {body}"
        results[step["name"]] = body
    return None


def _delivered(sink: Sink, path: str, wanted: set[str]) -> dict[str, Received]:
    def by_id() -> dict[str, Received]:
        return {r.event["id"]: r for r in sink.at(path) if r.event["id"] in wanted}

    wait_until(lambda: len(by_id()) == len(wanted), f"{len(wanted)} events at {path}")
    return by_id()


@pytest.mark.parametrize("as_connected", [False, True], ids=["platform", "connected"])
@pytest.mark.parametrize("trigger", IN_SCOPE, ids=lambda path: path.name)
def test_trigger_sequence_delivers_its_events(
    hooks: Hooks, trigger: Path, as_connected: bool
) -> None:
    server = hooks.server
    key = server.emulator.platform.secret_key_test
    results: dict[str, Any] = {}
    with httpx.Client(base_url=server.url, headers=_auth(key), timeout=10) as platform:
        account = platform.post("/v1/accounts", data={"type": "standard"}).json()["id"]
        acting = account if as_connected else None
        with httpx.Client(base_url=server.url, headers=_auth(key, acting), timeout=10) as http:
            before = _event_ids(http)
            failure = _replay(http, trigger, results)
            if failure is not None:
                pytest.skip(f"replay fails (see test_trigger_sequence_replays): {failure}")
            recorded = _event_ids(http) - before
        # Accounts a platform replay creates record their own events, heard by Connect.
        created = (
            []
            if as_connected
            else [body["id"] for body in results.values() if body.get("object") == "account"]
        )
        theirs: dict[str, set[str]] = {}
        for other in created:
            with httpx.Client(base_url=server.url, headers=_auth(key, other), timeout=10) as http:
                if http.get("/v1/events", params={"limit": 1}).status_code == 200:
                    theirs[other] = _event_ids(http)
    path, secret = (
        ("/connect", hooks.connect_secret)
        if as_connected
        else (
            "/platform",
            hooks.platform_secret,
        )
    )
    checks = [(path, secret, recorded, acting)]
    checks += [("/connect", hooks.connect_secret, ids, other) for other, ids in theirs.items()]
    types = set()
    for where, key_, wanted, account_id in checks:
        for event_id, delivery in _delivered(hooks.sink, where, wanted).items():
            event = stripe.Webhook.construct_event(delivery.body, delivery.signature, key_)
            assert event.id == event_id
            assert event.to_dict().get("account") == account_id
            types.add(event.type)
    name = trigger.name.removesuffix(".json")
    if name not in NAMED_EVENT_NOT_RECORDED:
        assert name in types, f"{name} was not delivered; delivered {sorted(types)}"
