"""Starting a backfill of an account and reporting the progress of every stream."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.backfill import events_stream, start_backfill
from revlens.mirror.catchup import start_cursor
from revlens.mirror.models import EventCursor, SyncRange, SyncStream
from revlens.stripe_api import catalog
from revlens.stripe_api.fetch import Fetcher


def begin_account_backfill(
    database: Database, fetcher: Fetcher, *, account_id: str, full: bool = False
) -> list[int]:
    """Freeze the upper bound at Stripe's now, create the streams, return the ranges to run."""
    account, server_time = fetcher.retrieve(account_id, "/v1/account")
    created = account.get("created")
    # Nothing in an account predates the account itself.
    lower_bound = int(created) if isinstance(created, int) else 0
    with database.unit_of_work() as session:
        ranges = start_backfill(
            session,
            account_id=account_id,
            streams=[*catalog.account_streams(), events_stream()],
            lower_bound=lower_bound,
            # Up to and including this second; later changes arrive as events from here on.
            frozen_until=server_time + 1,
            full=full,
        )
        start_cursor(session, account_id=account_id, at=server_time)
    return ranges


@dataclass(frozen=True)
class StreamStatus:
    """The progress of one stream of one account."""

    stream: str
    status: str
    objects: int
    requests: int
    rate_limited: int
    retries: int
    percent: float
    eta_seconds: float | None
    started_at: datetime
    completed_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class AccountSync:
    """The mirror's state for an account: every stream, and how fresh the event cursor is."""

    account_id: str
    streams: list[StreamStatus]
    complete: bool
    percent: float
    cursor_age_seconds: float | None


def _percent(session: Session, row: SyncStream) -> float:
    """Return the share of the stream's `created` span that no open range still covers."""
    if row.status != "running":
        return 100.0
    span = max(1, row.frozen_until - row.lower_bound)
    remaining = session.scalar(
        select(func.coalesce(func.sum(SyncRange.lt - SyncRange.gte), 0)).where(
            SyncRange.account_id == row.account_id,
            SyncRange.stream == row.stream,
            SyncRange.done.is_(False),
        )
    )
    return round(max(0.0, min(99.9, 100.0 * (1 - int(remaining or 0) / span))), 1)


def account_status(
    session: Session, *, account_id: str, now: datetime | None = None
) -> AccountSync:
    """Return the progress of every stream of an account."""
    now = now or utcnow()
    rows = session.scalars(
        select(SyncStream).where(SyncStream.account_id == account_id).order_by(SyncStream.stream)
    ).all()
    streams = []
    for row in rows:
        percent = _percent(session, row)
        elapsed = (now - row.started_at).total_seconds()
        eta = None
        if row.status == "running" and 0 < percent < 100:
            eta = elapsed * (100 - percent) / percent
        streams.append(
            StreamStatus(
                stream=row.stream,
                status=row.status,
                objects=row.objects,
                requests=row.requests,
                rate_limited=row.rate_limited,
                retries=row.retries,
                percent=percent,
                eta_seconds=eta,
                started_at=row.started_at,
                completed_at=row.completed_at,
                last_error=row.last_error,
            )
        )
    cursor = session.get(EventCursor, account_id)
    complete = bool(rows) and all(row.status == "complete" for row in rows)
    overall = sum(s.percent for s in streams) / len(streams) if streams else 0.0
    return AccountSync(
        account_id=account_id,
        streams=streams,
        complete=complete,
        percent=overall,
        cursor_age_seconds=None if cursor is None else (now - cursor.updated_at).total_seconds(),
    )
