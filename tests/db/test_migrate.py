"""Migrations run up and down on both backends and match the models."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select

from revlens.db import migrate
from revlens.db.session import Database
from revlens.errors import StartupError
from revlens.mirror.models import MirroredObject, SyncRange, SyncStream
from revlens.models import metadata


def test_upgrade_downgrade_upgrade(fresh_database_url: str) -> None:
    database = Database.from_url(fresh_database_url)
    with pytest.raises(
        StartupError, match=r"schema is at nothing, revlens needs .*revlens migrate"
    ):
        migrate.check_schema(database.engine)
    migrate.upgrade(database.engine)
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    migrate.check_schema(database.engine)
    assert "heartbeats" in inspect(database.engine).get_table_names()
    migrate.downgrade(database.engine, "base")
    assert migrate.current_revision(database.engine) is None
    assert "heartbeats" not in inspect(database.engine).get_table_names()
    migrate.upgrade(database.engine)
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    database.dispose()


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


def test_payment_intents_mirrored_before_0009_are_dropped(fresh_database_url: str) -> None:
    database = Database.from_url(fresh_database_url)
    migrate.upgrade(database.engine, "0008")
    synced = datetime(2026, 11, 1, tzinfo=UTC)
    objects = MirroredObject.__table__
    streams = SyncStream.__table__
    ranges = SyncRange.__table__
    row = {"account_id": "acct_1", "livemode": False, "source_ts": 1, "synced_at": synced}
    progress = {"account_id": "acct_1", "status": "complete", "lower_bound": 0}
    with database.engine.begin() as connection:
        for kind, stripe_id in (("payment_intent", "pi_1"), ("charge", "ch_1")):
            connection.execute(
                objects.insert().values(object_type=kind, stripe_id=stripe_id, data={}, **row)
            )
        for stream in ("payment_intents", "charges"):
            connection.execute(
                streams.insert().values(
                    stream=stream, frozen_until=10, started_at=synced, **progress
                )
            )
            connection.execute(
                ranges.insert().values(account_id="acct_1", stream=stream, gte=0, lt=10)
            )
    migrate.upgrade(database.engine)
    with database.engine.connect() as connection:
        kept = connection.execute(select(objects.c.object_type)).scalars().all()
        kept_streams = connection.execute(select(streams.c.stream)).scalars().all()
        kept_ranges = connection.execute(select(ranges.c.stream)).scalars().all()
    assert kept == ["charge"]
    assert kept_streams == ["charges"]
    assert kept_ranges == ["charges"]
    database.dispose()
