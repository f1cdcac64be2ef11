"""Reconciliation repairs what no event announced; unreadable types are visible gaps."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from revlens.mirror.models import MirroredObject, SyncStream
from revlens.mirror.reconcile import reconcile_account
from revlens.stripe_api import catalog
from revlens.tasks.jobs import sync_account
from stripe_emulator.store import Scope
from tests.mirror.conftest import Mirror


def test_deletions_without_events_and_drift_are_repaired(mirror: Mirror) -> None:
    client, opts = mirror.platform, mirror.opts
    kept = client.v1.customers.create({"email": "kept@x.example"}, opts)
    vanished = client.v1.customers.create({"email": "gone@x.example"}, opts)
    drifting = client.v1.customers.create({"email": "old@x.example"}, opts)
    mirror.queue.enqueue(sync_account, account_id=mirror.account)
    assert set(mirror.stored("customer")) == {kept.id, vanished.id, drifting.id}
    # Stripe forgets one customer and changes another, and no event or webhook says so.
    store = mirror.emulator.emulator.store
    scope = Scope(mirror.account, False)
    with store.transaction():
        row = store.get(scope, "customer", vanished.id)
        assert row is not None
        store.update(scope, "customer", row.load(), deleted=True)
        changed = store.get(scope, "customer", drifting.id)
        assert changed is not None
        store.update(scope, "customer", {**changed.load(), "email": "new@x.example"})
    fetcher = mirror.queue.context.fetcher
    found = {
        r.object_type: r
        for r in reconcile_account(mirror.database, fetcher, account_id=mirror.account)
    }
    assert found["customer"].deleted == 1
    assert found["customer"].repaired == 1
    assert found["customer"].listed == 2
    assert mirror.stored("customer") == mirror.stripe_list("/v1/customers")
    with mirror.database.read() as session:
        tombstone = session.scalars(
            select(MirroredObject).where(MirroredObject.stripe_id == vanished.id)
        ).one()
        reconciled = session.scalars(
            select(SyncStream.last_reconciled_at).where(SyncStream.stream == "customers")
        ).one()
    assert tombstone.deleted_at is not None
    assert reconciled is not None
    # A second scan finds nothing more to do.
    again = reconcile_account(mirror.database, fetcher, account_id=mirror.account)
    assert sum(r.repaired + r.deleted for r in again) == 0


def test_a_type_stripe_refuses_becomes_a_visible_gap(
    mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    bogus = catalog.Stream("widgets", "widget", "/v1/widgets")
    monkeypatch.setattr(catalog, "STREAMS", (*catalog.STREAMS, bogus))
    mirror.platform.v1.customers.create({"email": "a@x.example"}, mirror.opts)
    mirror.queue.enqueue(sync_account, account_id=mirror.account)
    with mirror.database.read() as session:
        streams = {s.stream: s for s in session.scalars(select(SyncStream))}
    assert streams["widgets"].status == "gap"
    assert "Unrecognized request URL" in (streams["widgets"].last_error or "")
    assert streams["customers"].status == "complete"
    assert len(mirror.stored("customer")) == 1
