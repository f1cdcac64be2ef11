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
    return session.scalars(
        select(MirroredObject).where(
            MirroredObject.account_id == account_id,
            MirroredObject.object_type == obj["object"],
            MirroredObject.stripe_id == obj["id"],
        )
    ).one_or_none()


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
    current object is re-fetched rather than guessed. A deleted object never comes back.
    """
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or "id" not in obj or "object" not in obj:
        return Applied(None, False, False)
    object_type = OBJECT_TYPES.get(str(obj["object"]))
    if object_type is None:
        return Applied(None, False, False)  # stored in the log, nothing to mirror
    created = int(event["created"])
    deleted = event.get("type") in object_type.delete_events
    stored = _stored(session, account_id, obj)
    if stored is not None and (stored.deleted_at is not None or stored.source_ts > created):
        return Applied(object_type.name, False, False)
    tie = stored is not None and stored.source_ts == created and not ordered
    final = stored is not None and stored.status in object_type.final_statuses
    refetched = False
    lossy = is_lossy(object_type, obj) or leaves_out_parts(session, account_id, obj)
    wanted = not deleted and (tie or lossy) and not final
    if wanted and refetch is not None and object_type.retrieve_path:
        obj, created = refetch(object_type.retrieve_path.format(id=obj["id"]))
        deleted = bool(obj.get("deleted"))
        refetched = True
    written = upsert_objects(session, [Observed(account_id, obj, created, deleted=deleted)])
    return Applied(object_type.name, bool(written), refetched)
