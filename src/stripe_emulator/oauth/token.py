"""`POST /oauth/token` and `POST /oauth/deauthorize`, with OAuth's own error format."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.auth import bearer_key
from stripe_emulator.forms import Form
from stripe_emulator.http_types import Request
from stripe_emulator.oauth.decisions import revoke_access
from stripe_emulator.oauth.grants import CODE_LIFETIME_S, SCOPES, Grant, scope_covers
from stripe_emulator.oauth.responses import OAuthError

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

NO_AUTH = (
    "No authentication was provided. Send your secret API key using the Authorization header, "
    "or as a client_secret POST parameter."
)
REUSED = (
    "This authorization code has already been used. All tokens issued with this code have been "
    "revoked."
)


def _text(form: Form, key: str) -> str | None:
    value = form.get(key)
    return value if isinstance(value, str) and value else None


def platform_mode(emulator: Emulator, request: Request, form: Form) -> bool:
    """Authenticate the platform by secret key (header or client_secret); return its livemode."""
    key = bearer_key(request) or _text(form, "client_secret")
    if key is None:
        raise OAuthError("invalid_client", NO_AUTH)
    platform = emulator.platform
    if key == platform.secret_key_test:
        return False
    if key == platform.secret_key_live:
        return True
    raise OAuthError("invalid_client", f"Invalid API Key provided: {key[:8]}…")


def exchange(emulator: Emulator, request: Request, form: Form) -> dict[str, Any]:
    """Run a token grant and return the seven response fields."""
    livemode = platform_mode(emulator, request, form)
    grant_type = _text(form, "grant_type")
    if grant_type is None:
        raise OAuthError("invalid_request", "No grant type specified")
    if grant_type == "authorization_code":
        grant = _from_code(emulator, form, livemode)
    elif grant_type == "refresh_token":
        grant = _from_refresh_token(emulator, form, livemode)
    else:
        raise OAuthError("unsupported_grant_type", f"Unsupported grant type: {grant_type}")
    mode = "live" if grant.livemode else "test"
    publishable = emulator.platform.publishable_key_live if grant.livemode else None
    return {
        "access_token": grant.access_token,
        "livemode": grant.livemode,
        "refresh_token": grant.refresh_token,
        "scope": grant.scope,
        "stripe_publishable_key": publishable or f"pk_{mode}_{grant.account[5:]}",
        "stripe_user_id": grant.account,
        "token_type": "bearer",
    }


def _from_code(emulator: Emulator, form: Form, livemode: bool) -> Grant:
    code = _text(form, "code")
    if code is None:
        raise OAuthError("invalid_request", "No authorization code provided")
    record = emulator.oauth_grants.code(code)
    if record is None:
        raise OAuthError("invalid_grant", f"Authorization code does not exist: {code}")
    if record["livemode"] != livemode:
        mode = "live" if record["livemode"] else "test"
        raise OAuthError("invalid_grant", f"Authorization code provided is a {mode} mode code")
    if record["used"]:
        emulator.oauth_grants.revoke(code=code)
        raise OAuthError("invalid_grant", REUSED)
    if emulator.clock.now() - record["created"] > CODE_LIFETIME_S:
        raise OAuthError("invalid_grant", f"Authorization code expired: {code}")
    if not emulator.connections.is_active(record["account"], livemode=livemode):
        raise OAuthError("invalid_grant", "The account was disconnected after this code was issued")
    emulator.oauth_grants.mark_code_used(record)
    return emulator.oauth_grants.issue(
        account=record["account"],
        scope=record["scope"],
        livemode=livemode,
        code=code,
        now=emulator.clock.now(),
    )


def _from_refresh_token(emulator: Emulator, form: Form, livemode: bool) -> Grant:
    token = _text(form, "refresh_token")
    if token is None:
        raise OAuthError("invalid_request", "No refresh token provided")
    found = emulator.oauth_grants.by_refresh_token(token)
    if found is None or found.revoked or found.livemode != livemode:
        raise OAuthError("invalid_grant", f"Refresh token does not exist: {token}")
    if not emulator.connections.is_active(found.account, livemode=livemode):
        raise OAuthError("invalid_grant", f"Refresh token does not exist: {token}")
    scope = _text(form, "scope") or found.scope
    if scope not in SCOPES or not scope_covers(found.scope, scope):
        raise OAuthError("invalid_scope", f"Invalid scope provided: {scope}.")
    return emulator.oauth_grants.issue(
        account=found.account, scope=scope, livemode=livemode, code=None, now=emulator.clock.now()
    )


def deauthorize(
    emulator: Emulator, request: Request, form: Form, request_id: str
) -> dict[str, Any]:
    """Disconnect an account at the platform's request."""
    livemode = platform_mode(emulator, request, form)
    client_id = _text(form, "client_id")
    if client_id is None:
        raise OAuthError("invalid_request", "No client_id provided")
    if client_id != emulator.platform.client_id:
        raise OAuthError("invalid_client", f"No such application: '{client_id}'")
    account_id = _text(form, "stripe_user_id")
    if account_id is None:
        raise OAuthError("invalid_request", "No stripe_user_id provided")
    if not revoke_access(emulator, account_id, livemode, request_id):
        raise OAuthError(
            "invalid_client", f"Stripe account {account_id} is not connected to your application"
        )
    return {"stripe_user_id": account_id}
