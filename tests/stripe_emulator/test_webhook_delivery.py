"""Webhook delivery through real clients: routing, signing and retries, verified by the SDK."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest
import stripe

from stripe_emulator.server import EmulatorServer
from stripe_emulator.store import Scope
from stripe_emulator.webhooks.schedule import LIVE_DELAYS, TEST_DELAYS, retry_delay
from tests.conftest import require_shared

from .conftest import make_client
from .webhook_support import (
    HELD_500,
    SCALE,
    SLOW,
    USER_AGENT,
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
    connect = create_endpoint(client, sink.url("/connect"), connect=True)
    own = create_endpoint(client, sink.url("/platform"))
    first, second = connected(client), connected(client)
    ada = client.v1.customers.create({"name": "Ada"}, first.opts)
    bob = client.v1.customers.create({"name": "Bob"}, second.opts)
    product = client.v1.products.create({"name": "Platform only"})

    deliveries = sink.wait_for("/connect", 2)
    assert connect.secret is not None
    events = [verify(r, connect.secret) for r in deliveries]
    assert sorted((e.account, e.type, e.data.object["id"]) for e in events) == sorted(
        [(first.id, "customer.created", ada.id), (second.id, "customer.created", bob.id)]
    )
    platform_events = sink.wait_for("/platform", 1)
    assert own.secret is not None
    seen = verify(platform_events[0], own.secret)
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
    stored = event_for(client, ada.id, stripe_account=first.id)
    delivered = next(r.event for r in deliveries if r.event["id"] == stored.id)
    assert {**delivered, "pending_webhooks": 0} == {**stored.to_dict(), "pending_webhooks": 0}
    assert delivered["api_version"] == stored.api_version
    wait_until(lambda: pending(client, stored.id, stripe_account=first.id) == 0, "pending 0")
    assert len(sink.at("/connect")) == 2
    assert len(sink.at("/platform")) == 1


def test_connect_routing_follows_the_live_and_test_connection_table(
    server: EmulatorServer, client: stripe.StripeClient
) -> None:
    live = make_client(server, live=True)
    live_connect = create_endpoint(live, "https://example.test/live", connect=True)
    test_connect = create_endpoint(client, "https://example.test/test", connect=True)
    create_endpoint(client, "https://example.test/platform-only")
    live_only, test_only = connected(live).id, connected(client).id
    emulator = server.emulator

    def receivers(account: str, livemode: bool) -> list[str]:
        keys = emulator.webhooks.directory.targets(
            Scope(account, livemode), {"type": "customer.created"}
        )
        return sorted(key.id for key in keys)

    assert receivers(live_only, True) == [live_connect.id]
    assert receivers(live_only, False) == [live_connect.id]
    assert receivers(test_only, False) == [test_connect.id]
    assert receivers(test_only, True) == []
    with emulator.store.transaction():
        emulator.connections.connect(
            test_only, livemode=True, scope="read_write", now=emulator.clock.now()
        )
    assert receivers(test_only, True) == [live_connect.id]
    assert receivers(test_only, False) == sorted([live_connect.id, test_connect.id])


def test_connect_endpoint_hears_the_deauthorization(
    client: stripe.StripeClient, sink: Sink
) -> None:
    endpoint = create_endpoint(
        client, sink.url("/deauth"), ["account.application.deauthorized"], connect=True
    )
    account = connected(client)
    client.oauth.deauthorize({"stripe_user_id": account.id})
    (received,) = sink.wait_for("/deauth", 1)
    assert endpoint.secret is not None
    event = verify(received, endpoint.secret)
    assert (event.type, event.account) == ("account.application.deauthorized", account.id)
    assert event.data.object["object"] == "application"


def test_an_endpoint_gets_its_events_in_creation_order(
    client: stripe.StripeClient, sink: Sink
) -> None:
    account = connected(client)
    create_endpoint(client, sink.url("/ordered"), ["product.created"], account.opts)
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

    account = connected(client)
    create_endpoint(client, sink.url("/rollback"), ["product.created"], account.opts)
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
    wait_until(lambda: bool(attempt_log(control, rolled_back["id"])), "the rolled-back event")
    assert [a["outcome"] for a in attempt_log(control, rolled_back["id"])] == ["event_missing"]
    assert len(sink.at("/rollback")) == 1


def test_endpoint_on_a_connected_account_hears_only_that_account(
    client: stripe.StripeClient, sink: Sink
) -> None:
    first, second = connected(client), connected(client)
    endpoint = create_endpoint(client, sink.url("/first"), options=first.opts)
    client.v1.customers.create({"name": "Other"}, second.opts)
    mine = client.v1.customers.create({"name": "Mine"}, first.opts)
    (received,) = sink.wait_for("/first", 1)
    assert endpoint.secret is not None
    event = verify(received, endpoint.secret)
    assert (event.account, event.data.object["id"]) == (first.id, mine.id)


def test_enabled_events_filter_and_disabled_endpoints(
    client: stripe.StripeClient, sink: Sink
) -> None:
    account = connected(client)
    updates = create_endpoint(client, sink.url("/updates"), ["customer.updated"], account.opts)
    disabled = create_endpoint(client, sink.url("/disabled"), ["*"], account.opts)
    client.v1.webhook_endpoints.update(disabled.id, {"disabled": True}, account.opts)
    customer = client.v1.customers.create({"name": "A"}, account.opts)
    created = event_for(client, customer.id, **account.opts)
    assert created.type == "customer.created"
    assert created.pending_webhooks == 0
    client.v1.customers.update(customer.id, {"name": "B"}, account.opts)
    (received,) = sink.wait_for("/updates", 1)
    assert updates.secret is not None
    assert verify(received, updates.secret).type == "customer.updated"
    assert sink.at("/disabled") == []


# ---- retries, pending_webhooks, delivery_success ---------------------------------------------


def test_retry_schedule_has_stripes_documented_shape() -> None:
    assert TEST_DELAYS == (15 * 60, 60 * 60, 4 * 60 * 60)
    assert sum(LIVE_DELAYS) == 3 * 24 * 60 * 60
    assert LIVE_DELAYS[:8] == tuple(15 * 60 * 2**k for k in range(8))
    assert [retry_delay(n, livemode=False, scale=1.0) for n in (1, 3, 4)] == [900, 14400, None]
    assert retry_delay(9, livemode=True, scale=0.5) == LIVE_DELAYS[8] / 2
    assert retry_delay(10, livemode=True, scale=1.0) is None


def test_non_2xx_and_3xx_are_retried_until_success(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    account = connected(client)
    sink.script("/flaky", [500, 302])
    endpoint = create_endpoint(client, sink.url("/flaky"), options=account.opts)
    customer = client.v1.customers.create({}, account.opts)
    received = sink.wait_for("/flaky", 3)
    assert [r.status for r in received] == [500, 302, 200]
    assert endpoint.secret is not None
    assert {verify(r, endpoint.secret).id for r in received} == {received[0].event["id"]}
    event_id = received[0].event["id"]
    wait_until(lambda: pending(client, event_id, **account.opts) == 0, "pending_webhooks 0")
    attempts = attempt_log(control, event_id)
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
    assert event_for(client, customer.id, **account.opts).pending_webhooks == 0


def test_test_mode_gives_up_after_three_retries_and_stays_pending(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    account = connected(client)
    sink.script("/down", [503] * 10)
    create_endpoint(client, sink.url("/down"), options=account.opts)
    create_endpoint(client, sink.url("/up"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    event_id = sink.wait_for("/up", 1)[0].event["id"]
    wait_until(
        lambda: any(a["outcome"] == "exhausted" for a in attempt_log(control, event_id)),
        "retries exhausted",
    )
    assert [r.status for r in sink.at("/down")] == [503, 503, 503, 503]
    wait_until(lambda: pending(client, event_id, **account.opts) == 1, "pending 1")
    failed = client.v1.events.list({"delivery_success": False, "limit": 100}, account.opts)
    assert [e.id for e in failed.data] == [event_id]
    succeeded = client.v1.events.list({"delivery_success": True, "limit": 100}, account.opts)
    assert event_id not in [e.id for e in succeeded.data]


def test_timeouts_are_retried(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    control.post("/_emulator/webhooks", json={"timeout_seconds": 0.1})
    account = connected(client)
    sink.script("/slow", [SLOW])
    create_endpoint(client, sink.url("/slow"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    received = sink.wait_for("/slow", 2)
    event_id = received[0].event["id"]
    wait_until(lambda: pending(client, event_id, **account.opts) == 0, "pending 0")
    attempts = [(a["outcome"], a["error"]) for a in attempt_log(control, event_id)]
    # Normally exactly these two; a starved machine may time out the second attempt too.
    assert attempts[0] == ("failed", "timeout")
    assert attempts[-1] == ("delivered", None)
    assert set(attempts[1:-1]) <= {("failed", "timeout")}


def test_refused_connections_are_retried(
    client: stripe.StripeClient, control: httpx.Client
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    account = connected(client)
    create_endpoint(client, f"http://127.0.0.1:{port}/nobody", options=account.opts)
    customer = client.v1.customers.create({}, account.opts)
    event_id = event_for(client, customer.id, **account.opts).id
    wait_until(
        lambda: any(a["outcome"] == "exhausted" for a in attempt_log(control, event_id)),
        "retries exhausted",
    )
    attempts = attempt_log(control, event_id)
    assert [(a["attempt"], a["error"]) for a in attempts[:-1]] == [
        (n, "connection_refused") for n in (1, 2, 3, 4)
    ]
    assert pending(client, event_id, **account.opts) == 1


def test_disabling_an_endpoint_stops_its_retries(
    client: stripe.StripeClient, sink: Sink, control: httpx.Client
) -> None:
    account = connected(client)
    sink.script("/fails", [HELD_500])
    endpoint = create_endpoint(client, sink.url("/fails"), options=account.opts)
    client.v1.customers.create({}, account.opts)
    # The first attempt is in flight; disable the endpoint before it fails.
    wait_until(sink.holding.is_set, "the first attempt")
    client.v1.webhook_endpoints.update(endpoint.id, {"disabled": True}, account.opts)
    sink.release()
    event_id = sink.wait_for("/fails", 1)[0].event["id"]
    wait_until(lambda: len(attempt_log(control, event_id)) == 2, "the retry")
    assert [a["outcome"] for a in attempt_log(control, event_id)] == [
        "failed",
        "endpoint_disabled",
    ]
    assert len(sink.at("/fails")) == 1
