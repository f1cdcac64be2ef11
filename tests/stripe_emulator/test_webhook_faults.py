"""Webhook delivery: secret rolling, live mode, fault modes, event retention and shutdown."""

from __future__ import annotations

import json
import random

import httpx
import pytest
import stripe

from stripe_emulator.clock import WallClock
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer

from .conftest import make_client
from .webhook_support import (
    SCALE,
    Sink,
    attempt_log,
    connected,
    control_client,
    create_endpoint,
    event_for,
    pending,
    run_server,
    run_sink,
    sdk_client,
    verify,
    wait_until,
)

server = pytest.fixture(run_server, name="server")
control = pytest.fixture(control_client, name="control")
client = pytest.fixture(sdk_client, name="client")
sink = pytest.fixture(run_sink, name="sink")


# ---- secret rolling ----------------------------------------------------------------------------


def test_rolled_secret_signs_twice_until_it_expires(
    server: EmulatorServer, client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    account = connected(client)
    endpoint = create_endpoint(client, sink.url("/rolled"), options=account.opts)
    old = endpoint.secret
    assert old is not None
    rolled = control.post(
        f"/_emulator/webhook_endpoints/{endpoint.id}/roll_secret", json={"expires_in": 3600}
    ).json()
    new = rolled["secret"]
    assert new.startswith("whsec_")
    assert new != old
    assert [s["secret"] for s in rolled["expiring_secrets"]] == [old]
    client.v1.customers.create({}, account.opts)
    (during,) = sink.wait_for("/rolled", 1)
    assert [p.split("=")[0] for p in during.signature.split(",")] == ["t", "v1", "v1", "v0"]
    assert verify(during, new).id == verify(during, old).id
    shown = client.v1.webhook_endpoints.retrieve(endpoint.id, options=account.opts)
    assert "expiring_secrets" not in shown
    assert "secret" not in shown

    clock = server.emulator.clock
    assert isinstance(clock, WallClock)
    clock.advance(3601)
    client.v1.customers.create({}, account.opts)
    after = sink.wait_for("/rolled", 2)[1]
    assert [p.split("=")[0] for p in after.signature.split(",")] == ["t", "v1", "v0"]
    assert verify(after, new).type == "customer.created"
    with pytest.raises(stripe.SignatureVerificationError):
        verify(after, old)


def test_roll_secret_validates_its_input(
    client: stripe.StripeClient, control: httpx.Client
) -> None:
    endpoint = create_endpoint(client, "https://example.test/hook")
    too_long = control.post(
        f"/_emulator/webhook_endpoints/{endpoint.id}/roll_secret", json={"expires_in": 86401}
    )
    assert too_long.status_code == 400
    missing = control.post("/_emulator/webhook_endpoints/we_nope/roll_secret", json={})
    assert missing.status_code == 404
    now = control.post(
        f"/_emulator/webhook_endpoints/{endpoint.id}/roll_secret", json={"expires_in": 0}
    )
    assert now.json()["expiring_secrets"] == []


def test_live_mode_deliveries_have_no_v0(server: EmulatorServer, sink: Sink) -> None:
    live = make_client(server, live=True)
    endpoint = create_endpoint(live, sink.url("/live"))
    product = live.v1.products.create({"name": "Live"})
    (received,) = sink.wait_for("/live", 1)
    assert [p.split("=")[0] for p in received.signature.split(",")] == ["t", "v1"]
    assert endpoint.secret is not None
    event = verify(received, endpoint.secret)
    assert (event.livemode, event.data.object["id"]) == (True, product.id)


# ---- fault modes -------------------------------------------------------------------------------


def test_duplicate_fault_sends_each_event_twice(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    control.post("/_emulator/webhooks", json={"duplicate_rate": 1.0})
    account = connected(client)
    create_endpoint(client, sink.url("/dupes"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    first, second = sink.wait_for("/dupes", 2)
    assert first.event["id"] == second.event["id"]
    event_id = first.event["id"]
    wait_until(lambda: pending(client, event_id, **account.opts) == 0, "pending 0")
    assert [a["fault"] for a in attempt_log(control, event_id)] == [None, "duplicate"]


def test_drop_fault_skips_the_first_attempt_then_retries(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    control.post("/_emulator/webhooks", json={"drop_first_rate": 1.0})
    account = connected(client)
    create_endpoint(client, sink.url("/dropped"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    (received,) = sink.wait_for("/dropped", 1)
    event_id = received.event["id"]
    wait_until(lambda: pending(client, event_id, **account.opts) == 0, "pending 0")
    assert [(a["attempt"], a["outcome"]) for a in attempt_log(control, event_id)] == [
        (1, "dropped"),
        (2, "delivered"),
    ]
    assert len(sink.at("/dropped")) == 1


def test_shuffle_fault_reorders_an_endpoints_deliveries(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    account = connected(client)
    create_endpoint(client, sink.url("/shuffled"), ["product.created"], account.opts)
    control.post(
        "/_emulator/webhooks",
        json={"shuffle_window": 6, "shuffle_wait_ms": 60_000, "seed": 7},
    )
    names = [f"P{i}" for i in range(6)]
    for name in names:
        client.v1.products.create({"name": name}, account.opts)
    received = sink.wait_for("/shuffled", 6)
    order = [r.event["data"]["object"]["name"] for r in received]
    expected = list(names)
    random.Random(7).shuffle(expected)
    assert order == expected
    assert order != names


def test_delay_fault_is_applied_to_every_attempt(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    control.post("/_emulator/webhooks", json={"delay_ms": 50, "jitter_ms": 10})
    settings = control.get("/_emulator/webhooks").json()
    assert (settings["delay_ms"], settings["jitter_ms"]) == (50.0, 10.0)
    account = connected(client)
    create_endpoint(client, sink.url("/late"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    (received,) = sink.wait_for("/late", 1)
    wait_until(lambda: bool(attempt_log(control, received.event["id"])), "the attempt log")
    assert [a["fault"] for a in attempt_log(control, received.event["id"])] == ["delayed"]


def test_faults_are_off_by_default_and_validated(control: httpx.Client) -> None:
    settings = control.get("/_emulator/webhooks").json()
    assert settings == {
        "retry_scale": SCALE,
        "timeout_seconds": 10.0,
        "duplicate_rate": 0.0,
        "drop_first_rate": 0.0,
        "delay_ms": 0.0,
        "jitter_ms": 0.0,
        "shuffle_window": 0,
        "shuffle_wait_ms": 200.0,
        "seed": None,
    }
    assert control.post("/_emulator/webhooks", json={"duplicate_rate": 2}).status_code == 400
    assert control.post("/_emulator/webhooks", json={"nope": 1}).status_code == 400


# ---- retention and shutdown ----------------------------------------------------------------


def test_events_older_than_30_days_are_hidden(
    server: EmulatorServer, client: stripe.StripeClient
) -> None:
    account = connected(client)
    customer = client.v1.customers.create({}, account.opts)
    event = event_for(client, customer.id, **account.opts)
    clock = server.emulator.clock
    assert isinstance(clock, WallClock)
    clock.advance(29 * 86400)
    assert client.v1.events.retrieve(event.id, options=account.opts).id == event.id
    clock.advance(2 * 86400)
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.events.retrieve(event.id, options=account.opts)
    assert missing.value.http_status == 404
    listed = client.v1.events.list({"limit": 100}, account.opts).data
    assert event.id not in [e.id for e in listed]
    recent = client.v1.customers.create({}, account.opts)
    assert [e.data.object["id"] for e in client.v1.events.list({}, account.opts).data] == [
        recent.id
    ]


def test_server_stops_with_retries_still_scheduled(sink: Sink) -> None:
    server = EmulatorServer(EmulatorConfig(control=True)).start()
    client = make_client(server)
    sink.script("/never", [500] * 5)
    create_endpoint(client, sink.url("/never"))
    client.v1.products.create({"name": "X"})
    sink.wait_for("/never", 1)
    server.stop()
    assert not server.emulator.webhooks.running


def test_attempt_log_is_json(control: httpx.Client) -> None:
    body = control.get("/_emulator/webhooks/attempts").json()
    assert json.loads(json.dumps(body)) == {"data": [], "stats": {}}
