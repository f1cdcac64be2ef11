"""Typed dependencies that routes declare to get the process's resources and the caller."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates

from revlens.accounts.models import ConnectedAccount
from revlens.accounts.service import get_account
from revlens.config import Settings
from revlens.db.session import Database
from revlens.stripe_api.client import StripeClients
from revlens.tasks.queue import Queue
from revlens.web.sessions import signed_in_account


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


def _queue(request: Request) -> Queue:
    queue: Queue = request.app.state.queue
    return queue


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    return templates


def _clients(request: Request) -> StripeClients:
    clients: StripeClients | None = request.app.state.clients
    if clients is None:
        raise HTTPException(503, "revlens is not configured to reach Stripe (REVLENS_STRIPE_*).")
    return clients


SettingsDep = Annotated[Settings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
QueueDep = Annotated[Queue, Depends(_queue)]
TemplatesDep = Annotated[Jinja2Templates, Depends(_templates)]
ClientsDep = Annotated[StripeClients, Depends(_clients)]


def _workspace(account: str, request: Request, database: DatabaseDep) -> ConnectedAccount:
    """The connected account named in the path, if this browser is signed in to it; else 404.

    404 rather than 403, so that nobody learns which accounts exist.
    """
    if signed_in_account(request) != account:
        raise HTTPException(404, "There is no such page.")
    with database.read() as session:
        found = get_account(session, account)
    if found is None or not found.is_connected:
        raise HTTPException(404, "There is no such page.")
    return found


WorkspaceDep = Annotated[ConnectedAccount, Depends(_workspace)]


def is_admin_token(settings: Settings, token: str | None) -> bool:
    """Whether a token is the configured admin token (never true when none is configured)."""
    if settings.admin_token is None or not token:
        return False
    return hmac.compare_digest(settings.admin_token.get_secret_value(), token)


def _admin_api(request: Request, settings: SettingsDep) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not is_admin_token(settings, token.strip()):
        raise HTTPException(401, "Send the admin token as `Authorization: Bearer TOKEN`.")


AdminApi = Depends(_admin_api)
