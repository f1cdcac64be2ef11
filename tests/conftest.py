"""Fixtures shared by the whole suite: services, settings, databases and queues.

Tests that touch the database run once per backend (SQLite, PostgreSQL). A backend or service
that is not configured is skipped on a developer machine and is a failure under CI=true.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from revlens.config import Settings, load_settings
from revlens.db import migrate
from revlens.db.session import Database
from stripe_emulator.observe import add_observer
from tests.contract.spec_observer import Recorder

POSTGRES_VARIABLE = "REVLENS_TEST_POSTGRES_URL"
REDIS_VARIABLE = "REVLENS_TEST_REDIS_URL"
CHROMIUM_VARIABLE = "REVLENS_TEST_CHROMIUM"
REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED = REPO_ROOT.parent / "shared"

_skipped_services: set[str] = set()


def require_service(name: str, variable: str) -> str:
    """Return the service's URL, or skip (developer machine) / fail (CI) when it is not set."""
    value = os.environ.get(variable)
    if value:
        return value
    message = f"{name} not available: set {variable} to run these tests"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must run every test)")
    _skipped_services.add(f"{name} ({variable})")
    pytest.skip(message)


def require_tool(name: str) -> str:
    """Return the path of a program on PATH, or skip (developer machine) / fail (CI) without it."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed: install it to run these tests"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must run every test)")
    _skipped_services.add(name)
    pytest.skip(message)


def require_shared(relative: str) -> Path:
    """Return a path under ../shared, or skip when the reference material is absent."""
    path = SHARED / relative
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing; CI always has ../shared")
        pytest.skip(f"reference material {path} is absent (../shared is not checked out here)")
    return path


_responses = Recorder()
SPEC = SHARED / "stripe-oracles" / "openapi" / "spec3.2023-08-16.yaml"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Watch every API response of the emulators this process runs (see spec_observer.py)."""
    add_observer(_responses)


@pytest.fixture(autouse=True)
def _responses_match_stripes_spec() -> Iterator[None]:
    """After each test, the emulator responses it provoked must validate against the spec."""
    yield
    if not SPEC.exists():
        _responses.drain()
        if os.environ.get("CI"):
            pytest.fail(f"{SPEC} is missing; CI always has ../shared")
        return
    problems = _responses.problems(SPEC)
    if problems:
        pytest.fail(
            "emulator responses that do not match Stripe's OpenAPI spec (exemptions are in "
            "tests/contract/spec_schemas.py):\n" + "\n".join(problems),
            pytrace=False,
        )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say which services were missing, so a skipped backend is never mistaken for a pass."""
    if _responses.checked:
        terminalreporter.write_line(
            f"{_responses.checked} emulator API responses validated against Stripe's spec "
            f"in {_responses.seconds:.1f} s"
        )
    elif not SPEC.exists():
        terminalreporter.write_line(
            f"emulator responses were not validated: {SPEC} is absent", yellow=True
        )
    if _skipped_services:
        terminalreporter.write_line(
            "services not available, their tests were skipped: "
            + ", ".join(sorted(_skipped_services)),
            yellow=True,
            bold=True,
        )


@pytest.fixture
def make_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Return a factory of Settings rooted in a fresh data directory, from explicit variables."""
    monkeypatch.chdir(tmp_path)  # so that no ./revlens.toml of the checkout is read

    def build(**variables: str) -> Settings:
        environ = {"REVLENS_DATA_DIR": str(tmp_path / "data"), **variables}
        return load_settings(environ)

    return build


def _create_postgres_database(admin_url: str) -> str:
    """Create an empty database on the test server and return its SQLAlchemy URL."""
    name = f"revlens_test_{secrets.token_hex(6)}"
    admin = make_url(admin_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name, drivername="postgresql+psycopg").render_as_string(
        hide_password=False
    )


def _drop_postgres_database(admin_url: str, url: str) -> None:
    admin = make_url(admin_url).set(drivername="postgresql")
    name = make_url(url).database
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend a test runs on; every database test runs on both."""
    backend_name: str = request.param
    if backend_name == "postgresql":
        require_service("PostgreSQL", POSTGRES_VARIABLE)
    return backend_name


@pytest.fixture
def fresh_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database of its own for this test (for multi-process tests)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    admin_url = os.environ[POSTGRES_VARIABLE]
    url = _create_postgres_database(admin_url)
    yield url
    _drop_postgres_database(admin_url, url)


@pytest.fixture(scope="session")
def database(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A migrated database shared by the session's tests of one backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'revlens.db'}"
    else:
        url = _create_postgres_database(os.environ[POSTGRES_VARIABLE])
    db = Database.from_url(url)
    migrate.upgrade(db.engine)
    yield db
    db.dispose()
    if backend == "postgresql":
        _drop_postgres_database(os.environ[POSTGRES_VARIABLE], url)


@pytest.fixture
def db_session(database: Database) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test, whatever it commits."""
    connection = database.engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis database for this test, flushed before and after."""
    import redis

    url = require_service("Redis", REDIS_VARIABLE)
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()
    client.close()
