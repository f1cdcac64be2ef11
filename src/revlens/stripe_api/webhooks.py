"""Webhook signature verification against every configured secret (secrets can be rolled)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from typing import Any

import orjson

DEFAULT_TOLERANCE_S = 300
NO_MATCH = "no signature matches any configured secret"
NO_SECRET = "no webhook secret is configured"  # noqa: S105 (a message, not a secret)


class WebhookRejected(ValueError):
    """The webhook is not from Stripe (signature, timestamp) or not an event; says which."""


def verify_webhook(
    payload: bytes,
    signature_header: str | None,
    secrets: Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE_S,
    now: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Return the event in a verified payload, or raise WebhookRejected saying what is wrong."""
    if not secrets:
        raise WebhookRejected(NO_SECRET)
    if not signature_header:
        raise WebhookRejected("missing Stripe-Signature header")
    timestamp = _timestamp(signature_header)
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected("payload is not UTF-8") from None
    if not _signed_by_any(payload, signature_header, secrets):
        raise WebhookRejected(NO_MATCH)
    if timestamp < now() - tolerance:
        raise WebhookRejected(f"timestamp {timestamp} is older than {tolerance} s")
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise WebhookRejected(f"payload is not JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(event, dict) or event.get("object") != "event" or "id" not in event:
        raise WebhookRejected("payload is not a Stripe event")
    return event


def _signed_by_any(payload: bytes, header: str, secrets: Sequence[str]) -> bool:
    """Check the v1 signatures as `stripe.WebhookSignature.verify_header` does (tolerance off).

    The same parsing and HMAC, on the raw bytes: the SDK's round trip through `str` cost more
    than the HMAC itself on every delivery (bench/webhook_ingest.py); tests/webhooks holds the
    two to the same answers.
    """
    items = [item.split("=", 2) for item in header.split(",")]
    try:
        # As the SDK reads it: any "t" or "v1" without a value spoils the header, and the
        # timestamp is signed as the int it parses to ("t=01" signs "1.{payload}").
        stamps = [item[1] for item in items if item[0] == "t"]
        timestamp = int(stamps[0])
        signatures = [item[1].encode() for item in items if item[0] == "v1"]
    except (IndexError, ValueError):
        return False
    if not signatures:
        return False
    signed = b"%d.%s" % (timestamp, payload)
    for secret in secrets:
        if not secret:
            continue
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest().encode()
        if any(hmac.compare_digest(expected, signature) for signature in signatures):
            return True
    return False


def _timestamp(header: str) -> int:
    for item in header.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "t":
            try:
                return int(value)
            except ValueError:
                break
    raise WebhookRejected("Stripe-Signature has no valid timestamp")


def sign_payload(payload: bytes, secret: str, *, timestamp: int) -> str:
    """Return a Stripe-Signature header for a payload (used to replay stored events in tests)."""
    signed = str(timestamp).encode() + b"." + payload
    return f"t={timestamp},v1={hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()}"
