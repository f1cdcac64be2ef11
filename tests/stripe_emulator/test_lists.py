"""List semantics: limits, cursors both ways, created filters, stable order, url, has_more."""

from __future__ import annotations

import httpx
import pytest
import stripe

from stripe_emulator.clock import FixedClock
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.emulator import Emulator
from stripe_emulator.server import EmulatorServer
from tests.stripe_emulator.conftest import Connected, make_client


@pytest.fixture
def frozen() -> tuple[EmulatorServer, FixedClock]:
    """Return a private emulator whose clock only moves when a test moves it."""
    clock = FixedClock(1_700_000_000)
    server = EmulatorServer(emulator=Emulator(EmulatorConfig(), clock=clock)).start()
    yield server, clock  # type: ignore[misc]
    server.stop()


def _make(client: stripe.StripeClient, account: Connected, count: int) -> list[str]:
    return [client.v1.customers.create({"name": f"c{i}"}, account.opts).id for i in range(count)]


def test_default_limit_is_ten_and_order_is_newest_first(
    client: stripe.StripeClient, account: Connected
) -> None:
    ids = _make(client, account, 12)
    page = client.v1.customers.list({}, account.opts)
    assert [c.id for c in page.data] == ids[::-1][:10]
    assert page.has_more is True
    assert page.url == "/v1/customers"
    assert page.object == "list"


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc"])
def test_out_of_range_limits_are_400(http: httpx.Client, limit: str) -> None:
    response = http.get("/v1/customers", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "limit"


def test_both_cursors_are_rejected(http: httpx.Client) -> None:
    response = http.get(
        "/v1/customers", params={"starting_after": "cus_a", "ending_before": "cus_b"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parameters_exclusive"


def test_unknown_cursor_is_resource_missing(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.list({"starting_after": "cus_nope"})
    assert (caught.value.code, caught.value.param) == ("resource_missing", "starting_after")


def test_cursors_page_forwards_and_backwards(
    client: stripe.StripeClient, account: Connected
) -> None:
    ids = _make(client, account, 7)[::-1]  # newest first
    after = client.v1.customers.list({"limit": 3, "starting_after": ids[2]}, account.opts)
    assert [c.id for c in after.data] == ids[3:6]
    assert after.has_more is True
    before = client.v1.customers.list({"limit": 2, "ending_before": ids[5]}, account.opts)
    assert [c.id for c in before.data] == ids[3:5]
    assert before.has_more is True
    first = client.v1.customers.list({"limit": 5, "ending_before": ids[2]}, account.opts)
    assert [c.id for c in first.data] == ids[0:2]
    assert first.has_more is False


def test_auto_paging_iter_walks_every_page_keeping_filters(
    client: stripe.StripeClient, account: Connected
) -> None:
    for i in range(23):
        client.v1.customers.create(
            {"email": "same@x.test" if i % 2 else f"o{i}@x.test"}, account.opts
        )
    seen = [
        c.id
        for c in client.v1.customers.list(
            {"limit": 4, "email": "same@x.test"}, account.opts
        ).auto_paging_iter()
    ]
    assert len(seen) == 11
    assert len(set(seen)) == 11
    everything = list(client.v1.customers.list({"limit": 5}, account.opts).auto_paging_iter())
    assert len(everything) == 23


def test_auto_paging_backwards_from_ending_before(
    client: stripe.StripeClient, account: Connected
) -> None:
    ids = _make(client, account, 9)[::-1]
    walked = [
        c.id
        for c in client.v1.customers.list(
            {"limit": 2, "ending_before": ids[-1]}, account.opts
        ).auto_paging_iter()
    ]
    assert sorted(walked) == sorted(ids[:-1])


def test_equal_created_keeps_a_stable_insertion_order(
    frozen: tuple[EmulatorServer, FixedClock],
) -> None:
    server, _ = frozen
    client = make_client(server)
    ids = [client.v1.customers.create({}).id for _ in range(15)]
    listed = [c.id for c in client.v1.customers.list({"limit": 100}).data]
    assert listed == ids[::-1]
    paged = [c.id for c in client.v1.customers.list({"limit": 4}).auto_paging_iter()]
    assert paged == ids[::-1]


def test_created_filters(frozen: tuple[EmulatorServer, FixedClock]) -> None:
    server, clock = frozen
    client = make_client(server)
    by_time = {}
    for offset in range(5):
        clock.instant = 1_700_000_000 + offset * 100
        by_time[clock.instant] = client.v1.customers.create({}).id
    t = sorted(by_time)

    def ids(params: dict[str, object]) -> list[str]:
        return [c.id for c in client.v1.customers.list(params).data]  # type: ignore[arg-type]

    assert ids({"created": t[2]}) == [by_time[t[2]]]
    assert ids({"created": {"gt": t[2]}}) == [by_time[t[4]], by_time[t[3]]]
    assert ids({"created": {"gte": t[2], "lt": t[4]}}) == [by_time[t[3]], by_time[t[2]]]
    assert ids({"created": {"lte": t[0]}}) == [by_time[t[0]]]


def test_deleted_objects_are_not_listed(client: stripe.StripeClient, account: Connected) -> None:
    keep, gone = _make(client, account, 2)
    client.v1.customers.delete(gone, {}, account.opts)
    assert [c.id for c in client.v1.customers.list({}, account.opts).data] == [keep]


def test_read_ahead_pages_never_serve_stale_data(
    client: stripe.StripeClient, account: Connected
) -> None:
    ids = _make(client, account, 6)[::-1]
    first = client.v1.customers.list({"limit": 2}, account.opts)
    assert [c.id for c in first.data] == ids[:2]
    # The next page was prepared after the first response; a write must invalidate it.
    client.v1.customers.delete(ids[2], {}, account.opts)
    second = client.v1.customers.list({"limit": 2, "starting_after": ids[1]}, account.opts)
    assert [c.id for c in second.data] == ids[3:5]
    third = client.v1.customers.list({"limit": 2, "starting_after": ids[4]}, account.opts)
    assert [c.id for c in third.data] == ids[5:]
    assert third.has_more is False
