"""Applying revlens' own-account webhook events to the billing state, in a job's unit of work."""

from __future__ import annotations

from sqlalchemy import select

from revlens.billing.state import BILLING_EVENTS, Refetch, apply_billing_event
from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.models import StripeEvent
from revlens.stripe_api.fetch import PLATFORM


def wants(event_type: str) -> bool:
    """Whether an event of the platform account concerns billing."""
    return event_type in BILLING_EVENTS


def apply_stored_event(database: Database, *, event_id: str, refetch: Refetch | None) -> bool:
    """Apply a stored platform event to the billing state; False when it is not stored."""
    with database.read() as session:
        row = session.scalars(
            select(StripeEvent).where(
                StripeEvent.account_id == PLATFORM, StripeEvent.event_id == event_id
            )
        ).one_or_none()
        event = None if row is None else row.data
    if event is None:
        return False
    with database.unit_of_work() as session:
        apply_billing_event(session, event=event, refetch=refetch, now=utcnow())
    return True
