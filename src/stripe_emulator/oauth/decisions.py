"""What changes a connection: a person's decision, a token exchange, and either side revoking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.forms import Form
from stripe_emulator.http_types import Response
from stripe_emulator.oauth.authorize import DENIED, PREFILL_KEYS, checked
from stripe_emulator.oauth.notify import announce_application
from stripe_emulator.oauth.pages import error_page
from stripe_emulator.oauth.responses import html_response, redirect
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

AUTHORIZED = "account.application.authorized"
DEAUTHORIZED = "account.application.deauthorized"


def decide(emulator: Emulator, form: Form, request_id: str) -> Response:
    """POST: allow (connect the chosen or a new account, redirect with a code) or deny."""
    request = checked(emulator, form, request_id)
    if isinstance(request, Response):
        return request
    decision = form.get("decision")
    if decision == "deny":
        params = {"error": "access_denied", "error_description": DENIED, "state": request.state}
        return redirect(request.redirect_uri, params, request_id)
    if decision != "allow":
        return html_response(400, error_page("Choose to connect or to deny access."), request_id)
    choice = form.get("account")
    now = emulator.clock.now()
    with emulator.store.transaction():
        if choice == "new":
            account_id = _create_account(emulator, form, request.livemode, now)
        elif isinstance(choice, str) and _account_exists(emulator, choice, request.livemode):
            account_id = choice
        else:
            return html_response(400, error_page("Choose an account to connect."), request_id)
        emulator.connections.connect(
            account_id, livemode=request.livemode, scope=request.scope, now=now
        )
        code = emulator.oauth_grants.issue_code(
            account=account_id,
            scope=request.scope,
            livemode=request.livemode,
            redirect_uri=request.redirect_uri,
            now=now,
        )
        announce_application(emulator, AUTHORIZED, account_id, request.livemode, request_id)
    params = {"code": code, "scope": request.scope, "state": request.state}
    return redirect(request.redirect_uri, params, request_id)


def _account_exists(emulator: Emulator, account_id: str, livemode: bool) -> bool:
    row = emulator.store.get(Scope(emulator.platform.account_id, livemode), "account", account_id)
    return row is not None and not row.deleted


def _create_account(emulator: Emulator, form: Form, livemode: bool, now: int) -> str:
    """Create a Standard account from the page's prefill fields."""
    from stripe_emulator.resources.accounts import ACCOUNT, account_object

    user = form.get("stripe_user")
    prefill = (
        {k: v for k, v in user.items() if isinstance(v, str) and v and k in PREFILL_KEYS}
        if isinstance(user, dict)
        else {}
    )
    params: dict[str, object] = {"type": "standard"}
    if "email" in prefill:
        params["email"] = prefill["email"]
    if "country" in prefill and len(prefill["country"]) == 2:
        params["country"] = prefill["country"].upper()
    if "business_name" in prefill or "url" in prefill:
        params["business_profile"] = {
            k: prefill[src]
            for k, src in (("name", "business_name"), ("url", "url"))
            if src in prefill
        }
    account_id = emulator.ids.make("acct", 16)
    account = account_object(now, account_id, livemode=livemode, params=params)
    scope = Scope(emulator.platform.account_id, livemode)
    emulator.store.insert(scope, ACCOUNT.stored_as, account, ACCOUNT.slots(account))
    return account_id


def revoke_access(emulator: Emulator, account_id: str, livemode: bool, request_id: str) -> bool:
    """Disconnect an account from the platform (either side); return whether it was connected."""
    with emulator.store.transaction():
        was_active = emulator.connections.revoke(
            account_id, livemode=livemode, now=emulator.clock.now()
        )
        emulator.oauth_grants.revoke(account=account_id)
        if was_active:
            announce_application(emulator, DEAUTHORIZED, account_id, livemode, request_id)
    return was_active
