"""Connecting, listing and disconnecting workspaces; the caller's unit of work commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from revlens.accounts.models import AccountStatus, ConnectedAccount, DeletionRecord


@dataclass(frozen=True)
class Grant:
    """What Stripe's token endpoint and account read said about a new connection."""

    account_id: str
    display_name: str
    livemode: bool
    scope_requested: str
    scope_granted: str


def record_connection(session: Session, *, grant: Grant, now: datetime) -> ConnectedAccount:
    """Store or reconnect the workspace of a connected account and return it."""
    account = session.get(ConnectedAccount, grant.account_id, with_for_update=True)
    if account is None:
        account = ConnectedAccount(id=grant.account_id, connected_at=now)
        session.add(account)
    elif not account.is_connected:
        account.connected_at = now  # a new connection after a purge starts afresh
    account.display_name = grant.display_name
    account.livemode = grant.livemode
    account.scope_requested = grant.scope_requested
    account.scope_granted = grant.scope_granted
    account.status = AccountStatus.CONNECTED
    account.last_authorized_at = now
    account.disconnected_at = None
    account.disconnect_reason = None
    session.flush()
    return account


def get_account(session: Session, account_id: str) -> ConnectedAccount | None:
    """Return the workspace with this id, connected or not."""
    return session.get(ConnectedAccount, account_id)


def list_accounts(session: Session) -> list[ConnectedAccount]:
    """Return every workspace, connected first, then by name."""
    query = select(ConnectedAccount).order_by(
        ConnectedAccount.status, ConnectedAccount.display_name, ConnectedAccount.id
    )
    return list(session.scalars(query))


def deletion_records(session: Session, *, account_id: str | None = None) -> list[DeletionRecord]:
    """Return deletion records, newest first, optionally of one account."""
    query = select(DeletionRecord).order_by(
        DeletionRecord.deleted_at.desc(), DeletionRecord.id.desc()
    )
    if account_id is not None:
        query = query.where(DeletionRecord.account_id == account_id)
    return list(session.scalars(query))
