"""The app factory: everything the web process needs is built here from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import revlens
from revlens.config import Settings
from revlens.db.session import Database
from revlens.tasks.queue import Queue, make_queue
from revlens.web.routes import health


def create_app(
    settings: Settings, *, database: Database | None = None, queue: Queue | None = None
) -> FastAPI:
    """Build the web app for these settings (a database and queue may be handed in by tests)."""
    owns_database = database is None
    database = database or Database.from_url(
        settings.database_url, pool_size=settings.database_pool_size
    )
    queue = queue or make_queue(settings, database=database)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if owns_database:
            database.dispose()

    app = FastAPI(title="revlens", version=revlens.__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.database = database
    app.state.queue = queue
    app.include_router(health.router)
    return app
