"""The Connect flow in the browser: start it, and handle Stripe's redirect back."""

from __future__ import annotations

import time
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from revlens.accounts.oauth_state import StateProblem, StateRefused
from revlens.accounts.onboarding import begin_connection, complete_connection
from revlens.billing.entitlements import NotEntitled
from revlens.billing.linking import after_connect, check_can_connect
from revlens.stripe_api.oauth import OAuthFailed
from revlens.tasks.jobs import sync_account
from revlens.web.deps import ClientsDep, DatabaseDep, QueueDep, SettingsDep, TemplatesDep
from revlens.web.rendering import message
from revlens.web.sessions import browser_id, check_csrf, sign_in, signed_in_account

router = APIRouter(include_in_schema=False)

STATE_TEXT = {
    StateProblem.MISSING: "Stripe sent you back without the security token of this sign-in.",
    StateProblem.UNKNOWN: "This sign-in link was not started here, or was tampered with.",
    StateProblem.EXPIRED: "This sign-in link expired (links are valid for 10 minutes).",
    StateProblem.REUSED: "This sign-in link was already used.",
    StateProblem.FOREIGN: "This sign-in was started in another browser.",
}
GRANT_TEXT = {
    "invalid_grant": "Stripe says this authorization code expired or was already used.",
    "invalid_client": "Stripe does not recognise this application's credentials.",
    "invalid_scope": "Stripe refused the access level this application asked for.",
}


@router.post("/connect")
async def connect(
    request: Request,
    *,
    database: DatabaseDep,
    clients: ClientsDep,
    settings: SettingsDep,
    csrf_token: Annotated[str | None, Form()] = None,
    email: Annotated[str | None, Form(max_length=254)] = None,
) -> RedirectResponse:
    """Send the browser to Stripe's consent page with a fresh state bound to it."""
    check_csrf(request, csrf_token)
    try:
        await run_in_threadpool(
            check_can_connect,
            database,
            settings.billing,
            signed_in=signed_in_account(request),
            now=int(time.time()),
        )
    except NotEntitled as refused:
        raise HTTPException(403, str(refused)) from None
    url = await run_in_threadpool(
        begin_connection,
        database,
        clients,
        settings,
        browser_id=browser_id(request),
        email=(email or "").strip() or None,
    )
    return RedirectResponse(url, status_code=303)


@router.get("/oauth/callback", response_class=HTMLResponse, response_model=None)
async def callback(
    request: Request,
    *,
    database: DatabaseDep,
    clients: ClientsDep,
    templates: TemplatesDep,
    queue: QueueDep,
    settings: SettingsDep,
) -> HTMLResponse | RedirectResponse:
    """Finish the Connect flow and sign the browser in to the connected account's workspace."""
    query = request.query_params
    if query.get("error"):
        denied = query.get("error") == "access_denied"
        return message(
            templates,
            request,
            heading="Not connected" if denied else "Stripe reported a problem",
            text=(
                "You chose not to connect your Stripe account. Nothing was stored."
                if denied
                else f"Stripe answered: {query.get('error_description') or query.get('error')}."
            ),
            status=200 if denied else 400,
            retry=True,
            tone="warn" if denied else "error",
        )
    code = query.get("code")
    if not code:
        return message(
            templates,
            request,
            heading="Sign-in failed",
            text="Stripe sent you back without an authorization code.",
            status=400,
            retry=True,
        )
    try:
        account = await run_in_threadpool(
            complete_connection,
            database,
            clients,
            state=query.get("state"),
            code=code,
            browser_id=request.session.get("browser"),
        )
    except StateRefused as refused:
        return message(
            templates,
            request,
            heading="Sign-in refused",
            text=STATE_TEXT[refused.problem] + " Nothing was stored; start again.",
            status=400,
            retry=True,
        )
    except OAuthFailed as failed:
        text = GRANT_TEXT.get(failed.code, f"Stripe refused the connection ({failed.code}).")
        return message(
            templates,
            request,
            heading="Sign-in failed",
            text=f"{text} Nothing was stored; start again.",
            status=400,
            retry=True,
        )
    previous = signed_in_account(request)
    sign_in(request, account.id)
    await run_in_threadpool(queue.enqueue, sync_account, account_id=account.id)
    landing, notice = await run_in_threadpool(
        after_connect,
        database,
        settings.billing,
        account_id=account.id,
        signed_in=previous,
        now=int(time.time()),
    )
    if notice:
        landing += "?" + urlencode({"notice": notice})
    return RedirectResponse(landing, status_code=303)
