"""The operator view and the admin API, behind REVLENS_ADMIN_TOKEN."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from revlens.accounts.models import ConnectedAccount
from revlens.accounts.service import deletion_records, list_accounts
from revlens.billing.fees import FeesUnavailable, platform_fees
from revlens.billing.overview import customer_rows
from revlens.stripe_api.errors import StripeError
from revlens.web.deps import AdminApi, DatabaseDep, SettingsDep, TemplatesDep, is_admin_token
from revlens.web.rendering import render
from revlens.web.sessions import ADMIN, check_csrf

router = APIRouter()


def account_json(account: ConnectedAccount) -> dict[str, Any]:
    """Return a connected account as the API shows it."""
    return {
        "id": account.id,
        "display_name": account.display_name,
        "status": account.status.value,
        "livemode": account.livemode,
        "scope_requested": account.scope_requested,
        "scope_granted": account.scope_granted,
        "connected_at": account.connected_at.isoformat(),
        "disconnected_at": account.disconnected_at.isoformat() if account.disconnected_at else None,
        "disconnect_reason": account.disconnect_reason,
    }


@router.get("/api/v1/accounts", dependencies=[AdminApi], tags=["operations"])
def accounts_api(database: DatabaseDep) -> dict[str, Any]:
    """List every connected account with its status and deletion records (admin token)."""
    with database.read() as session:
        accounts = list_accounts(session)
        records = deletion_records(session)
    return {
        "object": "list",
        "data": [account_json(account) for account in accounts],
        "deletion_records": [
            {
                "account_id": record.account_id,
                "deleted_at": record.deleted_at.isoformat(),
                "reason": record.reason,
                "rows_deleted": record.rows_deleted,
            }
            for record in records
        ],
    }


@router.get("/admin", response_class=HTMLResponse, include_in_schema=False)
def admin_page(
    request: Request, templates: TemplatesDep, database: DatabaseDep, settings: SettingsDep
) -> HTMLResponse:
    """Show the operator view, or the sign-in form."""
    if request.session.get(ADMIN) is not True:
        return render(templates, request, "admin_login.html")
    with database.read() as session:
        accounts = list_accounts(session)
        records = deletion_records(session)
        payers = customer_rows(session, settings.billing, now=int(time.time()))
    fees: list[Any] = []
    fees_reason: str | None = None
    try:
        if request.app.state.clients is None:
            raise FeesUnavailable("revlens is not configured to reach Stripe.")
        fees = platform_fees(settings, request.app.state.clients)
    except (FeesUnavailable, StripeError) as error:
        fees_reason = str(error)
    return render(
        templates,
        request,
        "admin.html",
        accounts=accounts,
        deletions=records,
        billing_enabled=settings.billing.enabled,
        payers=payers,
        fees=fees,
        fees_reason=fees_reason,
    )


@router.post("/admin/login", include_in_schema=False, response_model=None)
def admin_login(
    request: Request,
    templates: TemplatesDep,
    settings: SettingsDep,
    csrf_token: Annotated[str | None, Form()] = None,
    token: Annotated[str | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    """Check the admin token and remember the operator in the session."""
    check_csrf(request, csrf_token)
    if not is_admin_token(settings, token):
        return render(templates, request, "admin_login.html", status=401, error="Wrong token.")
    request.session[ADMIN] = True
    return RedirectResponse("/admin", status_code=303)
