"""Webhook events: stored raw before anything else, applied later by a job, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.apply import apply_event
from revlens.mirror.models import StripeEvent
from revlens.mirror.store import record_event
from revlens.stripe_api.fetch import PLATFORM, Fetcher, StripeUnavailable

DEAUTHORIZED = "account.application.deauthorized"


def event_account(event: dict[str, Any]) -> str:
    """Return whose event it is: the connected account, or revlens' own platform account."""
    account = event.get("account")
    return account if isinstance(account, str) and account else PLATFORM


def receive(session: Session, event: dict[str, Any]) -> tuple[str, bool]:
    """Store a verified webhook event; return its account and whether it is new."""
    account_id = event_account(event)
    return account_id, record_event(session, account_id=account_id, event=event, source="webhook")


def process_event(
    database: Database,
    fetcher: Fetcher,
    *,
    account_id: str,
    event_id: str,
    on_deauthorized: Callable[[], object],
) -> bool:
    """Apply a stored event once; return whether this call applied it."""
    with database.read() as session:
        row = session.scalars(
            select(StripeEvent).where(
                StripeEvent.account_id == account_id, StripeEvent.event_id == event_id
            )
        ).one_or_none()
        if row is None or row.processed_at is not None:
            return False
        event = row.data
    if event.get("type") == DEAUTHORIZED:
        on_deauthorized()  # purges the account, this event included
        return True
    refetch_error: str | None = None

    def refetch(path: str) -> tuple[dict[str, Any], int]:
        return fetcher.retrieve(account_id, path)

    with database.unit_of_work() as session:
        stored = session.scalars(
            select(StripeEvent)
            .where(StripeEvent.account_id == account_id, StripeEvent.event_id == event_id)
            .with_for_update()
        ).one_or_none()
        if stored is None or stored.processed_at is not None:
            return False
        try:
            apply_event(session, account_id=account_id, event=event, refetch=refetch)
        except StripeUnavailable as error:
            # The payload is lossy and Stripe could not be asked: keep what the event says.
            refetch_error = str(error)
            apply_event(session, account_id=account_id, event=event, refetch=None)
        stored.processed_at = utcnow()
        stored.error = refetch_error
    return True


def unprocessed_events(
    session: Session, *, received_before: datetime, limit: int = 5000
) -> dict[str, list[str]]:
    """Return the ids of stored events not yet applied, received before a time, by account."""
    rows = session.execute(
        select(StripeEvent.account_id, StripeEvent.event_id)
        .where(StripeEvent.processed_at.is_(None), StripeEvent.received_at < received_before)
        .order_by(StripeEvent.id)
        .limit(limit)
    ).all()
    found: dict[str, list[str]] = {}
    for account_id, event_id in rows:
        found.setdefault(account_id, []).append(event_id)
    return found
