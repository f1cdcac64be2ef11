"""The twelve worked examples of metrics.md §6, end to end.

Each is built through the `stripe` SDK against the emulator (moving its clock), synced by revlens
(backfill, then webhooks) and read back through the JSON API, with the exact published numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from revlens.web.app import create_app
from tests.live_server import live_server
from tests.metrics.shop import DAY, Shop, clock, deliver_events_since, sync, today
from tests.mirror.conftest import Mirror

ADMIN = "admin-token-for-worked-examples-0123"


@dataclass
class Api:
    """The metrics API of the mirror's account, read with the admin token."""

    mirror: Mirror
    url: str

    def get(self, path: str, **params: Any) -> Any:
        """GET an account path; a preset not computed yet is computed (inline) and asked again."""
        address = f"{self.url}/api/v1/accounts/{self.mirror.account}{path}"
        headers = {"Authorization": f"Bearer {ADMIN}"}
        answer = httpx.get(address, params=params, headers=headers, timeout=60)
        if answer.status_code == 409:  # the recompute it queued ran inline (immediate queue)
            answer = httpx.get(address, params=params, headers=headers, timeout=60)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def row(self, day: date, preset: str = "standard", days: int = 1) -> dict[str, Any]:
        """Return the series row of the period (day - days, day] at interval=day."""
        start = (day - timedelta(days=days)).isoformat()
        series = self.get(
            "/metrics", start=start, end=day.isoformat(), interval="day", preset=preset
        )["series"]
        row: dict[str, Any] = series[-1]
        assert row["date"] == day.isoformat()
        return row

    def movements(self, start: date, end: date) -> list[tuple[str, str, int]]:
        """Return (date, type, amount) of every movement in (start, end]."""
        found = self.get("/mrr-movements", start=start.isoformat(), end=end.isoformat())
        return [(m["date"], m["type"], m["amount"]) for m in found["movements"]]


@pytest.fixture
def api(mirror: Mirror) -> Iterator[Api]:
    settings = mirror.settings.model_copy(update={"admin_token": SecretStr(ADMIN)})
    app = create_app(settings, database=mirror.database, queue=mirror.queue)
    with live_server(app) as url:
        yield Api(mirror, url)


def _coupon(shop: Shop, **terms: Any) -> str:
    return str(shop.client.v1.coupons.create(terms, shop.opts).id)  # type: ignore[arg-type]


def _later(mirror: Mirror, days: int) -> int:
    """Move the emulator's clock on by whole days; return the instant before the move."""
    before = clock(mirror).now()
    clock(mirror).advance(days * DAY)
    return before


def test_1_monthly_and_yearly_subscriptions_make_12500(mirror: Mirror, api: Api) -> None:
    shop = Shop(mirror)
    monthly, yearly = shop.price(10_000), shop.price(60_000, "year")
    buyer = shop.customer("Many")
    for _ in range(100):
        shop.subscribe(buyer, monthly)
    for _ in range(50):
        shop.subscribe(buyer, yearly)
    sync(mirror)
    assert api.row(today(mirror))["mrr"] == 1_250_000


def test_2_a_1200_yearly_subscription_is_100_a_month(mirror: Mirror, api: Api) -> None:
    shop = Shop(mirror)
    shop.subscribe(shop.customer("Ann"), shop.price(120_000, "year"))
    sync(mirror)
    row = api.row(today(mirror))
    assert (row["mrr"], row["arr"]) == (10_000, 120_000)


@pytest.mark.parametrize("preset", ["standard", "stripe"])
def test_3_a_forever_coupon_halves_mrr_a_once_coupon_does_not(
    mirror: Mirror, api: Api, preset: str
) -> None:
    shop = Shop(mirror)
    monthly = shop.price(10_000)
    forever = _coupon(shop, percent_off=50, duration="forever")
    once = _coupon(shop, percent_off=50, duration="once")
    halved, full = shop.customer("Half"), shop.customer("Full")
    shop.subscribe(halved, monthly, discounts=[{"coupon": forever}])
    shop.subscribe(full, monthly, discounts=[{"coupon": once}])
    sync(mirror)
    day = today(mirror)
    for customer, expected in ((halved, 5_000), (full, 10_000)):
        timeline = api.get(f"/customers/{customer}/mrr", preset=preset)["timeline"]
        assert [(t["date"], t["mrr"]) for t in timeline] == [(day.isoformat(), expected)]
    assert api.row(day, preset)["mrr"] == 15_000


def test_4_ten_customers_at_10_a_month_make_100(mirror: Mirror, api: Api) -> None:
    shop = Shop(mirror)
    monthly = shop.price(1_000)
    for n in range(10):
        shop.subscribe(shop.customer(f"C{n}"), monthly)
    sync(mirror)
    row = api.row(today(mirror))
    assert (row["mrr"], row["paying_customers"], row["arpa"]) == (10_000, 10, 1_000)


def test_5_a_lifetime_50_percent_coupon_on_10_a_month_is_5(mirror: Mirror, api: Api) -> None:
    shop = Shop(mirror)
    lifetime = _coupon(shop, percent_off=50, duration="forever")
    shop.subscribe(shop.customer("Bea"), shop.price(1_000), discounts=[{"coupon": lifetime}])
    sync(mirror)
    assert api.row(today(mirror), "baremetrics")["mrr"] == 500


def test_6_a_120_yearly_plan_with_10_percent_off_is_9_for_profitwell(
    mirror: Mirror, api: Api
) -> None:
    shop = Shop(mirror)
    yearly = shop.price(12_000, "year")
    terms: list[dict[str, Any]] = [
        {"duration": "forever"},
        {"duration": "repeating", "duration_in_months": 6},
    ]
    buyers = []
    for n, duration in enumerate(terms):
        coupon = _coupon(shop, percent_off=10, **duration)
        buyers.append(shop.customer(f"P{n}"))
        shop.subscribe(buyers[-1], yearly, discounts=[{"coupon": coupon}])
    sync(mirror)
    day = today(mirror)
    firsts = [
        api.get(f"/customers/{buyer}/mrr", preset="profitwell")["timeline"][0] for buyer in buyers
    ]
    assert [(first["date"], first["mrr"]) for first in firsts] == [(day.isoformat(), 900)] * 2
    assert api.row(day, "profitwell")["mrr"] == 1_800


def test_7_and_8_seats_bought_at_once_then_two_more_of_a_monthly_plan(
    mirror: Mirror, api: Api
) -> None:
    shop = Shop(mirror)
    seats, extra = shop.price(50_000, "year"), shop.price(3_000)
    buyer = shop.customer("Chartmogul")
    shop.subscribe(buyer, seats, quantity=4)
    day0 = today(mirror)
    sync(mirror)
    since = _later(mirror, 10)
    shop.subscribe(buyer, extra, quantity=2)
    deliver_events_since(mirror, since)
    day10 = today(mirror)
    assert api.movements(day0 - timedelta(days=1), day10) == [
        (day0.isoformat(), "new", 16_667),
        (day10.isoformat(), "expansion", 6_000),
    ]
    assert api.row(day10)["mrr"] == 16_667 + 6_000


def test_9_gross_mrr_churn_20_percent_and_net_10_percent(mirror: Mirror, api: Api) -> None:
    shop = Shop(mirror)
    ten = shop.price(1_000)
    churns = shop.subscribe(shop.customer("Gone"), ten)  # 1,000, cancelled
    shrinks = shop.subscribe(shop.customer("Less"), ten, quantity=3)  # 3,000 → 2,000
    grows = shop.subscribe(shop.customer("More"), ten, quantity=6)  # 6,000 → 7,000
    day0 = today(mirror)
    sync(mirror)
    since = _later(mirror, 1)
    shop.cancel(churns)
    shop.set_quantity(shrinks, 2)
    shop.set_quantity(grows, 7)
    deliver_events_since(mirror, since)
    row = api.row(day0 + timedelta(days=1))
    assert (row["churn"], row["contraction"], row["expansion"]) == (-1_000, -1_000, 1_000)
    assert api.row(day0)["mrr"] == 10_000
    assert row["gross_mrr_churn_rate"] == 0.2
    assert row["net_mrr_churn_rate"] == 0.1


def test_10_arpa_100_and_customer_churn_5_percent_make_ltv_2000(mirror: Mirror, api: Api) -> None:
    shop = Shop(mirror)
    hundred = shop.price(10_000)
    subscriptions = [shop.subscribe(shop.customer(f"L{n}"), hundred) for n in range(20)]
    sync(mirror)
    since = _later(mirror, 40)  # more than a month of 20 paying customers
    shop.cancel(subscriptions[0])
    deliver_events_since(mirror, since)
    row = api.row(today(mirror))
    # A month back from the row's day 20 paid; one of them churned since: 5 %.
    assert (row["mrr"], row["paying_customers"], row["arpa"]) == (190_000, 19, 10_000)
    assert row["ltv"] == 200_000


def test_11_cancelling_one_of_two_subscriptions_then_the_other(mirror: Mirror, api: Api) -> None:
    shop = Shop(mirror)
    buyer = shop.customer("Two")
    first = shop.subscribe(buyer, shop.price(1_000))
    second = shop.subscribe(buyer, shop.price(2_000))
    day0 = today(mirror)
    sync(mirror)
    since = _later(mirror, 3)
    shop.cancel(first)
    deliver_events_since(mirror, since)
    since = _later(mirror, 4)
    shop.cancel(second)
    deliver_events_since(mirror, since)
    assert api.movements(day0 - timedelta(days=1), today(mirror)) == [
        (day0.isoformat(), "new", 3_000),
        ((day0 + timedelta(days=3)).isoformat(), "contraction", -1_000),
        ((day0 + timedelta(days=7)).isoformat(), "churn", -2_000),
    ]


def test_12_ltv_at_zero_churn_is_null_or_uses_stripes_167_percent(mirror: Mirror, api: Api) -> None:
    shop = Shop(mirror)
    hundred = shop.price(10_000)
    for n in range(3):
        shop.subscribe(shop.customer(f"Z{n}"), hundred)
    sync(mirror)
    _later(mirror, 35)
    day = today(mirror)
    standard, stripe = api.row(day), api.row(day, "stripe")
    assert standard["customer_churn_rate"] == stripe["customer_churn_rate"] == 0
    assert standard["ltv"] is None
    assert stripe["ltv"] == 598_802  # 10,000 / 1.67 %
