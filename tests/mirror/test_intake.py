"""Batched webhook intake and time-sliced backfill jobs: what each unit does, against a real DB."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from revlens.accounts.models import AccountStatus, ConnectedAccount
from revlens.accounts.service import Grant, record_connection
from revlens.db.types import utcnow
from revlens.mirror import backfill
from revlens.mirror.ingest import unprocessed_events
from revlens.mirror.models import StripeEvent, SyncRange
from revlens.mirror.sync import begin_account_backfill
from revlens.webhooks.intake import Received, store_batch
from revlens.webhooks.service import SigningSecrets
from tests.mirror.conftest import WEBHOOK_SECRET, Mirror


def _event(event_id: str, account: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "account": account,
        "type": "customer.updated",
        "created": 1_700_000_000,
        "livemode": False,
        "data": {"object": {"id": "cus_1", "object": "customer", "created": 1}},
    }


def test_one_batch_stores_each_event_once_and_drops_disconnected_ones(mirror: Mirror) -> None:
    gone = "acct_disconnected0001"
    with mirror.database.unit_of_work() as session:
        grant = Grant(gone, "Gone", False, "read_only", "read_only")
        record_connection(session, grant=grant, now=utcnow())
    with mirror.database.unit_of_work() as session:
        session.execute(
            update(ConnectedAccount)
            .where(ConnectedAccount.id == gone)
            .values(status=AccountStatus.DISCONNECTED)
        )
    first = store_batch(mirror.database, [_event("evt_a", mirror.account)])
    assert first == [Received(mirror.account, True)]
    answers = store_batch(
        mirror.database,
        [
            _event("evt_b", mirror.account),
            _event("evt_a", mirror.account),  # stored by the batch before
            _event("evt_b", mirror.account),  # twice in this batch
            _event("evt_c", gone),
            _event("evt_d", "acct_neverconnected01"),  # unknown accounts' events are kept
        ],
    )
    assert answers == [
        Received(mirror.account, True),
        Received(mirror.account, False),
        Received(mirror.account, False),
        Received(gone, False, dropped=True),
        Received("acct_neverconnected01", True),
    ]
    with mirror.database.read() as session:
        stored = sorted(session.scalars(select(StripeEvent.event_id)))
        pending = unprocessed_events(session, received_before=utcnow())
    assert stored == ["evt_a", "evt_b", "evt_d"]
    assert pending == {mirror.account: ["evt_a", "evt_b"], "acct_neverconnected01": ["evt_d"]}


def test_signing_secrets_are_cached_and_read_again_when_asked(mirror: Mirror) -> None:
    now = [100.0]
    secrets = SigningSecrets(mirror.database, mirror.settings, ttl=5, clock=lambda: now[0])
    assert secrets.stale
    assert secrets.reload()
    assert secrets.current == (WEBHOOK_SECRET,)
    assert not secrets.stale
    assert not secrets.reload()  # read a moment ago: not again
    now[0] += 5
    assert secrets.stale


def test_a_slice_ends_with_its_range_queued_again_and_resumes(mirror: Mirror) -> None:
    now = mirror.emulator.emulator.clock.now()
    mirror.bulk_customers(450, start=now - 86400, spread=86400 - 10)
    fetcher = mirror.queue.context.fetcher
    ranges = begin_account_backfill(mirror.database, fetcher, account_id=mirror.account)
    with mirror.database.read() as session:
        (customers,) = session.scalars(
            select(SyncRange.id).where(SyncRange.id.in_(ranges), SyncRange.stream == "customers")
        )
    spawned: list[int] = []
    # A slice of no time: one page, then the range is released for the queue to go on.
    result = backfill.run_range(
        mirror.database, fetcher, customers, spawn=spawned.extend, slice_s=0
    )
    assert result.stored == 100
    assert result.next_ranges == [customers]
    assert not result.finished
    queue = [customers, *spawned]
    while queue:
        outcome = backfill.run_range(mirror.database, fetcher, queue.pop(), spawn=queue.extend)
        queue.extend(outcome.next_ranges)
    assert len(mirror.stored("customer")) == 451  # with bulk_customers' template
    assert mirror.stored("customer") == mirror.stripe_list("/v1/customers")
