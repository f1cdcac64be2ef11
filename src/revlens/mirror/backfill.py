"""Backfill by adaptive subdivision of `created` ranges, checkpointed with every page.

Each (account, stream) starts as one range [lower bound, frozen upper bound). A page of a range
that has more is split: the rest of the page's oldest second continues with `starting_after`,
and everything older is cut into sub-ranges that other workers page in parallel. A page's rows,
its range's new cursor and any new sub-ranges are committed in one transaction, so a crash
re-fetches at most the one page that was in flight per range.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.models import MirroredObject, SyncRange, SyncStream
from revlens.mirror.store import Observed, prepare_upsert, record_event, write_upsert
from revlens.stripe_api import catalog
from revlens.stripe_api.catalog import Child, Stream
from revlens.stripe_api.fetch import Counters, Fetcher

PAGE = 100
# A page that outlives its lease (many retries) is dropped by the version check and re-read.
LEASE = timedelta(seconds=30)
MAX_OPEN_RANGES = 8  # per stream: parallelism without flooding Stripe with empty ranges
MIN_SPLIT_SECONDS = 2
MIN_PAGES_PER_RANGE = 4
# A job pages its range this long before it queues the rest: long enough that the queue's round
# trip (and the claim) is paid once per several pages, short enough that other accounts' pages
# still come first by priority every second.
SLICE_S = 1.0
MAX_PAGES_PER_SLICE = 25
EVENTS_STREAM = "events"
EVENT_HISTORY_S = 30 * 24 * 3600


@dataclass(frozen=True)
class PageResult:
    """What one slice of a range did, and whether the range itself must be queued again."""

    stored: int
    next_ranges: list[int]
    finished: bool


def events_stream() -> Stream:
    """The last 30 days of the events the analytics read, read like any other list."""
    return Stream(
        EVENTS_STREAM,
        "event",
        "/v1/events",
        tuple((f"types[{i}]", name) for i, name in enumerate(catalog.HISTORY_EVENT_TYPES)),
    )


def stream_named(name: str) -> Stream:
    """Return the stream with this name (including the events stream)."""
    return events_stream() if name == EVENTS_STREAM else catalog.stream_by_name(name)


def start_backfill(
    session: Session,
    *,
    account_id: str,
    streams: Sequence[Stream],
    lower_bound: int,
    frozen_until: int,
    full: bool = False,
) -> list[int]:
    """Create (or with `full`, restart) the streams of a backfill; return the ranges to run."""
    ranges: list[SyncRange] = []
    now = utcnow()
    for stream in streams:
        row = session.scalars(
            select(SyncStream).where(
                SyncStream.account_id == account_id, SyncStream.stream == stream.name
            )
        ).one_or_none()
        if row is not None and not full and row.status in ("running", "complete"):
            continue
        low = max(lower_bound, frozen_until - EVENT_HISTORY_S) if stream.name == "events" else 0
        low = low or lower_bound
        if row is None:
            row = SyncStream(account_id=account_id, stream=stream.name)
            session.add(row)
        row.status = "running"
        row.lower_bound = low
        row.frozen_until = frozen_until
        row.objects = row.requests = row.rate_limited = row.retries = 0
        row.started_at = now
        row.completed_at = None
        row.last_error = None
        session.execute(
            update(SyncRange)
            .where(SyncRange.account_id == account_id, SyncRange.stream == stream.name)
            .values(done=True)
        )
        new_range = SyncRange(
            account_id=account_id,
            stream=stream.name,
            gte=low,
            lt=frozen_until,
            done=False,
            pages=0,
            version=0,
        )
        session.add(new_range)
        ranges.append(new_range)
    session.flush()
    return [r.id for r in ranges]


def _claim(database: Database, range_id: int) -> SyncRange | None:
    """Lease a range for one page; None when it is done or another worker holds it."""
    now = utcnow()
    with database.unit_of_work() as session:
        claimed = session.execute(
            update(SyncRange)
            .where(
                SyncRange.id == range_id,
                SyncRange.done.is_(False),
                or_(SyncRange.leased_until.is_(None), SyncRange.leased_until < now),
            )
            .values(leased_until=now + LEASE, version=SyncRange.version + 1)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return None
        found = session.get(SyncRange, range_id)
        assert found is not None
        session.expunge(found)
        return found


def run_range(
    database: Database,
    fetcher: Fetcher,
    range_id: int,
    *,
    spawn: Callable[[list[int]], object] = lambda ids: None,
    slice_s: float = SLICE_S,
    clock: Callable[[], float] = time.monotonic,
) -> PageResult:
    """Page a range for up to `slice_s` seconds, one checkpointed transaction per page.

    Sub-ranges split off are handed to `spawn` as soon as their transaction commits. The lease
    of the next page is taken in the same transaction as the page before it: a range keeps its
    worker for a whole slice without a claim (or a queue round trip) per page. `next_ranges`
    holds the range itself when the slice ended before the range did.
    """
    claimed = _claim(database, range_id)
    if claimed is None:
        return PageResult(0, [], False)
    began = clock()
    stored = 0
    for page_number in itertools.count(1):
        keep = page_number < MAX_PAGES_PER_SLICE and clock() - began < slice_s
        outcome = _page(database, fetcher, claimed, keep_lease=keep)
        if outcome is None:
            return PageResult(stored, [], False)  # lost the lease to another worker
        stored += outcome.stored
        if outcome.spawned:
            spawn(outcome.spawned)
        if outcome.next is None:
            # Done, or the slice is over and the range is released for the queue to go on.
            return PageResult(stored, [] if outcome.done else [range_id], outcome.finished)
        claimed = outcome.next
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class _PageOutcome:
    stored: int
    spawned: list[int]
    done: bool  # the range
    finished: bool  # the whole stream
    # The range, still leased to this worker, when it has more and the slice goes on.
    next: SyncRange | None


def _page(
    database: Database, fetcher: Fetcher, claimed: SyncRange, *, keep_lease: bool
) -> _PageOutcome | None:
    """Fetch and store one page of a leased range, move its checkpoint, split it if worthwhile."""
    stream = stream_named(claimed.stream)
    params: dict[str, Any] = dict(stream.params)
    params["created"] = {"gte": claimed.gte, "lt": claimed.lt}
    if claimed.starting_after:
        params["starting_after"] = claimed.starting_after
    counters = Counters()
    page = fetcher.list_page(claimed.account_id, stream.path, params, counters)
    objects = [
        _complete(fetcher, claimed.account_id, stream.children, obj, counters) for obj in page.data
    ]
    # Built before the transaction: on SQLite every worker queues on one write lock, held only
    # while the statements run.
    prepared = (
        None
        if stream.name == EVENTS_STREAM
        else prepare_upsert(
            database.engine.dialect,
            [Observed(claimed.account_id, obj, page.server_time) for obj in objects],
        )
    )
    with database.unit_of_work() as session:
        current = session.get(SyncRange, claimed.id, with_for_update=True)
        if current is None or current.version != claimed.version or current.done:
            return None  # lost the lease to another worker: drop the page
        stored = (
            write_upsert(session, prepared)
            if prepared is not None
            else _log_events(session, claimed.account_id, objects)
        )
        current.pages += 1
        next_ranges = _advance(session, current, page.data, page.has_more, stream.created_field)
        going_on = keep_lease and not current.done
        if going_on:
            current.leased_until = utcnow() + LEASE
            current.version += 1
        else:
            current.leased_until = None
        # Locked: on PostgreSQL two workers finishing pages of one stream would otherwise both
        # read the same counters (a lost update), and when they close its last two ranges each
        # would still see the other's range open and neither would mark the stream complete.
        row = session.scalars(
            select(SyncStream)
            .where(SyncStream.account_id == claimed.account_id, SyncStream.stream == stream.name)
            .with_for_update()
        ).one()
        row.objects += len(objects)
        row.requests += counters.requests
        row.rate_limited += counters.rate_limited
        row.retries += counters.retries
        finished = current.done and _finish_if_complete(session, row)
        session.flush()
        if going_on:
            session.expunge(current)
    spawned = [i for i in next_ranges if i != claimed.id]
    return _PageOutcome(stored, spawned, current.done, finished, current if going_on else None)


def _complete(
    fetcher: Fetcher,
    account_id: str,
    children: Sequence[Child],
    obj: dict[str, Any],
    counters: Counters,
) -> dict[str, Any]:
    """Page every capped embedded list of an object to its end."""
    for child in children:
        embedded = obj.get(child.field)
        if not isinstance(embedded, dict) or not embedded.get("has_more"):
            continue
        items = list(embedded.get("data") or [])
        params = {key: value.format(id=obj["id"]) for key, value in child.params}
        while True:
            more = fetcher.list_page(
                account_id,
                child.path.format(id=obj["id"]),
                {**params, "starting_after": items[-1]["id"]} if items else params,
                counters,
            )
            items.extend(more.data)
            if not more.has_more or not more.data:
                break
        obj[child.field] = {**embedded, "data": items, "has_more": False, "total_count": len(items)}
    return obj


def _log_events(session: Session, account_id: str, events: list[dict[str, Any]]) -> int:
    # The event history is only logged: the objects' own streams read their current state, and
    # what changes after the frozen bound comes from the Events API cursor, in order.
    return sum(
        record_event(session, account_id=account_id, event=event, source="events_api")
        for event in events
    )


def _advance(
    session: Session,
    current: SyncRange,
    data: list[dict[str, Any]],
    has_more: bool,
    created_field: str = "created",
) -> list[int]:
    """Move the range past this page; return the ranges (this one, new ones) to run next."""
    if not has_more or not data:
        current.done = True
        current.starting_after = None
        return []
    oldest = int(data[-1][created_field])
    current.starting_after = str(data[-1]["id"])
    low_end = current.gte
    width = oldest - low_end
    # Objects per second in what this page covered, extrapolated to what is left: split only
    # into ranges worth several full pages, or the partial last pages cost more than they save.
    # Only a range's first page splits: splitting later pages too (to share out the last long
    # ranges) cost 30 % more requests on 200,000 objects (0.0134 per object) for no speed.
    newest = int(data[0][created_field])
    density = len(data) / max(1, newest - oldest + 1) if current.pages == 1 else 0.0
    worth = int(density * width) // (PAGE * MIN_PAGES_PER_RANGE)
    if width < MIN_SPLIT_SECONDS or worth < 1:
        return [current.id]
    open_ranges = (
        session.scalar(
            select(func.count())
            .select_from(SyncRange)
            .where(
                SyncRange.account_id == current.account_id,
                SyncRange.stream == current.stream,
                SyncRange.done.is_(False),
            )
        )
        or 0
    )
    room = MAX_OPEN_RANGES - int(open_ranges)
    parts = min(room, width, worth)
    if width < MIN_SPLIT_SECONDS or parts < 1:
        return [current.id]
    # The rest of the oldest second continues here; everything older is shared out.
    current.gte = oldest
    current.lt = oldest + 1
    bounds = [low_end + (width * i) // parts for i in range(parts + 1)]
    created: list[SyncRange] = []
    for low, high in itertools.pairwise(bounds):
        if high > low:
            piece = SyncRange(
                account_id=current.account_id,
                stream=current.stream,
                gte=low,
                lt=high,
                done=False,
                pages=0,
                version=0,
            )
            session.add(piece)
            created.append(piece)
    session.flush()
    return [current.id, *(piece.id for piece in created)]


def _finish_if_complete(session: Session, row: SyncStream) -> bool:
    open_ranges = session.scalar(
        select(func.count())
        .select_from(SyncRange)
        .where(
            SyncRange.account_id == row.account_id,
            SyncRange.stream == row.stream,
            SyncRange.done.is_(False),
        )
    )
    if open_ranges:
        return False
    row.status = "complete"
    row.completed_at = utcnow()
    if row.stream != EVENTS_STREAM:
        _tombstone_unseen(session, row)
    return True


def _tombstone_unseen(session: Session, row: SyncStream) -> None:
    """Tombstone the stored objects of a type that no stream of the type listed this time.

    Every object a backfill lists is stored with a source time at or after the second it froze
    its bound (or keeps a newer one from an event), so once every stream of a type is complete,
    a live row still older than that was not listed: Stripe deleted it. After an outage longer
    than Stripe's 30 days of events, this is how a re-backfill learns of deletions whose events
    have expired (`customer.deleted`), and of types Stripe never announces deletions for.
    """
    object_type = stream_named(row.stream).object_type
    names = [s.name for s in catalog.account_streams() if s.object_type == object_type]
    streams = session.scalars(
        select(SyncStream).where(
            SyncStream.account_id == row.account_id, SyncStream.stream.in_(names)
        )
    ).all()
    if len(streams) != len(names) or any(s.status != "complete" for s in streams):
        return  # a gap, or a sibling stream still running: nothing can be judged missing yet
    snapshot = min(s.frozen_until for s in streams) - 1
    session.execute(
        update(MirroredObject)
        .where(
            MirroredObject.account_id == row.account_id,
            MirroredObject.object_type == object_type,
            MirroredObject.deleted_at.is_(None),
            MirroredObject.source_ts < snapshot,
            MirroredObject.created < snapshot + 1,
        )
        .values(deleted_at=snapshot, source_ts=snapshot, synced_at=utcnow())
    )


def stale_ranges(session: Session, *, limit: int = 1000) -> list[int]:
    """Return open ranges nobody holds (their worker died or their follow-up job was lost)."""
    now = utcnow()
    query = (
        select(SyncRange.id)
        .where(
            SyncRange.done.is_(False),
            or_(SyncRange.leased_until.is_(None), SyncRange.leased_until < now),
        )
        .limit(limit)
    )
    return list(session.scalars(query))


def record_failure(database: Database, range_id: int, message: str) -> None:
    """Release a range whose page failed after every retry, and show the error on its stream.

    The range stays open: the sweep re-queues it, so a failure delays the backfill but never
    leaves it silently incomplete.
    """
    with database.unit_of_work() as session:
        found = session.get(SyncRange, range_id, with_for_update=True)
        if found is None:
            return
        found.leased_until = None
        stream = session.scalars(
            select(SyncStream).where(
                SyncStream.account_id == found.account_id, SyncStream.stream == found.stream
            )
        ).one_or_none()
        if stream is not None:
            stream.last_error = message[:2000]


def record_gap(database: Database, range_id: int, message: str) -> None:
    """Close a stream Stripe will not let revlens read (403, 404): a visible coverage gap."""
    with database.unit_of_work() as session:
        found = session.get(SyncRange, range_id, with_for_update=True)
        if found is None:
            return
        session.execute(
            update(SyncRange)
            .where(SyncRange.account_id == found.account_id, SyncRange.stream == found.stream)
            .values(done=True, leased_until=None)
        )
        session.execute(
            update(SyncStream)
            .where(SyncStream.account_id == found.account_id, SyncStream.stream == found.stream)
            .values(status="gap", last_error=message[:2000], completed_at=utcnow())
        )


def range_account(database: Database, range_id: int) -> str | None:
    """Return the account a range belongs to."""
    with database.read() as session:
        found = session.get(SyncRange, range_id)
        return found.account_id if found else None
