"""Idempotency keys: replay the first response for the same key and parameters."""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from stripe_emulator.errors import ApiError, invalid
from stripe_emulator.forms import Form
from stripe_emulator.store import Scope, Store

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class Saved:
    """A remembered response."""

    fingerprint: str
    status: int
    request_id: str
    body: bytes


def fingerprint(method: str, path: str, form: Form) -> str:
    """Return a canonical description of a request to compare retries against."""
    return f"{method} {path} " + orjson.dumps(form, option=orjson.OPT_SORT_KEYS).decode()


def check_key(key: str) -> None:
    """Reject keys Stripe would refuse."""
    if len(key) > MAX_KEY_LENGTH:
        raise invalid(
            f"Invalid Idempotency-Key: must be at most {MAX_KEY_LENGTH} characters long.",
            param="Idempotency-Key",
        )


def lookup(store: Store, scope: Scope, key: str) -> Saved | None:
    """Return the saved response for a key in this account and mode."""
    rows = store.execute(
        "SELECT fingerprint, status, request_id, body FROM idempotency"
        " WHERE account=? AND livemode=? AND key=?",
        (scope.account, scope.livemode, key),
    )
    return Saved(rows[0][0], rows[0][1], rows[0][2], rows[0][3]) if rows else None


def mismatch(key: str) -> ApiError:
    """Return Stripe's error for a key reused with different parameters."""
    return ApiError(
        400,
        "Keys for idempotent requests can only be used with the same parameters they were first "
        f"used with. Try using a key other than '{key}' if you meant to execute a different "
        "request.",
        type_="idempotency_error",
        saved=False,
    )


def remember(store: Store, scope: Scope, key: str, saved: Saved, now: int) -> None:
    """Save a response under a key (first writer wins)."""
    store.execute(
        "INSERT OR IGNORE INTO idempotency (account, livemode, key, fingerprint, status,"
        " request_id, body, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            scope.account,
            scope.livemode,
            key,
            saved.fingerprint,
            saved.status,
            saved.request_id,
            saved.body,
            now,
        ),
    )
