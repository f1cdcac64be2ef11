"""The jobs revlens runs in the background; each opens its own units of work."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from huey import crontab
from sqlalchemy import select

from revlens.accounts.service import get_account, list_accounts
from revlens.db.types import utcnow
from revlens.metrics import service as metrics
from revlens.mirror import backfill
from revlens.mirror.catchup import catch_up
from revlens.mirror.ingest import process_event, unprocessed_events
from revlens.mirror.models import SyncRange
from revlens.mirror.reconcile import reconcile_account
from revlens.mirror.sync import account_status, begin_account_backfill
from revlens.stripe_api import errors as stripe_api_errors
from revlens.stripe_api.errors import Verdict
from revlens.stripe_api.fetch import PLATFORM, StripeUnavailable
from revlens.system.service import record_heartbeat
from revlens.tasks.billing_jobs import account_gone, apply_billing_events
from revlens.tasks.context import JobContext
from revlens.tasks.registry import job, periodic

log = logging.getLogger(__name__)

# huey runs higher priorities first: a page of a young backfill goes before an older one's.
NEW_ACCOUNT_PRIORITY = 100
# The first page of the streams a dashboard needs first, so that every account being connected
# shows data within seconds, however many other accounts are backfilling
# (bench/mirror_accounts.py: before this, accounts were served one after another).
FIRST_DATA_STREAMS = frozenset({"customers", "subscriptions"})
FIRST_DATA_PRIORITY = NEW_ACCOUNT_PRIORITY + 1
# Starting a backfill is one request that queues the first pages: it goes before any page.
SYNC_PRIORITY = NEW_ACCOUNT_PRIORITY + 10
# Keeping connected accounts fresh goes before backfilling anyone (a page has at most 100).
EVENT_PRIORITY = NEW_ACCOUNT_PRIORITY + 20
# A stored webhook event still unprocessed this long after it arrived was never queued.
UNQUEUED_AFTER = timedelta(seconds=30)


@job(name="heartbeat")
def heartbeat(context: JobContext, *, source: str) -> int:
    """Write a heartbeat row and return its id, proving a worker ran the job."""
    with context.database.unit_of_work() as session:
        return record_heartbeat(session, source=source).id


def _connected(context: JobContext, account_id: str) -> bool:
    with context.database.read() as session:
        account = get_account(session, account_id)
        return account is not None and account.is_connected


def _lost_access(context: JobContext, account_id: str, error: StripeUnavailable) -> bool:
    """Start the deauthorization path when Stripe says the account is out of reach."""
    if error.verdict is not Verdict.ACCOUNT_REVOKED:
        return False
    log.warning("account %s answered account_invalid: purging", account_id)
    account_gone(context, account_id=account_id, reason="account_invalid")
    return True


@job(name="sync_account", priority=SYNC_PRIORITY)
def sync_account(context: JobContext, *, account_id: str, full: bool = False) -> int:
    """Start (or resume) the backfill of an account; return how many ranges were queued."""
    if not _connected(context, account_id):
        return 0
    try:
        ranges = begin_account_backfill(
            context.database, context.fetcher, account_id=account_id, full=full
        )
    except StripeUnavailable as error:
        if _lost_access(context, account_id, error):
            return 0
        raise
    with context.database.read() as session:
        first = set(
            session.scalars(
                select(SyncRange.id).where(
                    SyncRange.id.in_(ranges), SyncRange.stream.in_(FIRST_DATA_STREAMS)
                )
            )
        )
    for range_id in ranges:
        priority = FIRST_DATA_PRIORITY if range_id in first else NEW_ACCOUNT_PRIORITY
        _enqueue_page(context, range_id, priority)
    return len(ranges)


def _enqueue_page(context: JobContext, range_id: int, priority: int) -> None:
    assert context.queue is not None
    # `priority` is huey's (it never reaches the job); `rank` tells the job its own.
    context.queue.enqueue(backfill_page, range_id=range_id, rank=priority, priority=priority)


@job(name="backfill_page")
def backfill_page(context: JobContext, *, range_id: int, rank: int = 0) -> int:
    """Page a range for one time slice and queue what follows; return the objects stored."""
    # Later pages of the same stream lose priority, so new accounts overtake large old ones.
    later = max(0, min(rank, NEW_ACCOUNT_PRIORITY) - 1)

    def spawn(range_ids: list[int]) -> None:
        for next_id in range_ids:
            _enqueue_page(context, next_id, later)

    try:
        result = backfill.run_range(context.database, context.fetcher, range_id, spawn=spawn)
    except StripeUnavailable as error:
        account_id = backfill.range_account(context.database, range_id)
        if account_id and _lost_access(context, account_id, error):
            return 0
        if error.verdict in (Verdict.NOT_PERMITTED, Verdict.GONE):
            backfill.record_gap(context.database, range_id, str(error))
        else:
            backfill.record_failure(context.database, range_id, str(error))
        return 0
    except stripe_api_errors.StripeError as error:
        # Not a case the error policy names: keep the range open and the error visible.
        backfill.record_failure(context.database, range_id, f"{type(error).__name__}: {error}")
        return 0
    spawn(result.next_ranges)
    if result.finished:
        _after_stream_finished(context, range_id)
    return result.stored


@job(name="apply_event", priority=EVENT_PRIORITY)
def apply_event_job(context: JobContext, *, account_id: str, event_id: str) -> bool:
    """Apply a stored webhook event to the mirror (idempotent)."""
    if account_id == PLATFORM:  # revlens' own account: its subscriptions decide access
        apply_billing_events(context, event_ids=[event_id])
    applied = process_event(
        context.database,
        context.fetcher,
        account_id=account_id,
        event_id=event_id,
        on_deauthorized=lambda: account_gone(context, account_id=account_id, reason="deauthorized"),
    )
    if applied:
        _metrics_changed(context, account_id, event_ids=[event_id])
    return applied


@job(name="apply_events", priority=EVENT_PRIORITY)
def apply_events_job(context: JobContext, *, account_id: str, event_ids: list[str]) -> int:
    """Apply stored webhook events of one account, in the order given; return how many."""
    if account_id == PLATFORM:  # revlens' own account: its subscriptions decide access
        apply_billing_events(context, event_ids=event_ids)
    applied = [
        event_id
        for event_id in event_ids
        if process_event(
            context.database,
            context.fetcher,
            account_id=account_id,
            event_id=event_id,
            on_deauthorized=lambda: account_gone(
                context, account_id=account_id, reason="deauthorized"
            ),
        )
    ]
    if applied:
        _metrics_changed(context, account_id, event_ids=applied)
    return len(applied)


@job(name="catch_up", priority=EVENT_PRIORITY)
def catch_up_job(context: JobContext, *, account_id: str) -> int:
    """Read the Events API for one account; re-backfill it when the cursor is too old."""
    if not _connected(context, account_id):
        return 0
    began = utcnow()
    try:
        result = catch_up(context.database, context.fetcher, account_id=account_id)
    except StripeUnavailable as error:
        if _lost_access(context, account_id, error):
            return 0
        raise
    if result is None:
        return 0
    if result.applied:
        _metrics_changed(context, account_id, received_since=began)
    if result.rebackfill:
        log.warning("event cursor of %s is %ss old: re-backfilling", account_id, result.age_seconds)
        sync_account(context, account_id=account_id, full=True)
    elif result.warn:
        log.warning("event cursor of %s is %ss old", account_id, result.age_seconds)
    return result.applied


@job(name="reconcile")
def reconcile_job(context: JobContext, *, account_id: str) -> int:
    """Scan an account's object types against Stripe; return how many objects were repaired."""
    if not _connected(context, account_id):
        return 0
    try:
        found = reconcile_account(context.database, context.fetcher, account_id=account_id)
    except StripeUnavailable as error:
        if _lost_access(context, account_id, error):
            return 0
        raise
    return sum(r.repaired + r.deleted for r in found)


@periodic(name="reconcile_all", schedule=crontab(minute="17", hour="3"))
def reconcile_all(context: JobContext) -> None:
    """Queue a reconciliation of every connected account, daily."""
    with context.database.read() as session:
        accounts = [a.id for a in list_accounts(session) if a.is_connected]
    assert context.queue is not None
    for account_id in accounts:
        context.queue.enqueue(reconcile_job, account_id=account_id)


@periodic(name="sweep", schedule=crontab(minute="*"))
def sweep(context: JobContext) -> None:
    """Re-queue backfill ranges whose worker died and webhook events nobody queued (the web
    process died between storing and queueing them), and catch up every connected account."""
    with context.database.read() as session:
        stale = backfill.stale_ranges(session)
        accounts = [a.id for a in list_accounts(session) if a.is_connected]
        unqueued = unprocessed_events(session, received_before=utcnow() - UNQUEUED_AFTER)
    for range_id in stale:
        _enqueue_page(context, range_id, 0)
    assert context.queue is not None
    for account_id, event_ids in unqueued.items():
        context.queue.enqueue(apply_events_job, account_id=account_id, event_ids=event_ids)
    for account_id in accounts:
        context.queue.enqueue(catch_up_job, account_id=account_id)


def _after_stream_finished(context: JobContext, range_id: int) -> None:
    """Queue the metrics' full recompute once the last stream of an account's backfill is done."""
    from revlens.mirror.models import SyncRange

    with context.database.read() as session:
        found = session.get(SyncRange, range_id)
        complete = (
            found is not None and account_status(session, account_id=found.account_id).complete
        )
    if found is not None and complete:
        assert context.queue is not None
        context.queue.enqueue(recompute_metrics, account_id=found.account_id)


def _metrics_changed(context: JobContext, account_id: str, **which: Any) -> None:
    """Mark what applied events changed and queue a refresh unless one is already asked for."""
    with context.database.unit_of_work() as session:
        new_marks = metrics.mark_events(session, account_id=account_id, **which)
    if new_marks:
        assert context.queue is not None
        context.queue.enqueue(refresh_metrics, account_id=account_id)


@job(name="recompute_metrics")
def recompute_metrics(
    context: JobContext, *, account_id: str, presets: list[str] | None = None
) -> int:
    """Recompute an account's metrics from its mirror; return the customers computed."""
    if not _connected(context, account_id):
        return 0
    with context.database.unit_of_work() as session:
        return metrics.recompute_account(session, account_id=account_id, presets=presets).customers


@job(name="refresh_metrics")
def refresh_metrics(context: JobContext, *, account_id: str) -> int:
    """Recompute the customers (and cash) that applied events marked; return how many."""
    if not _connected(context, account_id):
        return 0
    with context.database.unit_of_work() as session:
        return metrics.refresh_dirty(session, account_id=account_id)
