"""Reconciliation: compare the mirror with Stripe per object type, repair drift and deletions.

Stripe announces deletions of only some types, and a webhook can be lost for good after its
retries. A scan lists every object of a type again and compares: objects Stripe no longer lists
become tombstones ("inferred deletes", dated when found), and objects that differ are rewritten
through the same newer-than guard as everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.models import MirroredObject, SyncStream
from revlens.mirror.store import Observed, upsert_objects
from revlens.stripe_api.catalog import Stream, account_streams
from revlens.stripe_api.fetch import Counters, Fetcher


@dataclass(frozen=True)
class Reconciled:
    """What one scan of one object type found and repaired."""

    object_type: str
    listed: int
    repaired: int
    deleted: int


def _list_all(
    fetcher: Fetcher, account_id: str, stream: Stream, counters: Counters
) -> tuple[list[dict[str, Any]], int]:
    params: dict[str, Any] = dict(stream.params)
    found: list[dict[str, Any]] = []
    server_time = 0
    while True:
        page = fetcher.list_page(account_id, stream.path, params, counters)
        server_time = max(server_time, page.server_time)
        found.extend(page.data)
        if not page.has_more or not page.data:
            return found, server_time
        params = {**dict(stream.params), "starting_after": page.data[-1]["id"]}


def reconcile_account(database: Database, fetcher: Fetcher, *, account_id: str) -> list[Reconciled]:
    """Scan every mirrored object type of an account once and repair what differs."""
    by_type: dict[str, list[Stream]] = {}
    for stream in account_streams():
        by_type.setdefault(stream.object_type, []).append(stream)
    results = []
    for object_type, streams in by_type.items():
        counters = Counters()
        listed: dict[str, dict[str, Any]] = {}
        started = None
        for stream in streams:
            objects, server_time = _list_all(fetcher, account_id, stream, counters)
            started = server_time if started is None else min(started, server_time)
            listed.update({obj["id"]: obj for obj in objects})
        results.append(
            _repair(
                database,
                account_id=account_id,
                object_type=object_type,
                listed=listed,
                read_at=started or 0,
                streams=streams,
            )
        )
    return results


def _repair(
    database: Database,
    *,
    account_id: str,
    object_type: str,
    listed: dict[str, dict[str, Any]],
    read_at: int,
    streams: list[Stream],
) -> Reconciled:
    with database.unit_of_work() as session:
        stored: dict[str, dict[str, Any]] = dict(
            session.execute(
                select(MirroredObject.stripe_id, MirroredObject.data).where(
                    MirroredObject.account_id == account_id,
                    MirroredObject.object_type == object_type,
                    MirroredObject.deleted_at.is_(None),
                    # Only what existed when the scan began can be judged missing from it.
                    MirroredObject.source_ts <= read_at,
                )
            ).all()
        )
        drifted = [obj for oid, obj in listed.items() if stored.get(oid) != obj]
        repaired = upsert_objects(session, [Observed(account_id, obj, read_at) for obj in drifted])
        gone = [oid for oid in stored if oid not in listed]
        if gone:
            session.execute(
                update(MirroredObject)
                .where(
                    MirroredObject.account_id == account_id,
                    MirroredObject.object_type == object_type,
                    MirroredObject.stripe_id.in_(gone),
                    MirroredObject.source_ts <= read_at,
                )
                .values(deleted_at=read_at, source_ts=read_at, synced_at=utcnow())
            )
        session.execute(
            update(SyncStream)
            .where(
                SyncStream.account_id == account_id,
                SyncStream.stream.in_([s.name for s in streams]),
            )
            .values(last_reconciled_at=utcnow())
        )
    return Reconciled(object_type, len(listed), repaired, len(gone))
