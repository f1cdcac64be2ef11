"""Dispatch of the Connect host's paths (served on the emulator's single origin)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from stripe_emulator.errors import ApiError
from stripe_emulator.forms import Form, parse_form
from stripe_emulator.http_types import Request, Response
from stripe_emulator.oauth.authorize import emulator_branding, show_consent
from stripe_emulator.oauth.decisions import decide, revoke_access
from stripe_emulator.oauth.pages import applications_page, error_page
from stripe_emulator.oauth.responses import OAuthError, html_response, json_response, redirect
from stripe_emulator.oauth.token import deauthorize, exchange

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

OAUTH_PREFIXES = ("/oauth/", "/express/oauth/", "/dashboard/")
_APPS = re.compile(r"^/dashboard/(acct_[A-Za-z0-9]+)/applications$")
_REVOKE = re.compile(r"^/dashboard/(acct_[A-Za-z0-9]+)/applications/(ca_[A-Za-z0-9]+)/revoke$")


def is_connect_path(path: str) -> bool:
    """Whether the path belongs to the Connect host rather than the API."""
    return path.startswith(OAUTH_PREFIXES)


def handle_connect(emulator: Emulator, request: Request, request_id: str) -> Response:
    """Answer a Connect-host request; never raises."""
    try:
        form = _form(request)
    except ApiError:
        return html_response(400, error_page("The request could not be decoded."), request_id)
    route = (request.method, request.path.removeprefix("/express"))
    try:
        if route == ("GET", "/oauth/authorize"):
            return show_consent(emulator, form, request_id)
        if route == ("POST", "/oauth/authorize"):
            return decide(emulator, form, request_id)
        if route == ("POST", "/oauth/token"):
            result = _exchange(emulator, request, form)
        elif route == ("POST", "/oauth/deauthorize"):
            result = deauthorize(emulator, request, form, request_id)
        else:
            return _dashboard(emulator, request, request_id)
    except OAuthError as error:
        return error.response(request_id)
    return json_response(200, result, request_id)


def _exchange(emulator: Emulator, request: Request, form: Form) -> dict[str, object]:
    """Run a token grant; a refused grant still commits what it revoked (a reused code)."""
    failure: OAuthError | None = None
    with emulator.store.transaction():
        try:
            result = exchange(emulator, request, form)
        except OAuthError as error:
            failure = error
    if failure is not None:
        raise failure
    return result


def _dashboard(emulator: Emulator, request: Request, request_id: str) -> Response:
    """The connected account's side: see authorized applications and revoke one."""
    found = _APPS.match(request.path)
    if found and request.method == "GET":
        account_id = found.group(1)
        connection = emulator.connections.get(account_id, livemode=False)
        name, _icon = emulator_branding(emulator)
        apps = []
        if connection is not None and connection.active:
            apps.append((emulator.platform.client_id, name, connection.scope))
        return html_response(200, applications_page(account_id, apps), request_id)
    found = _REVOKE.match(request.path)
    if found and request.method == "POST":
        account_id, client_id = found.groups()
        if client_id == emulator.platform.client_id:
            revoke_access(emulator, account_id, False, request_id)
        return redirect(f"/dashboard/{account_id}/applications", {}, request_id)
    return html_response(404, error_page("There is no page at this address."), request_id)


def _form(request: Request) -> Form:
    form = parse_form(request.query) if request.query else {}
    if request.method == "POST" and request.body:
        form.update(parse_form(request.body))
    return form
