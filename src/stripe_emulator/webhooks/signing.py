"""The `Stripe-Signature` header, computed exactly as Stripe computes it.

`v1` is the lowercase hex HMAC-SHA256 of `f"{t}.{raw_body}"`, keyed by the whole `whsec_…`
string; there is one `v1` per secret that is still valid (while a secret is being rolled).
Test-mode deliveries also carry a `v0`, which verifiers must ignore: Stripe's own v0 scheme is
not published, so the emulator sends an HMAC keyed by a fixed constant that is never an
endpoint secret, which can therefore never pass as a `v1`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

# The key of the fake `v0` signature; no `whsec_…` secret can equal it.
V0_KEY = b"stripe_emulator fake v0 scheme"


def signed_payload(timestamp: int, payload: bytes) -> bytes:
    """Return the bytes that are signed: the timestamp, a dot, and the raw body."""
    return str(timestamp).encode() + b"." + payload


def compute_signature(secret: str, timestamp: int, payload: bytes) -> str:
    """Return the `v1` signature of a payload for one secret."""
    message = signed_payload(timestamp, payload)
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def fake_v0(timestamp: int, payload: bytes) -> str:
    """Return the test-mode `v0` value (looks like a signature, is never a valid `v1`)."""
    return hmac.new(V0_KEY, signed_payload(timestamp, payload), hashlib.sha256).hexdigest()


def signature_header(
    payload: bytes, timestamp: int, secrets: Sequence[str], *, livemode: bool
) -> str:
    """Return the header value: `t=…,v1=…[,v1=…][,v0=…]`, without spaces."""
    parts = [f"t={timestamp}"]
    parts.extend(f"v1={compute_signature(secret, timestamp, payload)}" for secret in secrets)
    if not livemode:
        parts.append(f"v0={fake_v0(timestamp, payload)}")
    return ",".join(parts)
