"""A workspace's pages: dashboard and settings (connection status, disconnect)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from revlens.accounts.onboarding import disconnect
from revlens.billing.service import release_account
from revlens.mirror.sync import account_status
from revlens.web.deps import ClientsDep, DatabaseDep, SettingsDep, TemplatesDep, WorkspaceDep
from revlens.web.rendering import render
from revlens.web.sessions import check_csrf, sign_out

router = APIRouter(include_in_schema=False)


@router.get("/accounts/{account}", response_class=HTMLResponse)
def dashboard(
    request: Request, workspace: WorkspaceDep, templates: TemplatesDep, database: DatabaseDep
) -> HTMLResponse:
    """Show the workspace's dashboard, with the backfill's progress while it runs."""
    with database.read() as session:
        sync = account_status(session, account_id=workspace.id)
    return render(templates, request, "dashboard.html", account=workspace, sync=sync)


@router.get("/accounts/{account}/settings", response_class=HTMLResponse)
async def settings_page(
    request: Request, workspace: WorkspaceDep, templates: TemplatesDep
) -> HTMLResponse:
    """Show the connection: status, scope, since when, and the Disconnect button."""
    return render(templates, request, "settings.html", account=workspace)


@router.post("/accounts/{account}/disconnect")
async def disconnect_account(
    request: Request,
    *,
    workspace: WorkspaceDep,
    database: DatabaseDep,
    clients: ClientsDep,
    settings: SettingsDep,
    csrf_token: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """Revoke access at Stripe, purge the workspace and sign out."""
    check_csrf(request, csrf_token)
    if settings.billing.enabled:  # no more charges for a workspace that is gone
        await run_in_threadpool(release_account, database, clients, account_id=workspace.id)
    await run_in_threadpool(
        disconnect, database, clients, account_id=workspace.id, reason="disconnected_by_user"
    )
    sign_out(request)
    return RedirectResponse("/?notice=disconnected", status_code=303)
