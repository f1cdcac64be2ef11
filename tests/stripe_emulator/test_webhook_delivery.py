"""Webhook delivery through real clients: a local receiver verifies with the SDK's verifier."""

from __future__ import annotations

import json
import random
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe

from stripe_emulator.clock import WallClock
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from stripe_emulator.webhooks.schedule import TEST_DELAYS
from tests.conftest import require_shared

from .conftest import Connected, make_client
from .webhook_sink import SLOW, Received, Sink, wait_until

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
SCALE = 1e-6


@pytest.fixture
def server() -> Iterator[EmulatorServer]:
    """Run a private emulator, so settings, faults and the clock are this test's own."""
    with EmulatorServer(EmulatorConfig(control=True)) as running:
        yield running


@pytest.fixture
def control(server: EmulatorServer) -> Iterator[httpx.Client]:
    """Return a client for the control API, with the retry schedule compressed."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.post("/_emulator/webhooks", json={"retry_scale": SCALE}).status_code == 200
        yield http


@pytest.fixture
def client(server: EmulatorServer, control: httpx.Client) -> stripe.StripeClient:
    """Return a test-mode SDK client for the private emulator."""
    return make_client(server)


@pytest.fixture
def sink() -> Iterator[Sink]:
    """Run a local receiver."""
    with Sink() as running:
        yield running


def _connected(client: stripe.StripeClient) -> Connected:
    created = client.v1.accounts.create({"type": "standard"})
    return Connected(created.id, {"stripe_account": created.id})


def _endpoint(
    client: stripe.StripeClient,
    url: str,
    events: list[str] | None = None,
    options: dict[str, Any] | None = None,
    **extra: Any,
) -> stripe.WebhookEndpoint:
    params: dict[str, Any] = {"url": url, "enabled_events": events or ["*"], **extra}
    return client.v1.webhook_endpoints.create(params, options or {})  # type: ignore[arg-type]


def _verify(received: Received, secret: str) -> stripe.Event:
    return stripe.Webhook.construct_event(received.body, received.signature, secret)


def _attempts(control: httpx.Client, event_id: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = control.get("/_emulator/webhooks/attempts").json()["data"]
    return [entry for entry in data if entry["event"] == event_id]


def _event_for(client: stripe.StripeClient, object_id: str, **options: Any) -> stripe.Event:
    events = client.v1.events.list({"limit": 100}, options).data  # type: ignore[arg-type]
    return next(e for e in events if e.data.object["id"] == object_id)


def _pending(client: stripe.StripeClient, event_id: str, **options: Any) -> int:
    event = client.v1.events.retrieve(event_id, options=options)  # type: ignore[arg-type]
    return int(event.pending_webhooks)


# ---- signing ----------------------------------------------------------------------------------


def test_signer_matches_the_published_stripe_dotnet_vector() -> None:
    from stripe_emulator.webhooks.signing import compute_signature, signature_header

    vector = require_shared("stripe-oracles/signature-vector/event_test_signature.json")
    payload = vector.read_bytes()
    expected = "2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7"
    assert compute_signature("webhook_secret", 1533204620, payload) == expected
    assert compute_signature("webhook_secret", 1533204620, payload.rstrip(b"\n")) == (
        "8c506d7d19ece69e9a38e398964787dda54eeb2583381ffc7f56070c28d7f119"
    )
    header = signature_header(payload, 1533204620, ["webhook_secret"], livemode=False)
    t, v1, v0 = header.split(",")
    assert (t, v1) == ("t=1533204620", f"v1={expected}")
    assert v0.startswith("v0=")
    assert v0 != f"v0={expected}"
    assert len(v0) == len("v0=") + 64
    assert signature_header(payload, 1533204620, ["webhook_secret"], livemode=True) == (
        f"t=1533204620,v1={expected}"
    )
    assert stripe.WebhookSignature.verify_header(
        payload.decode(), header, "webhook_secret", tolerance=None
    )
    # The fake v0 must never pass as a v1 signature.
    only_v0 = f"t=1533204620,v1={v0[3:]}"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            payload.decode(), only_v0, "webhook_secret", tolerance=None
        )


# ---- routing: account endpoints, Connect endpoints, enabled_events -------------------------


def test_connect_endpoint_hears_every_connected_account_and_account_endpoint_only_its_own(
    client: stripe.StripeClient, sink: Sink
) -> None:
    connect = _endpoint(client, sink.url("/connect"), connect=True)
    own = _endpoint(client, sink.url("/platform"))
    first, second = _connected(client), _connected(client)
    ada = client.v1.customers.create({"name": "Ada"}, first.opts)
    bob = client.v1.customers.create({"name": "Bob"}, second.opts)
    product = client.v1.products.create({"name": "Platform only"})

    deliveries = sink.wait_for("/connect", 2)
    assert connect.secret is not None
    events = [_verify(r, connect.secret) for r in deliveries]
    assert sorted((e.account, e.type, e.data.object["id"]) for e in events) == sorted(
        [(first.id, "customer.created", ada.id), (second.id, "customer.created", bob.id)]
    )
    platform_events = sink.wait_for("/platform", 1)
    assert own.secret is not None
    seen = _verify(platform_events[0], own.secret)
    assert (seen.type, seen.data.object["id"]) == ("product.created", product.id)
    assert "account" not in seen
    for received in [*deliveries, *platform_events]:
        assert received.headers["content-type"] == "application/json; charset=utf-8"
        assert received.headers["user-agent"] == USER_AGENT
        assert " " not in received.signature
        assert [part.split("=")[0] for part in received.signature.split(",")] == [
            "t",
            "v1",
            "v0",
        ]
    # The body is the stored event, byte for byte apart from the live pending count.
    stored = _event_for(client, ada.id, stripe_account=first.id)
    delivered = next(r.event for r in deliveries if r.event["id"] == stored.id)
    assert {**delivered, "pending_webhooks": 0} == {**stored.to_dict(), "pending_webhooks": 0}
    assert delivered["api_version"] == stored.api_version
    wait_until(lambda: _pending(client, stored.id, stripe_account=first.id) == 0, "pending 0")
    assert len(sink.at("/connect")) == 2
    assert len(sink.at("/platform")) == 1


def test_connect_endpoint_hears_the_deauthorization(
    client: stripe.StripeClient, sink: Sink
) -> None:
    endpoint = _endpoint(
        client, sink.url("/deauth"), ["account.application.deauthorized"], connect=True
    )
    account = _connected(client)
    client.oauth.deauthorize({"stripe_user_id": account.id})
    (received,) = sink.wait_for("/deauth", 1)
    assert endpoint.secret is not None
    event = _verify(received, endpoint.secret)
    assert (event.type, event.account) == ("account.application.deauthorized", account.id)
    assert event.data.object["object"] == "application"


def test_an_endpoint_gets_its_events_in_creation_order(
    client: stripe.StripeClient, sink: Sink
) -> None:
    account = _connected(client)
    _endpoint(client, sink.url("/ordered"), ["product.created"], account.opts)
    names = [f"P{i}" for i in range(20)]
    for name in names:
        client.v1.products.create({"name": name}, account.opts)
    received = sink.wait_for("/ordered", 20)
    assert [r.event["data"]["object"]["name"] for r in received] == names


def test_events_of_a_rolled_back_change_are_never_sent(
    server: EmulatorServer, client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    from stripe_emulator.context import Ctx
    from stripe_emulator.events import emit
    from stripe_emulator.http_types import Request
    from stripe_emulator.store import Scope

    account = _connected(client)
    _endpoint(client, sink.url("/rollback"), ["product.created"], account.opts)
    emulator = server.emulator
    scope = Scope(account.id, False)
    request = Request("POST", "/v1/products", b"", {}, b"")
    ctx = Ctx(emulator, request, scope, {}, {}, "")
    recorded: list[dict[str, Any]] = []

    def failing_change() -> None:
        with emulator.store.transaction():
            recorded.append(emit(ctx, "product.created", {"id": "prod_gone", "name": "gone"}))
            raise RuntimeError("the change fails after recording its event")

    with pytest.raises(RuntimeError):
        failing_change()
    rolled_back = recorded[0]
    kept = client.v1.products.create({"name": "kept"}, account.opts)
    (received,) = sink.wait_for("/rollback", 1)
    assert received.event["data"]["object"]["id"] == kept.id
    wait_until(lambda: bool(_attempts(control, rolled_back["id"])), "the rolled-back event")
    assert [a["outcome"] for a in _attempts(control, rolled_back["id"])] == ["event_missing"]
    assert len(sink.at("/rollback")) == 1


def test_endpoint_on_a_connected_account_hears_only_that_account(
    client: stripe.StripeClient, sink: Sink
) -> None:
    first, second = _connected(client), _connected(client)
    endpoint = _endpoint(client, sink.url("/first"), options=first.opts)
    client.v1.customers.create({"name": "Other"}, second.opts)
    mine = client.v1.customers.create({"name": "Mine"}, first.opts)
    (received,) = sink.wait_for("/first", 1)
    assert endpoint.secret is not None
    event = _verify(received, endpoint.secret)
    assert (event.account, event.data.object["id"]) == (first.id, mine.id)


def test_enabled_events_filter_and_disabled_endpoints(
    client: stripe.StripeClient, sink: Sink
) -> None:
    account = _connected(client)
    updates = _endpoint(client, sink.url("/updates"), ["customer.updated"], account.opts)
    disabled = _endpoint(client, sink.url("/disabled"), ["*"], account.opts)
    client.v1.webhook_endpoints.update(disabled.id, {"disabled": True}, account.opts)
    customer = client.v1.customers.create({"name": "A"}, account.opts)
    created = _event_for(client, customer.id, **account.opts)
    assert created.type == "customer.created"
    assert created.pending_webhooks == 0
    client.v1.customers.update(customer.id, {"name": "B"}, account.opts)
    (received,) = sink.wait_for("/updates", 1)
    assert updates.secret is not None
    assert _verify(received, updates.secret).type == "customer.updated"
    assert sink.at("/disabled") == []


# ---- retries, pending_webhooks, delivery_success ---------------------------------------------


def test_non_2xx_and_3xx_are_retried_until_success(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    account = _connected(client)
    sink.script("/flaky", [500, 302])
    endpoint = _endpoint(client, sink.url("/flaky"), options=account.opts)
    customer = client.v1.customers.create({}, account.opts)
    received = sink.wait_for("/flaky", 3)
    assert [r.status for r in received] == [500, 302, 200]
    assert endpoint.secret is not None
    assert {_verify(r, endpoint.secret).id for r in received} == {received[0].event["id"]}
    event_id = received[0].event["id"]
    wait_until(lambda: _pending(client, event_id, **account.opts) == 0, "pending_webhooks 0")
    attempts = _attempts(control, event_id)
    assert [(a["attempt"], a["outcome"], a["status"]) for a in attempts] == [
        (1, "failed", 500),
        (2, "failed", 302),
        (3, "delivered", 200),
    ]
    assert [a["retry_in"] for a in attempts] == [
        pytest.approx(TEST_DELAYS[0] * SCALE),
        pytest.approx(TEST_DELAYS[1] * SCALE),
        None,
    ]
    succeeded = client.v1.events.list({"delivery_success": True, "limit": 100}, account.opts)
    assert event_id in [e.id for e in succeeded.data]
    assert _event_for(client, customer.id, **account.opts).pending_webhooks == 0


def test_test_mode_gives_up_after_three_retries_and_stays_pending(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    account = _connected(client)
    sink.script("/down", [503] * 10)
    _endpoint(client, sink.url("/down"), options=account.opts)
    _endpoint(client, sink.url("/up"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    event_id = sink.wait_for("/up", 1)[0].event["id"]
    wait_until(
        lambda: any(a["outcome"] == "exhausted" for a in _attempts(control, event_id)),
        "retries exhausted",
    )
    assert [r.status for r in sink.at("/down")] == [503, 503, 503, 503]
    wait_until(lambda: _pending(client, event_id, **account.opts) == 1, "pending 1")
    failed = client.v1.events.list({"delivery_success": False, "limit": 100}, account.opts)
    assert [e.id for e in failed.data] == [event_id]
    succeeded = client.v1.events.list({"delivery_success": True, "limit": 100}, account.opts)
    assert event_id not in [e.id for e in succeeded.data]


def test_timeouts_are_retried(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    control.post("/_emulator/webhooks", json={"timeout_seconds": 0.1})
    account = _connected(client)
    sink.script("/slow", [SLOW])
    _endpoint(client, sink.url("/slow"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    received = sink.wait_for("/slow", 2)
    event_id = received[0].event["id"]
    wait_until(lambda: len(_attempts(control, event_id)) == 2, "two attempts")
    attempts = _attempts(control, event_id)
    assert [(a["outcome"], a["error"]) for a in attempts] == [
        ("failed", "timeout"),
        ("delivered", None),
    ]
    wait_until(lambda: _pending(client, event_id, **account.opts) == 0, "pending 0")


def test_refused_connections_are_retried(
    client: stripe.StripeClient, control: httpx.Client
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    account = _connected(client)
    _endpoint(client, f"http://127.0.0.1:{port}/nobody", options=account.opts)
    customer = client.v1.customers.create({}, account.opts)
    event_id = _event_for(client, customer.id, **account.opts).id
    wait_until(
        lambda: any(a["outcome"] == "exhausted" for a in _attempts(control, event_id)),
        "retries exhausted",
    )
    attempts = _attempts(control, event_id)
    assert [(a["attempt"], a["error"]) for a in attempts[:-1]] == [
        (n, "connection_refused") for n in (1, 2, 3, 4)
    ]
    assert _pending(client, event_id, **account.opts) == 1


def test_disabling_an_endpoint_stops_its_retries(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    # First retry 0.9 s after the failure: ample time to disable the endpoint before it.
    control.post("/_emulator/webhooks", json={"retry_scale": 0.001})
    account = _connected(client)
    sink.script("/fails", [500] * 10)
    endpoint = _endpoint(client, sink.url("/fails"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    event_id = sink.wait_for("/fails", 1)[0].event["id"]
    client.v1.webhook_endpoints.update(endpoint.id, {"disabled": True}, account.opts)
    wait_until(lambda: len(_attempts(control, event_id)) == 2, "the retry")
    assert [a["outcome"] for a in _attempts(control, event_id)] == [
        "failed",
        "endpoint_disabled",
    ]
    assert len(sink.at("/fails")) == 1


# ---- secret rolling ----------------------------------------------------------------------------


def test_rolled_secret_signs_twice_until_it_expires(
    server: EmulatorServer, client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    account = _connected(client)
    endpoint = _endpoint(client, sink.url("/rolled"), options=account.opts)
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
    assert _verify(during, new).id == _verify(during, old).id
    shown = client.v1.webhook_endpoints.retrieve(endpoint.id, options=account.opts)
    assert "expiring_secrets" not in shown
    assert "secret" not in shown

    clock = server.emulator.clock
    assert isinstance(clock, WallClock)
    clock.advance(3601)
    client.v1.customers.create({}, account.opts)
    after = sink.wait_for("/rolled", 2)[1]
    assert [p.split("=")[0] for p in after.signature.split(",")] == ["t", "v1", "v0"]
    assert _verify(after, new).type == "customer.created"
    with pytest.raises(stripe.SignatureVerificationError):
        _verify(after, old)


def test_roll_secret_validates_its_input(
    client: stripe.StripeClient, control: httpx.Client
) -> None:
    endpoint = _endpoint(client, "https://example.test/hook")
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
    endpoint = _endpoint(live, sink.url("/live"))
    product = live.v1.products.create({"name": "Live"})
    (received,) = sink.wait_for("/live", 1)
    assert [p.split("=")[0] for p in received.signature.split(",")] == ["t", "v1"]
    assert endpoint.secret is not None
    event = _verify(received, endpoint.secret)
    assert (event.livemode, event.data.object["id"]) == (True, product.id)


# ---- fault modes -------------------------------------------------------------------------------


def test_duplicate_fault_sends_each_event_twice(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    control.post("/_emulator/webhooks", json={"duplicate_rate": 1.0})
    account = _connected(client)
    _endpoint(client, sink.url("/dupes"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    first, second = sink.wait_for("/dupes", 2)
    assert first.event["id"] == second.event["id"]
    event_id = first.event["id"]
    wait_until(lambda: _pending(client, event_id, **account.opts) == 0, "pending 0")
    assert [a["fault"] for a in _attempts(control, event_id)] == [None, "duplicate"]


def test_drop_fault_skips_the_first_attempt_then_retries(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    control.post("/_emulator/webhooks", json={"drop_first_rate": 1.0})
    account = _connected(client)
    _endpoint(client, sink.url("/dropped"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    (received,) = sink.wait_for("/dropped", 1)
    event_id = received.event["id"]
    wait_until(lambda: _pending(client, event_id, **account.opts) == 0, "pending 0")
    assert [(a["attempt"], a["outcome"]) for a in _attempts(control, event_id)] == [
        (1, "dropped"),
        (2, "delivered"),
    ]
    assert len(sink.at("/dropped")) == 1


def test_shuffle_fault_reorders_an_endpoints_deliveries(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    account = _connected(client)
    _endpoint(client, sink.url("/shuffled"), ["product.created"], account.opts)
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
    account = _connected(client)
    _endpoint(client, sink.url("/late"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    (received,) = sink.wait_for("/late", 1)
    wait_until(lambda: bool(_attempts(control, received.event["id"])), "the attempt log")
    assert [a["fault"] for a in _attempts(control, received.event["id"])] == ["delayed"]


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
    account = _connected(client)
    customer = client.v1.customers.create({}, account.opts)
    event = _event_for(client, customer.id, **account.opts)
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
    _endpoint(client, sink.url("/never"))
    client.v1.products.create({"name": "X"})
    sink.wait_for("/never", 1)
    server.stop()
    assert not server.emulator.webhooks.running


def test_attempt_log_is_json(control: httpx.Client) -> None:
    body = control.get("/_emulator/webhooks/attempts").json()
    assert json.loads(json.dumps(body)) == {"data": [], "stats": {}}
