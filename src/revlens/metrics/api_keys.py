"""API keys that read one account's metrics: shown once, stored as a SHA-256 only."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from revlens.metrics.models import ApiKey

PREFIX = "rlk_"
SHOWN = 12  # characters kept in clear so that a key can be recognised in the list
TOUCH_EVERY = timedelta(hours=1)


def token_hash(token: str) -> str:
    """Return the hex SHA-256 of a token (keys are random: no salt or stretching needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(
    session: Session, *, account_id: str, name: str, now: datetime
) -> tuple[ApiKey, str]:
    """Create a key for the account; return the row and the token, which is never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        account_id=account_id,
        name=name.strip()[:100] or "API key",
        prefix=token[:SHOWN],
        token_hash=token_hash(token),
        created_at=now,
    )
    session.add(key)
    session.flush()
    return key, token


def list_api_keys(session: Session, *, account_id: str) -> list[ApiKey]:
    """Return the account's keys, newest first."""
    query = (
        select(ApiKey)
        .where(ApiKey.account_id == account_id)
        .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
    )
    return list(session.scalars(query))


def revoke_api_key(session: Session, *, account_id: str, key_id: int) -> bool:
    """Delete one of the account's keys; False when it has no such key."""
    result = session.execute(
        delete(ApiKey).where(ApiKey.account_id == account_id, ApiKey.id == key_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def account_of_token(session: Session, *, token: str, now: datetime) -> str | None:
    """Return the account a key reads, noting (hourly at most) that it was used."""
    if not token.startswith(PREFIX):
        return None
    key = session.scalars(select(ApiKey).where(ApiKey.token_hash == token_hash(token))).first()
    if key is None:
        return None
    if key.last_used_at is None or now - key.last_used_at > TOUCH_EVERY:
        key.last_used_at = now
    return key.account_id
