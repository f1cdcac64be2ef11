"""Applying events to the mirror: idempotent, safe in any order, re-fetching only lossy payloads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revlens.mirror.models import MirroredObject
from revlens.mirror.store import Observed, upsert_objects
from revlens.stripe_api.catalog import OBJECT_TYPES, ObjectType

# Fetch the complete current object (its embedded lists paged to the end): (path) → (obj, time).
Refetch = Callable[[str], tuple[dict[str, Any], int]]


@dataclass(frozen=True)
class Applied:
    """What applying one event did."""

    object_type: str | None
    written: bool
    refetched: bool


def is_lossy(object_type: ObjectType, obj: dict[str, Any]) -> bool:
    """Whether the payload lacks data: a capped embedded list (items, lines beyond 10)."""
    for child in object_type.children:
        embedded = obj.get(child.field)
        if isinstance(embedded, dict) and embedded.get("has_more"):
            return True
    return False


def leaves_out_parts(session: Session, account_id: str, obj: dict[str, Any]) -> bool:
    """Whether the payload leaves out what only a re-fetch shows.

    A tiered price's tiers (never in event payloads), or a subscription's discounts named by id
    that the mirror does not hold.
    """
    if obj.get("object") in ("price", "plan"):
        return obj.get("billing_scheme") == "tiered" and not obj.get("tiers")
    if obj.get("object") != "subscription":
        return False
    ids = {d for d in obj.get("discounts") or () if isinstance(d, str)}
    if not ids:
        return False
    known = session.scalars(
        select(MirroredObject.stripe_id).where(
            MirroredObject.account_id == account_id,
            MirroredObject.object_type == "discount",
            MirroredObject.stripe_id.in_(sorted(ids)),
        )
    )
    return bool(ids - set(known))


def _stored(session: Session, account_id: str, obj: dict[str, Any]) -> MirroredObject | None:
    # Locked (PostgreSQL): two workers applying two events of one object must not both decide
    # from the same stored state.
    return session.scalars(
        select(MirroredObject)
        .where(
            MirroredObject.account_id == account_id,
            MirroredObject.object_type == obj["object"],
            MirroredObject.stripe_id == obj["id"],
        )
        .with_for_update()
    ).one_or_none()


@dataclass(frozen=True)
class _Change:
    """An event's object: whose, of which mirrored type, and the second of the event."""

    account_id: str
    object_type: ObjectType
    obj: dict[str, Any]
    created: int

    def observed(self, *, deleted: bool = False) -> Observed:
        return Observed(self.account_id, self.obj, self.created, deleted=deleted)


def apply_event(
    session: Session,
    *,
    account_id: str,
    event: dict[str, Any],
    refetch: Refetch | None,
    ordered: bool = False,
) -> Applied:
    """Write the event's object to the mirror unless the mirror already holds a newer state.

    Stripe's times are whole seconds. When an event's second equals the stored state's, the
    order between them is unknown unless the events come `ordered` (the Events API): then the
    current object is re-fetched rather than guessed, except that a state after a final status
    (a canceled subscription, a paid invoice) cannot be a non-final one. A deleted object never
    comes back.
    """
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or "id" not in obj or "object" not in obj:
        return Applied(None, False, False)
    object_type = OBJECT_TYPES.get(str(obj["object"]))
    if object_type is None:
        return Applied(None, False, False)  # stored in the log, nothing to mirror
    change = _Change(account_id, object_type, obj, int(event["created"]))
    if event.get("type") in object_type.delete_events:
        # A deletion is the last state there is: it wins a tie.
        written = upsert_objects(session, [change.observed(deleted=True)])
        return Applied(object_type.name, bool(written), False)
    return _apply_update(session, change, refetch, ordered=ordered)


def _apply_update(
    session: Session, change: _Change, refetch: Refetch | None, *, ordered: bool
) -> Applied:
    object_type, created = change.object_type, change.created
    skipped = Applied(object_type.name, False, False)
    stored = _stored(session, change.account_id, change.obj)
    if stored is not None and (stored.deleted_at is not None or stored.source_ts > created):
        return skipped
    final = stored is not None and stored.status in object_type.final_statuses
    if stored is not None and stored.source_ts == created and not ordered:
        if final and change.obj.get("status") not in object_type.final_statuses:
            return skipped  # the stored final state came after this one
        return _read_current(session, change, refetch)
    lossy = is_lossy(object_type, change.obj) or leaves_out_parts(
        session, change.account_id, change.obj
    )
    if lossy and not final and refetch is not None:
        return _read_current(session, change, refetch)
    written = upsert_objects(session, [change.observed()], ties=ordered)
    if not written and not ordered:
        # Another worker stored a state of the same second meanwhile (it was not there when
        # this one looked). Which of the two is newer only Stripe can say.
        stored = _stored(session, change.account_id, change.obj)
        if stored is not None and stored.deleted_at is None and stored.source_ts == created:
            return _read_current(session, change, refetch)
    return Applied(object_type.name, bool(written), False)


def _read_current(session: Session, change: _Change, refetch: Refetch | None) -> Applied:
    """Store the object as Stripe has it now; without a way to ask, the event's payload."""
    path = change.object_type.retrieve_path
    if refetch is None or path is None:
        written = upsert_objects(session, [change.observed()])
        return Applied(change.object_type.name, bool(written), False)
    obj, read_at = refetch(path.format(id=change.obj["id"]))
    current = Observed(change.account_id, obj, read_at, deleted=bool(obj.get("deleted")))
    written = upsert_objects(session, [current])
    return Applied(change.object_type.name, bool(written), True)
