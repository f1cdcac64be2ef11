"""Browser sessions: a signed cookie holding the browser's id, its workspace and a CSRF token."""

from __future__ import annotations

import hmac
import secrets

from fastapi import HTTPException, Request

BROWSER = "browser"
ACCOUNT = "account"
CSRF = "csrf"
ADMIN = "admin"
SESSION_COOKIE = "revlens_session"
SESSION_MAX_AGE_S = 14 * 24 * 3600


def browser_id(request: Request) -> str:
    """Return this browser's random id, creating it on first use."""
    value = request.session.get(BROWSER)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(24)
        request.session[BROWSER] = value
    return value


def csrf_token(request: Request) -> str:
    """Return the session's CSRF token, creating it on first use."""
    value = request.session.get(CSRF)
    if not isinstance(value, str):
        value = secrets.token_urlsafe(32)
        request.session[CSRF] = value
    return value


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing form whose token is not this session's."""
    expected = request.session.get(CSRF)
    if not isinstance(expected, str) or not submitted:
        raise HTTPException(status_code=403, detail="The form expired. Reload the page and retry.")
    if not hmac.compare_digest(expected, submitted):
        raise HTTPException(status_code=403, detail="The form expired. Reload the page and retry.")


def signed_in_account(request: Request) -> str | None:
    """Return the workspace this browser is signed in to, if any."""
    value = request.session.get(ACCOUNT)
    return value if isinstance(value, str) else None


def sign_in(request: Request, account_id: str) -> None:
    """Attach the browser to a workspace; a fresh CSRF token comes with the new identity."""
    request.session[ACCOUNT] = account_id
    request.session[CSRF] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    """Forget everything the session held."""
    request.session.clear()
