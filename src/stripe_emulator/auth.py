"""API key authentication and `Stripe-Account` scoping, with Stripe's error messages."""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from stripe_emulator.errors import ApiError
from stripe_emulator.http_types import Request
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
PUBLISHABLE = (
    "This API call cannot be made with a publishable API key. Please use a secret API key. You "
    "can find a list of your API keys at https://dashboard.stripe.com/account/apikeys."
)
NOT_PLATFORM = (
    "Only Stripe Connect platforms can work with other accounts. If you specified a client_id "
    "parameter, make sure it's correct. If you're trying to make a request on behalf of another "
    "account, make sure the account ID is correct."
)


def mask_key(key: str) -> str:
    """Return a key as Stripe echoes it: prefix, asterisks, last four characters."""
    prefix_end = key.find("_", key.find("_") + 1) + 1 if key.count("_") >= 2 else 0
    if len(key) <= prefix_end + 4:
        return key[:prefix_end] + "*" * max(0, len(key) - prefix_end)
    return key[:prefix_end] + "*" * (len(key) - prefix_end - 4) + key[-4:]


def bearer_key(request: Request) -> str | None:
    """Extract the API key from Bearer or Basic (`sk_…:`) authorization."""
    header = request.header("authorization")
    if not header:
        return None
    kind, _, value = header.strip().partition(" ")
    value = value.strip()
    if kind.lower() == "bearer":
        return value or None
    if kind.lower() == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[0] or None
    return None


def authenticate(emulator: Emulator, request: Request) -> tuple[str, bool, str]:
    """Return (account id, livemode, key) for the request or raise Stripe's 401."""
    key = bearer_key(request)
    if key is None:
        raise ApiError(401, NO_KEY)
    if key.startswith(("pk_test_", "pk_live_")):
        raise ApiError(401, PUBLISHABLE, code="secret_key_required")
    found = emulator.resolve_key(key)
    if found is None:
        raise ApiError(401, f"Invalid API Key provided: {mask_key(key)}")
    account, livemode = found
    return account, livemode, key


def acting_scope(
    emulator: Emulator, request: Request, account: str, livemode: bool, key: str
) -> tuple[Scope, bool]:
    """Apply `Stripe-Account`: return the scope to act in and whether it is a connected account."""
    wanted = (request.header("stripe-account") or "").strip()
    if not wanted or wanted == account:
        return Scope(account, livemode), False
    if account != emulator.platform.account_id:
        raise ApiError(403, NOT_PLATFORM)
    if not emulator.connections.is_active(wanted, livemode=livemode):
        raise ApiError(
            403,
            f"The provided key '{mask_key(key)}' does not have access to account '{wanted}' "
            "(or that account does not exist). Application access may have been revoked.",
            code="account_invalid",
        )
    return Scope(wanted, livemode), True
