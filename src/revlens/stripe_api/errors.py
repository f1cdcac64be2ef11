"""The Stripe error policy, closed by default: named cases map to a verdict, the rest is raised."""

from __future__ import annotations

import enum

import stripe

# What other packages catch: they never import `stripe` themselves.
StripeError = stripe.StripeError


class Verdict(enum.Enum):
    """What the caller does about a Stripe error."""

    GONE = "gone"  # the object no longer exists: tombstone it
    RETRY = "retry"  # transient: try again later, with backoff
    ACCOUNT_REVOKED = "account_revoked"  # the connection is gone: start deauthorization
    NOT_PERMITTED = "not_permitted"  # this key or scope may not read it: a visible coverage gap


def classify(error: stripe.StripeError) -> Verdict:
    """Return the verdict for a named case; raise the error itself for anything else."""
    verdict = _verdict(error, _code(error), error.http_status or 0, _should_retry(error))
    if verdict is None:
        raise error
    return verdict


def _verdict(
    error: stripe.StripeError, code: str | None, status: int, should_retry: bool | None
) -> Verdict | None:
    if code == "account_invalid":
        # Stripe answers 403 (PermissionError) or 401 for revoked or unknown accounts.
        return Verdict.ACCOUNT_REVOKED
    transient = (
        isinstance(error, stripe.RateLimitError | stripe.APIConnectionError)
        or code in ("rate_limit", "lock_timeout")
        or (status >= 500 and should_retry is not False)
        or (status == 409 and should_retry is True)
    )
    if transient:
        return Verdict.RETRY
    if isinstance(error, stripe.InvalidRequestError) and (
        code == "resource_missing" or (status == 404 and code is None)
    ):
        # A missing object, or an endpoint this account or API version does not have.
        return Verdict.GONE
    if isinstance(error, stripe.PermissionError):
        return Verdict.NOT_PERMITTED
    return None


def retry_after_hint(error: stripe.StripeError) -> bool | None:
    """Return Stripe's `Stripe-Should-Retry` advice when it gave one."""
    return _should_retry(error)


def _code(error: stripe.StripeError) -> str | None:
    # stripe-python leaves `error.code` None for some statuses; the envelope always has it.
    if error.code:
        return str(error.code)
    body = error.error
    return str(body.code) if body is not None and body.code else None


def _should_retry(error: stripe.StripeError) -> bool | None:
    headers = error.headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "stripe-should-retry"), None)
    if value is None:
        return None
    return str(value).lower() == "true"
