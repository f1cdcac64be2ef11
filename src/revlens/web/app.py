"""The app factory: everything the web process needs is built here from the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

import revlens
from revlens.config import Settings
from revlens.db.session import Database
from revlens.stripe_api.client import StripeClients
from revlens.tasks.queue import Queue, make_queue
from revlens.web.rendering import message
from revlens.web.routes import (
    admin,
    billing,
    connect,
    health,
    metrics,
    pages,
    sync,
    webhooks,
    workspace,
)
from revlens.web.sessions import SESSION_COOKIE, SESSION_MAX_AGE_S
from revlens.web.templating import STATIC, make_templates
from revlens.webhooks.service import WEBHOOK_PATH


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

    app = FastAPI(
        title="revlens",
        version=revlens.__version__,
        lifespan=lifespan,
        # revlens sets up no OpenTelemetry; checking for it read the environment per request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.database = database
    app.state.queue = queue
    app.state.templates = make_templates(settings)
    app.state.templates.env.globals["billing_banner"] = billing.banner
    app.state.templates.env.globals["billing_enabled"] = lambda: settings.billing.enabled
    app.state.clients = StripeClients(settings) if settings.stripe_secret_key else None
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key.get_secret_value(),
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=settings.is_production,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (health, pages, connect, workspace, admin, webhooks, sync, metrics, billing):
        app.include_router(module.router)
    app.add_exception_handler(HTTPException, _http_error)
    # Outermost of the app's own middleware: a webhook delivery skips the session and the scan
    # of every route (the routes above still answer it, e.g. behind a root path).
    app.add_middleware(DirectPost, routes={WEBHOOK_PATH: webhooks.stripe_webhook})
    return app


Endpoint = Callable[[Request], Awaitable[Response]]


class DirectPost:
    """Hand POSTs to a few exact paths straight to their endpoints.

    Webhook deliveries are the one hot path: the session middleware, exception middleware and
    the scan of every route cost more than verifying and storing the event
    (bench/webhook_ingest.py). Errors still reach the server error middleware outside.
    """

    def __init__(self, app: ASGIApp, routes: Mapping[str, Endpoint]) -> None:
        self.app = app
        self.routes = dict(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a direct route, or pass the request on."""
        if scope["type"] == "http" and scope["method"] == "POST":
            endpoint = self.routes.get(scope["path"])
            if endpoint is not None:
                response = await endpoint(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Answer errors as JSON on the API and as a page everywhere else."""
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/") or request.url.path == "/healthz":
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    headings = {401: "Not signed in", 403: "Not allowed", 404: "Not found"}
    return message(
        request.app.state.templates,
        request,
        heading=headings.get(exc.status_code, "Something went wrong"),
        text=str(exc.detail),
        status=exc.status_code,
    )
