"""Subscription-level discounts reach the metrics, from the backfill and from webhooks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from revlens.metrics import queries, service
from revlens.metrics.params import query
from tests.metrics.shop import DAY, Shop, clock, deliver_events_since, sync, today
from tests.mirror.conftest import Mirror


def _mrr(mirror: Mirror, day: date) -> int:
    """Return the account's MRR at the end of a day (read through the metrics queries)."""
    with mirror.database.read() as session:
        report = queries.series(
            session,
            account_id=mirror.account,
            query=query(start=(day - timedelta(days=1)).isoformat(), end=day.isoformat()),
        )
    return report.series.rows[-1].mrr


def _customer_mrr(mirror: Mirror, customer: str) -> list[tuple[date, int]]:
    with mirror.database.read() as session:
        found = queries.customer_timeline(
            session, account_id=mirror.account, preset="standard", customer=customer
        )
    assert found is not None
    return found.mrr.get("usd", [])


def _coupon(shop: Shop, **terms: Any) -> str:
    return str(shop.client.v1.coupons.create(terms, shop.opts).id)  # type: ignore[arg-type]


def test_backfilled_subscription_discounts_reduce_mrr(mirror: Mirror) -> None:
    shop = Shop(mirror)
    monthly, big, yearly = shop.price(2_000), shop.price(4_000), shop.price(60_000, "year")
    forever = _coupon(shop, percent_off=50, duration="forever")
    repeating = _coupon(shop, percent_off=25, duration="repeating", duration_in_months=3)
    once = _coupon(shop, percent_off=50, duration="once")
    amount = _coupon(shop, amount_off=500, currency="usd", duration="forever")
    ada, bob, cyd, dee = (shop.customer(name) for name in ("Ada", "Bob", "Cyd", "Dee"))
    shop.subscribe(ada, monthly, discounts=[{"coupon": forever}])  # 1,000
    shop.subscribe(bob, big, discounts=[{"coupon": repeating}])  # 3,000 for three months
    shop.subscribe(cyd, monthly, discounts=[{"coupon": once}])  # 2,000: once never counts
    shop.subscribe(dee, yearly, discounts=[{"coupon": amount}])  # (60,000 - 500) / 12
    day0 = today(mirror)
    sync(mirror)
    assert mirror.stored("discount")  # kept as rows of their own
    assert _mrr(mirror, day0) == 1_000 + 3_000 + 2_000 + 4_958

    # The repeating discount ends three months later: Bob expands back to 4,000.
    clock(mirror).advance(100 * DAY)
    sync(mirror)
    later = today(mirror)
    assert _mrr(mirror, later) == 1_000 + 4_000 + 2_000 + 4_958
    bob_days = _customer_mrr(mirror, bob)
    assert [value for _, value in bob_days] == [3_000, 4_000]
    assert day0 + timedelta(days=89) <= bob_days[1][0] <= day0 + timedelta(days=92)
    # A plan's history depth trims the timeline: it starts at the value carried into that day.
    since = day0 + timedelta(days=50)
    with mirror.database.read() as session:
        trimmed = queries.customer_timeline(
            session, account_id=mirror.account, preset="standard", customer=bob, since=since
        )
    assert trimmed is not None
    assert trimmed.mrr["usd"] == [(since, 3_000), bob_days[1]]
    assert [(m.kind, m.amount) for m in trimmed.movements] == [("expansion", 1_000)]


def test_discounts_from_webhooks_apply_from_when_they_start(mirror: Mirror) -> None:
    shop = Shop(mirror)
    monthly = shop.price(3_000)
    forever = _coupon(shop, percent_off=20, duration="forever")
    ada = shop.customer("Ada")
    shop.subscribe(ada, monthly)
    day0 = today(mirror)
    sync(mirror)
    assert _mrr(mirror, day0) == 3_000

    # After the backfill: a new subscriber with a discount, and a discount added to Ada.
    clock(mirror).advance(3 * DAY)
    since = clock(mirror).now()
    bob = shop.customer("Bob")
    shop.subscribe(bob, monthly, discounts=[{"coupon": forever}])  # 2,400
    (ada_sub,) = shop.client.v1.subscriptions.list({"customer": ada}, shop.opts).data
    shop.client.v1.subscriptions.update(ada_sub.id, {"discounts": [{"coupon": forever}]}, shop.opts)
    deliver_events_since(mirror, since)
    day3 = today(mirror)
    assert _mrr(mirror, day3) == 2_400 + 2_400
    assert _mrr(mirror, day3 - timedelta(days=1)) == 3_000  # never projected backwards

    # The discount removed two days later: Ada pays in full again from then on, and only then.
    clock(mirror).advance(2 * DAY)
    since = clock(mirror).now()
    shop.client.v1.subscriptions.update(ada_sub.id, {"discounts": ""}, shop.opts)
    deliver_events_since(mirror, since)
    day5 = today(mirror)
    assert _customer_mrr(mirror, ada) == [(day0, 3_000), (day3, 2_400), (day5, 3_000)]
    assert _mrr(mirror, day5) == 3_000 + 2_400


def test_a_once_discount_counts_for_its_first_period_under_the_presets_counting_every_discount(
    mirror: Mirror,
) -> None:
    shop = Shop(mirror)
    monthly = shop.price(2_000)
    once = _coupon(shop, percent_off=50, duration="once")
    cyd = shop.customer("Cyd")
    shop.subscribe(cyd, monthly, discounts=[{"coupon": once}])
    day0 = today(mirror)
    clock(mirror).advance(40 * DAY)  # past the first period: the discount is gone
    sync(mirror)
    later = today(mirror)
    for preset in ("profitwell", "chartmogul", "baremetrics"):
        with mirror.database.unit_of_work() as session:
            service.recompute_account(session, account_id=mirror.account, presets=[preset])
        with mirror.database.read() as session:
            found = queries.customer_timeline(
                session, account_id=mirror.account, preset=preset, customer=cyd
            )
        assert found is not None
        days = found.mrr.get("usd", [])
        assert days[0] == (day0, 1_000), preset
        assert [value for _, value in days] == [1_000, 2_000], preset
        assert day0 + timedelta(days=27) <= days[1][0] <= day0 + timedelta(days=31)
        assert days[-1][0] < later
    assert _customer_mrr(mirror, cyd) == [(day0, 2_000)]  # standard: once never counts
