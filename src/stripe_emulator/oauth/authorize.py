"""`/oauth/authorize`: the consent page (GET) and the person's decision (POST)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from stripe_emulator.forms import Form
from stripe_emulator.http_types import Response
from stripe_emulator.oauth.grants import SCOPES
from stripe_emulator.oauth.pages import AccountChoice, consent_page, error_page
from stripe_emulator.oauth.responses import html_response, redirect
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

DENIED = "The user denied your request"
PREFILL_KEYS = ("email", "business_name", "country", "url")
ACCOUNT_LIST_LIMIT = 1000


class PageError(Exception):
    """A problem shown on an error page: never redirected, the redirect URI is not trusted."""


@dataclass(frozen=True)
class AuthorizeRequest:
    """The validated parameters of an authorize request."""

    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    response_type: str
    livemode: bool


def _text(form: Form, key: str) -> str | None:
    value = form.get(key)
    return value if isinstance(value, str) else None


def validate(emulator: Emulator, form: Form) -> AuthorizeRequest:
    """Check client and redirect URI (errors shown as a page); the rest is checked by callers."""
    client_id = _text(form, "client_id")
    platform = emulator.platform
    if not client_id:
        raise PageError("Missing required parameter: client_id.")
    if client_id != platform.client_id:
        raise PageError(f"No application matches the supplied client identifier: {client_id}")
    registered = platform.redirect_uris
    redirect_uri = _text(form, "redirect_uri")
    if redirect_uri is None:
        if not registered:
            raise PageError("This application has no redirect URI configured.")
        redirect_uri = registered[0]
    elif redirect_uri not in registered:
        raise PageError(
            f"Invalid redirect URI '{redirect_uri}'. Ensure this uri exactly matches one of the "
            "uris specified in your application settings."
        )
    return AuthorizeRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=_text(form, "scope") or "read_only",
        state=_text(form, "state"),
        response_type=_text(form, "response_type") or "",
        livemode=False,  # the platform's client_id is a test-mode client_id
    )


def _redirect_error(request: AuthorizeRequest) -> tuple[str, str] | None:
    if request.response_type != "code":
        return (
            "unsupported_response_type",
            f"Only 'code' response_type is supported, but '{request.response_type}' was provided",
        )
    if request.scope not in SCOPES:
        return "invalid_scope", f"Invalid scope provided: {request.scope}."
    return None


def connectable_accounts(emulator: Emulator, livemode: bool) -> list[AccountChoice]:
    """Return the accounts a person may pick, newest first."""
    scope = Scope(emulator.platform.account_id, livemode)
    page = emulator.store.list_page(scope, "account", limit=ACCOUNT_LIST_LIMIT)
    return [
        AccountChoice(
            id=row.id,
            name=display_name(row.load()),
            connected=emulator.connections.is_active(row.id, livemode=livemode),
        )
        for row in page.rows
    ]


def display_name(account: dict[str, Any]) -> str:
    """Return the name Stripe's dashboard shows for an account."""
    settings = account.get("settings") or {}
    profile = account.get("business_profile") or {}
    name = (settings.get("dashboard") or {}).get("display_name") or profile.get("name")
    return str(name or account.get("email") or account["id"])


def checked(emulator: Emulator, form: Form, request_id: str) -> AuthorizeRequest | Response:
    """Validate an authorize request, or return the response that refuses it.

    A bad client or redirect URI is shown as a page (the redirect URI is not trusted); a bad
    scope or response type goes back to the (valid) redirect URI as an OAuth error.
    """
    try:
        request = validate(emulator, form)
    except PageError as problem:
        return html_response(400, error_page(str(problem)), request_id)
    failure = _redirect_error(request)
    if failure is not None:
        error, description = failure
        params = {"error": error, "error_description": description, "state": request.state}
        return redirect(request.redirect_uri, params, request_id)
    return request


def show_consent(emulator: Emulator, form: Form, request_id: str) -> Response:
    """GET: render the consent page, or explain why not."""
    request = checked(emulator, form, request_id)
    if isinstance(request, Response):
        return request
    user = form.get("stripe_user")
    prefill = (
        {k: v for k, v in user.items() if isinstance(v, str) and k in PREFILL_KEYS}
        if isinstance(user, dict)
        else {}
    )
    name, icon = emulator_branding(emulator)
    hidden = {
        "client_id": request.client_id,
        "redirect_uri": request.redirect_uri,
        "scope": request.scope,
        "state": request.state or "",
        "response_type": request.response_type,
    }
    page = consent_page(
        platform_name=name,
        platform_icon=icon,
        hidden=hidden,
        accounts=connectable_accounts(emulator, request.livemode),
        prefill=prefill,
        scope=request.scope,
    )
    return html_response(200, page, request_id)


BRANDING_KEY = "platform_branding"


def emulator_branding(emulator: Emulator) -> tuple[str, str | None]:
    """Return the platform's name and icon: set through the control API, else the config's."""
    stored = emulator.store.meta_get(BRANDING_KEY)
    branding = orjson.loads(stored) if stored else {}
    name = branding.get("name") or emulator.config.platform_name or "Example platform"
    return str(name), branding.get("icon") or emulator.config.platform_icon


def set_branding(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /_emulator/platform/branding` with `name` and/or `icon` (an http(s) or data: URL)."""
    unknown = set(body) - {"name", "icon"}
    if unknown:
        raise ValueError(f"unknown branding fields: {', '.join(sorted(unknown))}")
    name, icon = body.get("name"), body.get("icon")
    if name is not None and (not isinstance(name, str) or not 0 < len(name) <= 80):
        raise ValueError("name must be 1 to 80 characters")
    if icon is not None and (
        not isinstance(icon, str) or not icon.startswith(("http://", "https://", "data:image/"))
    ):
        raise ValueError("icon must be an http(s) or data:image/ URL")
    current_name, current_icon = emulator_branding(emulator)
    branding = {"name": name or current_name, "icon": icon or current_icon}
    emulator.store.meta_set(BRANDING_KEY, orjson.dumps(branding).decode())
    return branding
