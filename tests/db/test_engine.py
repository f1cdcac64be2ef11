"""Engine factory and units of work, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from revlens.config import normalize_database_url
from revlens.db.engine import make_engine
from revlens.db.session import Database
from revlens.errors import StartupError
from revlens.system.models import Heartbeat
from revlens.system.service import heartbeats, record_heartbeat
from tests.conftest import POSTGRES_VARIABLE, require_service


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/nested/dir/x.db")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    engine.dispose()


def test_postgres_engine_has_a_sized_pool() -> None:
    url = normalize_database_url(require_service("PostgreSQL", POSTGRES_VARIABLE))
    engine = make_engine(url, pool_size=7)
    assert engine.pool.size() == 7  # type: ignore[attr-defined]
    engine.dispose()


def test_unit_of_work_commits_on_success(database: Database) -> None:
    with database.unit_of_work() as session:
        record_heartbeat(session, source="uow-commit")
    with database.read() as session:
        assert [h.source for h in heartbeats(session, source="uow-commit")] == ["uow-commit"]
    _delete(database, "uow-commit")


def test_unit_of_work_rolls_back_when_the_block_raises(database: Database) -> None:
    def fail_after_writing() -> None:
        with database.unit_of_work() as session:
            record_heartbeat(session, source="uow-rollback")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_after_writing()
    with database.read() as session:
        assert heartbeats(session, source="uow-rollback") == []


def test_read_sessions_never_commit(database: Database) -> None:
    with database.read() as session:
        record_heartbeat(session, source="read-only")
    with database.read() as session:
        assert heartbeats(session, source="read-only") == []


def test_writers_in_threads_do_not_lose_rows(database: Database) -> None:
    """Concurrent units of work (SQLite takes the write lock at BEGIN) all land."""

    def write(n: int) -> None:
        for _ in range(n):
            with database.unit_of_work() as session:
                session.execute(text("SELECT COUNT(*) FROM heartbeats")).scalar()
                record_heartbeat(session, source="concurrent")

    threads = [threading.Thread(target=write, args=(20,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.read() as session:
        assert len(heartbeats(session, source="concurrent")) == 80
    _delete(database, "concurrent")


def test_datetimes_come_back_aware_and_in_utc(db_session: Session) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    db_session.add(Heartbeat(source="tz", process="p", created_at=moment))
    db_session.flush()
    db_session.expire_all()
    stored = heartbeats(db_session, source="tz")[0].created_at
    assert stored == moment
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == datetime(2026, 1, 2, 1, 4, 5, tzinfo=UTC)


def test_naive_datetimes_are_refused(db_session: Session) -> None:
    db_session.add(Heartbeat(source="naive", process="p", created_at=datetime(2026, 1, 1)))
    with pytest.raises(Exception, match="naive datetime"):
        db_session.flush()


def test_db_session_rolls_back_between_tests_part_one(db_session: Session) -> None:
    record_heartbeat(db_session, source="isolation")
    db_session.commit()  # even a commit inside the test is undone by the fixture
    assert len(heartbeats(db_session, source="isolation")) == 1


def test_db_session_rolls_back_between_tests_part_two(db_session: Session) -> None:
    assert heartbeats(db_session, source="isolation") == []


def test_an_unreachable_database_is_one_line() -> None:
    database = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with pytest.raises(StartupError) as caught:
        database.check()
    message = str(caught.value)
    assert message.startswith("REVLENS_DATABASE_URL: cannot connect to ")
    assert "\n" not in message


def _delete(database: Database, source: str) -> None:
    with database.unit_of_work() as session:
        session.query(Heartbeat).filter_by(source=source).delete()
