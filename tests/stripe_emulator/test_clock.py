"""The emulator clock's control API and Stripe's test clocks."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import stripe

from stripe_emulator.server import EmulatorServer

from .clocked import DAY, T0, Clocked, at, clocked
from .conftest import make_client

__all__ = ["clocked"]


def test_clock_reads_and_moves_forward_only(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(control=True, now=T0)
    with httpx.Client(base_url=server.url) as http:
        now = http.get("/_emulator/clock").json()["now"]
        assert T0 <= now < T0 + 60
        moved = http.post("/_emulator/clock/advance", json={"to": T0 + DAY, "freeze": True})
        assert moved.json() == {"now": T0 + DAY, "frozen": True, "next_due": None, "ran": 0}
        assert http.get("/_emulator/clock").json()["now"] == T0 + DAY
        back = http.post("/_emulator/clock/advance", json={"to": T0})
        assert back.status_code == 400
        assert "never goes backwards" in back.json()["error"]["message"]
        by = http.post("/_emulator/clock/advance", json={"by": 3600, "freeze": True}).json()
        assert by["now"] == T0 + DAY + 3600
        bad = http.post("/_emulator/clock/advance", json={"to": "soon"})
        assert bad.status_code == 400
        released = http.post("/_emulator/clock/advance", json={}).json()
        assert released["frozen"] is False
        assert http.get("/_emulator/clock").json()["now"] >= T0 + DAY + 3600


def test_clock_control_needs_the_control_api(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(now=T0)
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/_emulator/clock").status_code == 404


def test_renewals_are_dated_at_their_due_instants(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price())
    answer = clocked.advance(at(2024, 5, 15))
    assert answer["ran"] == 3
    assert [(i.billing_reason, i.created) for i in clocked.invoices(sub.id)] == [
        ("subscription_create", T0),
        ("subscription_cycle", at(2024, 2, 29)),
        ("subscription_cycle", at(2024, 3, 31)),
        ("subscription_cycle", at(2024, 4, 30)),
    ]
    paid = [e.created for e in clocked.events("invoice.paid")]
    assert paid == [at(2024, 4, 30)]  # older events age out after 30 days
    updated = clocked.events("customer.subscription.updated")
    assert updated[-1].created == at(2024, 4, 30)
    assert updated[-1]["request"]["id"] is None
    item = clocked.subscription(sub.id)["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (
        at(2024, 4, 30),
        at(2024, 5, 31),
    )


def test_test_clock_lifecycle(clocked: Clocked) -> None:
    client, opts = clocked.client, clocked.opts
    frozen = at(2023, 1, 1)
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": frozen, "name": "sim"}, opts)
    assert (clock.status, clock.frozen_time, clock.name) == ("ready", frozen, "sim")
    assert clock.id.startswith("clock_")
    assert clock.deletes_after == clock.created + 30 * DAY
    customer = client.v1.customers.create({"test_clock": clock.id}, opts)
    assert (customer.created, customer.test_clock) == (frozen, clock.id)
    clocked.set_card(customer.id, "pm_card_visa")
    plain = clocked.customer()
    listed = [c.id for c in client.v1.customers.list(options=opts).data]
    assert customer.id not in listed
    assert plain in listed
    by_clock = client.v1.customers.list({"test_clock": clock.id}, opts).data
    assert [c.id for c in by_clock] == [customer.id]
    sub = clocked.subscribe(customer.id, clocked.price(500))
    assert (sub.created, sub.start_date, sub.test_clock) == (frozen, frozen, clock.id)
    assert sub.id not in [s.id for s in client.v1.subscriptions.list(options=opts).data]
    assert [s.id for s in client.v1.subscriptions.list({"customer": customer.id}, opts).data] == [
        sub.id
    ]
    # The emulator's own clock does not move the test clock's subscriptions.
    clocked.advance(T0 + 90 * DAY)
    assert len(clocked.invoices(sub.id)) == 1
    advanced = client.v1.test_helpers.test_clocks.advance(
        clock.id, {"frozen_time": at(2023, 3, 15)}, opts
    )
    assert advanced.status == "advancing"
    assert advanced.status_details.advancing.target_frozen_time == at(2023, 3, 15)
    ready = client.v1.test_helpers.test_clocks.retrieve(clock.id, options=opts)
    assert (ready.status, ready.frozen_time) == ("ready", at(2023, 3, 15))
    assert [(i.billing_reason, i.created, i.amount_paid) for i in clocked.invoices(sub.id)] == [
        ("subscription_create", frozen, 500),
        ("subscription_cycle", at(2023, 2, 1), 500),
        ("subscription_cycle", at(2023, 3, 1), 500),
    ]
    types = [e.type for e in client.v1.events.list({"limit": 100}, opts).data]
    assert "test_helpers.test_clock.ready" in types
    assert "test_helpers.test_clock.advancing" in types
    with pytest.raises(stripe.InvalidRequestError) as backwards:
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": frozen}, opts)
    assert backwards.value.param == "frozen_time"
    deleted = client.v1.test_helpers.test_clocks.delete(clock.id, options=opts)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(customer.id, options=opts).deleted is True
    assert "test_helpers.test_clock.deleted" in [
        e.type for e in client.v1.events.list({"limit": 5}, opts).data
    ]


def test_test_clocks_are_test_mode_only(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(control=True)
    live = make_client(server, live=True)
    with pytest.raises(stripe.InvalidRequestError, match="test mode"):
        live.v1.test_helpers.test_clocks.create({"frozen_time": T0})
