"""Disconnection: mark the workspace disconnected and delete everything stored for it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, delete
from sqlalchemy.orm import Session

from revlens.accounts.models import AccountStatus, ConnectedAccount, DeletionRecord
from revlens.db.base import Base

# Tables that describe the account itself and outlive its data.
KEPT = frozenset({ConnectedAccount.__tablename__, DeletionRecord.__tablename__})
ACCOUNT_COLUMN = "account_id"


def account_tables() -> list[Table]:
    """Return every table holding per-account data: any table with an account_id column.

    Found from the metadata, so a table added later is purged without being listed here.
    Children come before parents so that foreign keys never block the deletes.
    """
    tables = [
        table
        for table in Base.metadata.sorted_tables
        if ACCOUNT_COLUMN in table.columns and table.name not in KEPT
    ]
    return list(reversed(tables))


def disconnect_and_purge(
    session: Session, *, account_id: str, reason: str, now: datetime
) -> DeletionRecord | None:
    """Disconnect the account and delete its data; None when there was nothing to do.

    Idempotent: a second call for an account already disconnected and empty records nothing.
    Only rows whose account_id is this account's are touched.
    """
    account = session.get(ConnectedAccount, account_id, with_for_update=True)
    if account is None:
        return None
    was_connected = account.is_connected
    account.status = AccountStatus.DISCONNECTED
    if was_connected:
        account.disconnected_at = now
        account.disconnect_reason = reason
    counts: dict[str, int] = {}
    for table in account_tables():
        result = session.execute(delete(table).where(table.c[ACCOUNT_COLUMN] == account_id))
        counts[table.name] = int(result.rowcount or 0)  # type: ignore[attr-defined]
    if not was_connected:
        # Already purged: only strays that raced the first purge (a late webhook) went now;
        # the first purge's record stands, so a second one is not written.
        session.flush()
        return None
    record = DeletionRecord(
        account_id=account_id, reason=reason, deleted_at=now, rows_deleted=counts
    )
    session.add(record)
    session.flush()
    return record
