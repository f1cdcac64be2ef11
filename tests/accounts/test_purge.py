"""Disconnect and purge: every per-account table, only that account, idempotent, recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, MetaData, String, Table, func, insert, select
from sqlalchemy.orm import Session

from revlens.accounts import purge
from revlens.accounts.models import AccountStatus, ConnectedAccount, DeletionRecord
from revlens.accounts.purge import account_tables, disconnect_and_purge
from revlens.accounts.service import Grant, deletion_records, record_connection
from revlens.db.base import Base

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _connect(db_session: Session, account_id: str) -> ConnectedAccount:
    grant = Grant(account_id, f"Shop {account_id}", False, "read_only", "read_only")
    return record_connection(db_session, grant=grant, now=NOW)


def test_account_tables_are_found_from_the_metadata() -> None:
    names = {table.name for table in account_tables()}
    assert "connected_accounts" not in names
    assert "deletion_records" not in names
    for table in Base.metadata.tables.values():
        if "account_id" in table.columns and table.name not in (
            "connected_accounts",
            "deletion_records",
        ):
            assert table.name in names


def test_purge_deletes_only_that_account_and_records_it(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(db_session, "acct_a")
    _connect(db_session, "acct_b")
    # A per-account table like the mirror's: created for this test inside its transaction.
    scratch = Table(
        "purge_scratch", MetaData(), Column("account_id", String(64)), Column("v", String(8))
    )
    scratch.create(db_session.connection())
    db_session.execute(
        insert(scratch),
        [{"account_id": "acct_a", "v": str(i)} for i in range(3)]
        + [{"account_id": "acct_b", "v": "b"}],
    )
    monkeypatch.setattr(purge, "account_tables", lambda: [*account_tables(), scratch])
    record = _purge(db_session, "acct_a")
    assert record is not None
    assert record.rows_deleted["purge_scratch"] == 3
    assert record.reason == "user_disconnect"
    remaining = db_session.execute(select(scratch.c.account_id)).scalars().all()
    assert remaining == ["acct_b"]
    a = db_session.get(ConnectedAccount, "acct_a")
    b = db_session.get(ConnectedAccount, "acct_b")
    assert a is not None
    assert b is not None
    assert a.status is AccountStatus.DISCONNECTED
    assert a.disconnect_reason == "user_disconnect"
    assert b.status is AccountStatus.CONNECTED
    # Idempotent: nothing left, nothing recorded a second time.
    assert _purge(db_session, "acct_a") is None
    assert len(deletion_records(db_session, account_id="acct_a")) == 1
    assert deletion_records(db_session, account_id="acct_b") == []


def _purge(db_session: Session, account_id: str) -> DeletionRecord | None:
    return disconnect_and_purge(
        db_session, account_id=account_id, reason="user_disconnect", now=NOW
    )


def test_reconnecting_after_a_purge_starts_a_new_connection(db_session: Session) -> None:
    _connect(db_session, "acct_c")
    disconnect_and_purge(db_session, account_id="acct_c", reason="deauthorized", now=NOW)
    later = NOW + timedelta(days=3)
    grant = Grant("acct_c", "Shop C", False, "read_write", "read_only")
    account = record_connection(db_session, grant=grant, now=later)
    assert account.is_connected
    assert account.connected_at == later
    assert account.disconnected_at is None
    assert account.scope_narrowed
    assert db_session.scalar(select(func.count()).select_from(ConnectedAccount)) == 1


def test_purging_an_unknown_account_does_nothing(db_session: Session) -> None:
    assert disconnect_and_purge(db_session, account_id="acct_x", reason="r", now=NOW) is None
