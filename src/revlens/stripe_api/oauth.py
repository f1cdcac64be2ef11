"""Connect OAuth through the SDK: the authorize URL, the code exchange and deauthorization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe
from stripe import oauth_error

from revlens.stripe_api.client import StripeClients


@dataclass(frozen=True)
class TokenGrant:
    """What revlens keeps of a token exchange: never the tokens themselves."""

    account_id: str
    scope: str
    livemode: bool


class OAuthFailed(Exception):
    """Stripe refused an OAuth request; `code` is Stripe's error string."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


def authorize_url(
    clients: StripeClients, *, state: str, scope: str, redirect_uri: str, email: str | None
) -> str:
    """Return the URL of Stripe's consent page for this authorization."""
    params: dict[str, Any] = {
        "response_type": "code",
        "scope": scope,
        "state": state,
        "redirect_uri": redirect_uri,
    }
    if email:
        params["stripe_user"] = {"email": email}
    return clients.platform().oauth.authorize_url(params)  # type: ignore[arg-type]


def exchange_code(clients: StripeClients, code: str) -> TokenGrant:
    """Redeem an authorization code; raise OAuthFailed with Stripe's reason when refused."""
    try:
        token = clients.platform().oauth.token({"grant_type": "authorization_code", "code": code})
    except oauth_error.OAuthError as error:
        raise OAuthFailed(str(error.code), _description(error)) from None
    return TokenGrant(
        account_id=str(token.stripe_user_id),
        scope=str(token.scope),
        livemode=bool(token.livemode),
    )


def deauthorize(clients: StripeClients, account_id: str) -> bool:
    """Disconnect the account from the platform; False when it was no longer connected."""
    try:
        clients.platform().oauth.deauthorize({"stripe_user_id": account_id})
    except oauth_error.InvalidClientError:
        return False
    finally:
        clients.forget(account_id)
    return True


def account_display_name(clients: StripeClients, account_id: str) -> str:
    """Return the name the account shows in its Stripe dashboard (or its id)."""
    account = clients.for_account(account_id).v1.accounts.retrieve_current()
    settings = account.settings
    dashboard = settings.dashboard if settings is not None else None
    profile = account.business_profile
    name = (dashboard.display_name if dashboard is not None else None) or (
        profile.name if profile is not None else None
    )
    return str(name or account.email or account.id)


def _description(error: stripe.StripeError) -> str:
    message = str(error.user_message or error)
    # The SDK prefixes "Request req_…: "; people need only Stripe's sentence.
    return message.split(": ", 1)[1] if message.startswith("Request req_") else message
