"""The landing page and signing out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from revlens.web.deps import SettingsDep, TemplatesDep
from revlens.web.rendering import render
from revlens.web.sessions import check_csrf, sign_out, signed_in_account

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse, response_model=None)
async def landing(
    request: Request, templates: TemplatesDep, settings: SettingsDep
) -> HTMLResponse | RedirectResponse:
    """Show the Connect with Stripe button, or go to the workspace of a signed-in browser."""
    account = signed_in_account(request)
    if account is not None:
        return RedirectResponse(f"/accounts/{account}", status_code=303)
    notice = request.query_params.get("notice")
    message = {"disconnected": "Disconnected. Your data has been deleted."}.get(notice or "")
    return render(templates, request, "landing.html", scope=settings.stripe_scope, message=message)


@router.post("/logout")
async def logout(
    request: Request, csrf_token: Annotated[str | None, Form()] = None
) -> RedirectResponse:
    """Sign this browser out."""
    check_csrf(request, csrf_token)
    sign_out(request)
    return RedirectResponse("/", status_code=303)
