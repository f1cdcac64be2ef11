"""`events_kept_from`: a bulk load stores no event that is past retention when it ends.

The same seeded history (renewals, a failed payment and its recovery, a cancellation, updates
that change something and one that changes nothing) is played with and without the setting,
and with webhook endpoints: every object must come out byte-identical, and every stored event
identical to the one a full run stores, while the events before the cutoff are only counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import stripe

from stripe_emulator.config import ConfigError, EmulatorConfig
from stripe_emulator.events import changed, previous_attributes
from stripe_emulator.server import EmulatorServer

from .clocked import DAY, T0, at
from .conftest import make_client
from .webhook_support import Received, Sink, create_endpoint, verify, wait_until

SEED = 4242
RETENTION = 30 * DAY
CUTOFF = at(2024, 5, 15)
# As the seed generator sets it: the load ends with the cutoff exactly at the retention's edge.
END = CUTOFF + RETENTION
# Where the mid-load endpoint lives: created and deleted before the cutoff.
ENDPOINT_FROM = at(2024, 3, 20)
ENDPOINT_UNTIL = at(2024, 4, 20)

Row = tuple[Any, ...]


@dataclass
class History:
    """A played history: what the store holds and what the emulator counted."""

    objects: list[Row]
    # (id, created, event without its random `request`), by id.
    events: dict[str, tuple[int, dict[str, Any]]]
    emitted: int
    listed: list[stripe.Event]
    subscriptions: dict[str, str]
    endpoint_secret: str | None
    received: list[Received]


def play(
    folder: Path,
    *,
    kept_from: int | None,
    endpoint: tuple[int, int | None] | None = None,
    sink: Sink | None = None,
    path: str = "/hook",
) -> History:
    """Play the history on a fresh bulk-loading emulator; `endpoint` is (created, deleted)."""
    folder.mkdir(exist_ok=True)
    config = EmulatorConfig(
        control=True,
        now=T0,
        seed=SEED,
        bulk_load=True,
        state_file=str(folder / "state.db"),
        events_kept_from=kept_from,
    )
    server = EmulatorServer(config).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as control:
            return _play(server, control, endpoint, sink, path)
    finally:
        server.stop()


def _play(
    server: EmulatorServer,
    control: httpx.Client,
    endpoint: tuple[int, int | None] | None,
    sink: Sink | None,
    path: str,
) -> History:
    client = make_client(server)
    secret: str | None = None
    endpoint_id: str | None = None

    store = server.emulator.store

    def settle() -> None:
        # Deliveries are done when no stored event still waits for one (`k2` = "0").
        def delivered() -> bool:
            waiting = store.execute("SELECT COUNT(*) FROM objects WHERE type='event' AND k2='0'")
            return int(waiting[0][0]) == 0

        wait_until(delivered, "every delivery")

    def advance(to: int) -> None:
        nonlocal secret, endpoint_id
        # The endpoint is created or deleted on the way, at its instant exactly.
        if endpoint is not None and sink is not None:
            created, deleted = endpoint
            if endpoint_id is None and secret is None and created <= to:
                _advance(control, created)
                made = create_endpoint(client, sink.url(path), connect=True)
                endpoint_id, secret = made.id, made.secret
            if endpoint_id is not None and deleted is not None and deleted <= to:
                _advance(control, deleted)
                settle()  # what was queued before the endpoint goes is delivered
                client.v1.webhook_endpoints.delete(endpoint_id)
                endpoint_id = None
        _advance(control, to)

    advance(T0)
    account = client.v1.accounts.create({"type": "standard"})
    opts: dict[str, Any] = {"stripe_account": account.id}
    product = client.v1.products.create({"name": "Plan"}, opts)  # type: ignore[arg-type]
    price = client.v1.prices.create(
        {
            "product": product.id,
            "unit_amount": 2000,
            "currency": "usd",
            "recurring": {"interval": "month"},
        },
        opts,  # type: ignore[arg-type]
    ).id

    def customer(name: str, card: str = "pm_card_visa") -> str:
        made = client.v1.customers.create({"name": name}, opts)  # type: ignore[arg-type]
        set_card(made.id, card)
        return made.id

    def set_card(customer_id: str, card: str) -> None:
        method = client.v1.payment_methods.attach(
            card,
            {"customer": customer_id},
            opts,  # type: ignore[arg-type]
        )
        client.v1.customers.update(
            customer_id,
            {"invoice_settings": {"default_payment_method": method.id}},
            opts,  # type: ignore[arg-type]
        )

    ada, bob, cyd = customer("Ada"), customer("Bob"), customer("Cyd")
    subscriptions = {
        name: client.v1.subscriptions.create(
            {"customer": who, "items": [{"price": price}]},
            opts,  # type: ignore[arg-type]
        ).id
        for name, who in (("ada", ada), ("bob", bob), ("cyd", cyd))
    }
    advance(at(2024, 2, 10))
    client.v1.customers.update(ada, {"metadata": {"tier": "gold"}}, opts)  # type: ignore[arg-type]
    # Changes nothing: no event, and no event id drawn either.
    client.v1.customers.update(ada, {"metadata": {"tier": "gold"}}, opts)  # type: ignore[arg-type]
    advance(at(2024, 3, 1))
    set_card(bob, "pm_card_chargeCustomerFail")
    advance(at(2024, 3, 10))
    client.v1.subscriptions.cancel(subscriptions["cyd"], options=opts)  # type: ignore[arg-type]
    advance(at(2024, 4, 1))  # Bob's renewal on 2024-03-31 fails: past due
    set_card(bob, "pm_card_visa")
    advance(at(2024, 4, 5))  # the retry three days later pays it
    advance(CUTOFF - DAY)
    advance(CUTOFF)
    client.v1.customers.update(ada, {"metadata": {"tier": "platinum"}}, opts)  # type: ignore[arg-type]
    advance(at(2024, 6, 1))
    client.v1.subscriptions.update(
        subscriptions["bob"],
        {"cancel_at_period_end": True},
        opts,  # type: ignore[arg-type]
    )
    advance(END)
    if sink is not None:
        settle()
    listed = list(
        client.v1.events.list({"limit": 100}, opts).auto_paging_iter()  # type: ignore[arg-type]
    )
    objects = store.execute(
        "SELECT type, account, livemode, id, created, deleted, k1, k2, k3, k4, data"
        " FROM objects WHERE type != 'event' ORDER BY type, account, livemode, id"
    )
    events: dict[str, tuple[int, dict[str, Any]]] = {}
    for event_id, created, data in store.execute(
        "SELECT id, created, data FROM objects WHERE type = 'event'"
    ):
        event = orjson.loads(data)
        # Request ids are random in every run (never seeded); the rest is reproducible.
        event.pop("request")
        events[event_id] = (created, event)
    return History(
        objects,
        events,
        server.emulator.events_emitted,
        listed,
        subscriptions,
        secret,
        [] if sink is None else sink.at(path),
    )


def _advance(control: httpx.Client, to: int) -> None:
    response = control.post("/_emulator/clock/advance", json={"to": to, "freeze": True})
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The history as a bulk load without the setting stores it: every event."""
    return play(tmp_path_factory.mktemp("full"), kept_from=None)


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> History:
    """The same history, keeping only the events from the cutoff on."""
    return play(tmp_path_factory.mktemp("kept"), kept_from=CUTOFF)


@pytest.fixture
def sink() -> Iterator[Sink]:
    """A local webhook receiver."""
    with Sink() as running:
        yield running


def test_events_before_the_cutoff_are_counted_but_not_stored(full: History, kept: History) -> None:
    assert kept.events, "events after the cutoff are stored"
    assert min(created for created, _ in kept.events.values()) >= CUTOFF
    assert all(event.created >= CUTOFF for event in kept.listed)
    # What the Events API shows at the end is exactly what was stored.
    assert {event.id for event in kept.listed} == {
        event_id for event_id, (_created, event) in kept.events.items() if "account" in event
    }
    # The full run really had events before the cutoff, of every kind played there.
    early = {e["type"] for created, e in full.events.values() if created < CUTOFF}
    assert {
        "customer.created",
        "customer.updated",
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "invoice.payment_failed",
        "charge.failed",
        "charge.succeeded",
    } <= early
    # Every event was counted, stored or not.
    assert full.emitted == len(full.events)
    assert kept.emitted == full.emitted
    assert len(kept.events) < len(full.events)


def test_events_after_the_cutoff_keep_their_full_payloads(kept: History) -> None:
    by_type: dict[str, list[dict[str, Any]]] = {}
    for _created, event in sorted(kept.events.values(), key=lambda pair: pair[0]):
        by_type.setdefault(event["type"], []).append(event)
    paid = by_type["invoice.paid"][0]
    invoice = paid["data"]["object"]
    assert (invoice["object"], invoice["status"]) == ("invoice", "paid")
    assert invoice["lines"]["data"], "the invoice is rendered with its lines"
    assert paid["data"]["previous_attributes"]["status"] == "open"
    renewed = by_type["customer.subscription.updated"]
    assert any("latest_invoice" in e["data"]["previous_attributes"] for e in renewed)
    assert any(
        e["data"]["previous_attributes"] == {"cancel_at_period_end": False}
        or "cancel_at_period_end" in e["data"]["previous_attributes"]
        for e in renewed
    )
    updated = by_type["customer.updated"]
    assert updated[0]["data"]["previous_attributes"] == {"metadata": {"tier": "gold"}}
    assert updated[0]["data"]["object"]["metadata"] == {"tier": "platinum"}
    assert by_type["charge.succeeded"][0]["data"]["object"]["object"] == "charge"
    listed = {event.id: event for event in kept.listed}
    assert listed[paid["id"]].data.object["id"] == invoice["id"]


def test_objects_are_all_stored_and_identical_to_a_full_run(full: History, kept: History) -> None:
    assert kept.subscriptions == full.subscriptions
    assert kept.objects == full.objects
    types = {row[0] for row in kept.objects}
    assert {"subscription", "invoice", "charge", "payment_intent", "customer"} <= types
    invoices = [orjson.loads(row[10]) for row in kept.objects if row[0] == "invoice"]
    ada = kept.subscriptions["ada"]
    of_ada = [i for i in invoices if _subscription_of(i) == ada]
    # Created, then renewed at every month's end up to the end (February to May).
    assert len(of_ada) == 5
    assert all(i["status"] == "paid" for i in of_ada)
    charges = [orjson.loads(row[10]) for row in kept.objects if row[0] == "charge"]
    assert sum(1 for c in charges if c["status"] == "failed") == 1


def test_stored_events_are_those_of_a_full_run_byte_for_byte(full: History, kept: History) -> None:
    late = {event_id: pair for event_id, pair in full.events.items() if pair[0] >= CUTOFF}
    assert kept.events == late


def test_an_endpoint_from_the_start_keeps_and_delivers_every_event(
    tmp_path: Path, sink: Sink
) -> None:
    # The endpoint draws ids too: the reference is the same history without the setting.
    runs = {
        name: play(
            tmp_path / name, kept_from=kept_from, endpoint=(T0, None), sink=sink, path=f"/{name}"
        )
        for name, kept_from in (("full", None), ("kept", CUTOFF))
    }
    full, kept = runs["full"], runs["kept"]
    assert _without_urls(kept.objects) == _without_urls(full.objects)
    assert kept.emitted == full.emitted == len(full.events)
    assert _payloads(kept.events) == _payloads(full.events)
    assert min(created for created, _e in kept.events.values()) < CUTOFF
    # Every event of the connected account reaches the Connect endpoint, signed, as before.
    connected = {i for i, (_c, e) in kept.events.items() if "account" in e}
    for run in runs.values():
        assert run.endpoint_secret is not None
        assert sorted(verify(r, run.endpoint_secret).id for r in run.received) == sorted(connected)


def test_an_endpoint_created_mid_load_switches_storing_on_until_it_is_deleted(
    tmp_path: Path, sink: Sink
) -> None:
    window = (ENDPOINT_FROM, ENDPOINT_UNTIL)
    runs = {
        name: play(
            tmp_path / name, kept_from=kept_from, endpoint=window, sink=sink, path=f"/{name}"
        )
        for name, kept_from in (("full", None), ("kept", CUTOFF))
    }
    full, kept = runs["full"], runs["kept"]
    assert _without_urls(kept.objects) == _without_urls(full.objects)
    assert kept.emitted == full.emitted == len(full.events)

    def stored(created: int) -> bool:
        return created >= CUTOFF or ENDPOINT_FROM <= created < ENDPOINT_UNTIL

    expected = {i: pair for i, pair in full.events.items() if stored(pair[0])}
    assert _payloads(kept.events) == _payloads(expected)
    during = {i for i, (created, e) in expected.items() if created < CUTOFF and "account" in e}
    assert during, "the endpoint's month had events"
    # What the endpoint heard while it existed, in either run.
    for run in runs.values():
        assert run.endpoint_secret is not None
        assert sorted(verify(r, run.endpoint_secret).id for r in run.received) == sorted(during)


def _without_urls(objects: list[Row]) -> list[Row]:
    """Return the rows with the endpoint's URL left out (each run has its own receiver path)."""
    rows = []
    for row in objects:
        if row[0] != "webhook_endpoint":
            rows.append(row)
            continue
        endpoint = orjson.loads(row[10])
        assert endpoint.pop("url").endswith(("/full", "/kept"))
        rows.append((*row[:10], endpoint))
    return rows


def _payloads(events: dict[str, tuple[int, dict[str, Any]]]) -> dict[str, tuple[Any, ...]]:
    """Return what must match between runs (`pending_webhooks` moves as deliveries land)."""
    return {
        event_id: (created, event["type"], event.get("account"), event["data"])
        for event_id, (created, event) in events.items()
    }


def test_events_kept_from_needs_a_bulk_load() -> None:
    with pytest.raises(ConfigError, match="bulk_load"):
        EmulatorConfig(events_kept_from=CUTOFF)
    assert EmulatorConfig(bulk_load=True, events_kept_from=CUTOFF).events_kept_from == CUTOFF
    assert EmulatorConfig(bulk_load=True).events_kept_from is None


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ({}, {}),
        ({"a": 1}, {"a": 1}),
        ({"a": 1}, {"a": 2}),
        ({"a": None}, {}),
        ({}, {"a": None}),
        ({"a": {"b": None}}, {"a": {}}),
        ({"a": [1]}, {"a": [1], "b": None}),
        ({"a": 1}, {"b": 1}),
    ],
)
def test_changed_tells_whether_there_are_previous_attributes(
    before: dict[str, Any], after: dict[str, Any]
) -> None:
    assert changed(before, after) == bool(previous_attributes(before, after))


def _subscription_of(invoice: dict[str, Any]) -> str | None:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    found: str | None = details.get("subscription")
    return found
