"""Migrations run up and down on both backends and match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from revlens.db import migrate
from revlens.db.session import Database
from revlens.errors import StartupError
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
