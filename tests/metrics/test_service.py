"""Metrics computed from a mirror synced from the emulator: exact MRR, movements, increments."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revlens.metrics import compute, queries, service
from revlens.metrics.models import (
    MetricCashDay,
    MetricCustomer,
    MetricDirty,
    MetricMovement,
    MetricState,
)
from revlens.metrics.params import query
from tests.metrics.shop import DAY, Shop, clock, deliver_events_since, sync, today
from tests.mirror.conftest import Mirror


def _series(mirror: Mirror, start: date, end: date, interval: str = "day") -> queries.SeriesReport:
    with mirror.database.read() as session:
        return queries.series(
            session,
            account_id=mirror.account,
            query=query(start=start.isoformat(), end=end.isoformat(), interval=interval),
        )


def _movements(mirror: Mirror, start: date, end: date) -> list[queries.MovementRow]:
    with mirror.database.read() as session:
        return queries.movements(
            session,
            account_id=mirror.account,
            query=query(start=start.isoformat(), end=end.isoformat()),
        )


def _assert_invariant(mirror: Mirror, start: date, end: date) -> None:
    """MRR(end) - MRR(start) = the sum of the movements in (start, end]."""
    before = _series(mirror, start - timedelta(days=1), start).series.rows[-1].mrr
    after = _series(mirror, start, end).series.rows[-1].mrr
    moved = sum(m.amount for m in _movements(mirror, start, end) if m.currency == "usd")
    assert after - before == moved


def _versions(session: Session, account: str) -> dict[str, int]:
    query = select(MetricCustomer.customer_id, MetricCustomer.version).where(
        MetricCustomer.account_id == account
    )
    return {row[0]: row[1] for row in session.execute(query)}


def _build_shop(mirror: Mirror) -> dict[str, object]:
    shop = Shop(mirror)
    monthly = shop.price(2_000)
    yearly = shop.price(60_000, "year")
    quarterly = shop.price(15_000, "month", 3)
    half = shop.coupon(50)
    subs = {
        "seats": shop.subscribe(shop.customer("Ada"), monthly, quantity=3),  # 6,000
        "yearly": shop.subscribe(shop.customer("Bob"), yearly),  # 5,000
        "coupon": shop.subscribe(shop.customer("Cyd", coupon=half), monthly),  # 1,000
        "trial": shop.subscribe(shop.customer("Dee"), monthly, trial_period_days=14),  # 0
        "quarterly": shop.subscribe(shop.customer("Eve"), quarterly),  # 5,000
    }
    gone = shop.subscribe(shop.customer("Fay"), monthly)
    shop.cancel(gone)  # bought and cancelled the same day: no movement at all
    return {"shop": shop, **subs}


def test_full_recompute_after_the_backfill_gives_exact_mrr(mirror: Mirror) -> None:
    _build_shop(mirror)
    day0 = today(mirror)
    sync(mirror)  # the backfill's completion queues the full recompute (inline here)

    report = _series(mirror, day0 - timedelta(days=3), day0)
    last = report.series.rows[-1]
    assert report.series.currency == "usd"
    assert (last.date, last.mrr, last.arr, last.paying_customers) == (day0, 17_000, 204_000, 4)
    assert (last.new, last.expansion, last.contraction, last.churn) == (17_000, 0, 0, 0)
    assert last.arpa == 4_250
    assert last.gross_volume > 0  # the first invoices were charged
    assert report.series.rows[0].mrr == 0
    moves = _movements(mirror, day0 - timedelta(days=1), day0)
    assert sorted(m.amount for m in moves) == [1_000, 5_000, 5_000, 6_000]
    assert {m.kind for m in moves} == {"new"}
    assert all(m.changes and m.changes[0]["field"] == "subscription" for m in moves)
    _assert_invariant(mirror, day0 - timedelta(days=2), day0)


def test_marks_made_before_the_first_recompute_wait_for_it(mirror: Mirror) -> None:
    _build_shop(mirror)
    day0 = today(mirror)
    customer = next(iter(mirror.stripe_list("/v1/customers")))
    with mirror.database.unit_of_work() as session:
        marks = [customer, service.CASH]
        assert service.mark_dirty(session, account_id=mirror.account, subjects=marks) == 2
    # Nothing computed yet (a first backfill is under way): refreshing would compute from a
    # mirror still being filled, so it does nothing and leaves the marks.
    with mirror.database.unit_of_work() as session:
        assert service.refresh_dirty(session, account_id=mirror.account) == 0
    with mirror.database.read() as session:
        assert session.scalar(select(func.count()).select_from(MetricDirty)) == 2
        assert session.scalar(select(func.count()).select_from(MetricCashDay)) == 0
        assert session.scalar(select(func.count()).select_from(MetricCustomer)) == 0
    sync(mirror)  # the backfill, then the first recompute, which covers the marks
    with mirror.database.read() as session:
        assert session.scalar(select(func.count()).select_from(MetricDirty)) == 0
        assert session.scalar(select(func.count()).select_from(MetricCashDay)) > 0
    assert _series(mirror, day0 - timedelta(days=1), day0).series.rows[-1].mrr == 17_000
    # Once computed, marks are refreshed as they come.
    with mirror.database.unit_of_work() as session:
        service.mark_dirty(session, account_id=mirror.account, subjects=[customer])
    with mirror.database.unit_of_work() as session:
        assert service.refresh_dirty(session, account_id=mirror.account) == 1
    with mirror.database.read() as session:
        assert session.scalar(select(func.count()).select_from(MetricDirty)) == 0


def test_an_event_recomputes_only_its_customer(mirror: Mirror) -> None:
    built = _build_shop(mirror)
    shop = built["shop"]
    assert isinstance(shop, Shop)
    day0 = today(mirror)
    sync(mirror)
    with mirror.database.read() as session:
        versions = _versions(session, mirror.account)
    clock(mirror).advance(5 * DAY)
    since = clock(mirror).now()
    shop.set_quantity(built["seats"], 5)  # +4,000
    shop.cancel(built["yearly"])  # -5,000
    assert deliver_events_since(mirror, since) > 0
    day5 = day0 + timedelta(days=5)

    last = _series(mirror, day0, day5).series.rows[-1]
    assert (last.date, last.mrr, last.paying_customers) == (day5, 16_000, 3)
    assert (last.expansion, last.churn) == (4_000, -5_000)
    moves = _movements(mirror, day0, day5)
    assert sorted((m.kind, m.amount) for m in moves) == [("churn", -5_000), ("expansion", 4_000)]
    expansion = next(m for m in moves if m.kind == "expansion")
    quantity = next(c for c in expansion.changes if c["field"] == "quantity")
    assert (quantity["before"], quantity["after"]) == ("3", "5")
    assert any(source.startswith("evt_") for source in quantity["sources"])
    with mirror.database.read() as session:
        after = _versions(session, mirror.account)
        dirty = session.scalar(select(func.count()).select_from(MetricDirty))
    changed = {customer for customer in after if after[customer] != versions.get(customer)}
    assert changed == {m.customer for m in moves}  # nobody else was rewritten
    assert dirty == 0
    _assert_invariant(mirror, day0 - timedelta(days=1), day5)


def test_a_preset_is_materialised_on_request(mirror: Mirror) -> None:
    _build_shop(mirror)
    sync(mirror)
    with mirror.database.unit_of_work() as session:
        state = service.request_preset(session, account_id=mirror.account, preset="stripe")
        assert state.status == service.PENDING
    with mirror.database.unit_of_work() as session:
        done = service.recompute_account(session, account_id=mirror.account, presets=["stripe"])
    assert done.presets == ("stripe",)
    with mirror.database.read() as session:
        states = {
            s.preset: s.status
            for s in session.scalars(
                select(MetricState).where(MetricState.account_id == mirror.account)
            )
        }
    assert states == {"standard": "ready", "stripe": "ready"}
    day0 = today(mirror)
    with mirror.database.read() as session:
        report = queries.series(
            session,
            account_id=mirror.account,
            query=query(
                start=(day0 - timedelta(days=1)).isoformat(), end=day0.isoformat(), preset="stripe"
            ),
        )
    # Stripe's preset ignores nothing here: the only coupon is `forever`.
    assert report.series.rows[-1].mrr == 17_000
    assert report.series.settings["discount_rule"] == "forever"


def _stored_rows(session: Session, account: str) -> tuple[list[object], list[object]]:
    customers = session.execute(
        select(MetricCustomer.preset, MetricCustomer.customer_id, MetricCustomer.data)
        .where(MetricCustomer.account_id == account)
        .order_by(MetricCustomer.preset, MetricCustomer.customer_id)
    )
    movements = session.execute(
        select(
            MetricMovement.preset,
            MetricMovement.customer_id,
            MetricMovement.day,
            MetricMovement.kind,
            MetricMovement.amount,
            MetricMovement.changes,
        )
        .where(MetricMovement.account_id == account)
        .order_by(MetricMovement.preset, MetricMovement.customer_id, MetricMovement.day)
    )
    return [tuple(row) for row in customers], [tuple(row) for row in movements]


def test_a_recompute_split_across_processes_writes_the_same_rows(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = _build_shop(mirror)
    shop = built["shop"]
    assert isinstance(shop, Shop)
    sync(mirror)
    clock(mirror).advance(5 * DAY)
    since = clock(mirror).now()
    shop.set_quantity(built["seats"], 5)
    shop.cancel(built["yearly"])
    deliver_events_since(mirror, since)
    with mirror.database.unit_of_work() as session:
        service.request_preset(session, account_id=mirror.account, preset="profitwell")
    monkeypatch.setattr(compute, "CHUNK_CUSTOMERS", 2)  # several chunks per worker

    def recompute(workers: int) -> service.Recomputed:
        with mirror.database.unit_of_work() as session:
            return service.recompute_account(session, account_id=mirror.account, workers=workers)

    found = []
    for workers in (0, 2):
        # As in a queue worker: the processes are started from a thread that is not the main one.
        with ThreadPoolExecutor(1) as thread:
            done = thread.submit(recompute, workers).result()
        assert (done.customers, done.presets) == (6, ("profitwell", "standard"))
        with mirror.database.read() as session:
            found.append(_stored_rows(session, mirror.account))
    serial, parallel = found
    assert parallel == serial
    customers, movements = serial
    assert len(customers) == 2 * 6
    assert ("standard", "churn", -5_000) in {(m[0], m[3], m[4]) for m in movements}
