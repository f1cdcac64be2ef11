"""Events API catch-up per account: read up to a lag behind Stripe's now, oldest first.

The cursor is (second, ids already applied at that second): event ids are not ordered, and
several events share a second. Everything created at or before the cursor's second, except what
arrives later than the lag allows for, has been applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.apply import apply_event
from revlens.mirror.models import EventCursor
from revlens.mirror.store import record_event
from revlens.stripe_api.fetch import Fetcher

LAG_S = 60
WARN_AFTER_S = 20 * 24 * 3600
REBACKFILL_AFTER_S = 25 * 24 * 3600
MAX_PAGES = 200  # per sweep; the next sweep continues from the cursor


@dataclass(frozen=True)
class CatchUp:
    """What one sweep of the Events API did and what it found about the cursor's age."""

    seen: int
    applied: int
    cursor: int
    age_seconds: int
    warn: bool
    rebackfill: bool


def start_cursor(session: Session, *, account_id: str, at: int) -> EventCursor:
    """Create the account's cursor at Stripe time `at` unless it has one."""
    cursor = session.get(EventCursor, account_id)
    if cursor is None:
        cursor = EventCursor(
            account_id=account_id, created=at, boundary_ids=[], updated_at=utcnow()
        )
        session.add(cursor)
        session.flush()
    return cursor


def catch_up(
    database: Database, fetcher: Fetcher, *, account_id: str, lag: int = LAG_S
) -> CatchUp | None:
    """Apply the events created since the cursor, up to `lag` seconds behind Stripe's now."""
    with database.read() as session:
        cursor = session.get(EventCursor, account_id)
        if cursor is None:
            return None
        since, boundary = cursor.created, set(cursor.boundary_ids)
    events, server_time, window_end = _events_since(fetcher, account_id, since)
    upper = server_time - lag if window_end is None else min(server_time - lag, window_end)
    # The list is newest first, ties in Stripe's own order: reversed, it is oldest first.
    fresh = [e for e in reversed(events) if int(e["created"]) <= upper and e["id"] not in boundary]
    applied = 0
    refetch = _refetcher(fetcher, account_id)
    with database.unit_of_work() as session:
        for event in fresh:
            if record_event(session, account_id=account_id, event=event, source="events_api"):
                apply_event(
                    session, account_id=account_id, event=event, refetch=refetch, ordered=True
                )
                applied += 1
        cursor_row = session.get(EventCursor, account_id, with_for_update=True)
        if cursor_row is None:
            return None  # purged while we read
        new_second = max(upper, since)
        at_second = {e["id"] for e in events if int(e["created"]) == new_second}
        cursor_row.boundary_ids = sorted(at_second | (boundary if new_second == since else set()))
        cursor_row.created = new_second
        cursor_row.updated_at = utcnow()
    age = server_time - since
    return CatchUp(
        seen=len(events),
        applied=applied,
        cursor=new_second,
        age_seconds=age,
        warn=age > WARN_AFTER_S,
        rebackfill=age > REBACKFILL_AFTER_S,
    )


def _events_since(
    fetcher: Fetcher, account_id: str, since: int
) -> tuple[list[dict[str, Any]], int, int | None]:
    """Return the events created at or after `since`, Stripe's now, and the window's end.

    A window too large for one sweep is halved until it fits: lists are newest first, so a cut
    list would lack the oldest events, and the cursor must never pass an event not yet read.
    """
    upper: int | None = None
    while True:
        events: list[dict[str, Any]] = []
        created: dict[str, int] = {"gte": since} if upper is None else {"gte": since, "lte": upper}
        params: dict[str, Any] = {"created": created}
        server_time = 0
        for _ in range(MAX_PAGES):
            page = fetcher.list_page(account_id, "/v1/events", params)
            server_time = max(server_time, page.server_time)
            events.extend(page.data)
            if not page.has_more or not page.data:
                return events, server_time, upper
            params = {**params, "starting_after": page.data[-1]["id"]}
        upper = since + ((upper or server_time) - since) // 2


def _refetcher(fetcher: Fetcher, account_id: str) -> Any:
    def refetch(path: str) -> tuple[dict[str, Any], int]:
        return fetcher.retrieve(account_id, path)

    return refetch
