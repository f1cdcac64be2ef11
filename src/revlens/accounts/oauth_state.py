"""OAuth `state`: random, single-use, bound to the browser session, valid for 10 minutes."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from revlens.accounts.models import OAuthState

STATE_LIFETIME = timedelta(minutes=10)


class StateProblem(enum.Enum):
    """Why a returned state is refused; each has its own explanation page."""

    MISSING = "missing"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REUSED = "reused"
    FOREIGN = "foreign"


class StateRefused(Exception):
    """The state that came back cannot be accepted."""

    def __init__(self, problem: StateProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def issue_state(session: Session, *, browser_id: str, scope: str, now: datetime) -> str:
    """Create a state for this browser and return it (only its hash is stored)."""
    session.execute(delete(OAuthState).where(OAuthState.expires_at < now - STATE_LIFETIME))
    state = secrets.token_urlsafe(32)
    session.add(
        OAuthState(
            state_hash=_digest(state),
            browser_id=browser_id,
            scope=scope,
            created_at=now,
            expires_at=now + STATE_LIFETIME,
        )
    )
    session.flush()
    return state


def consume_state(
    session: Session, *, state: str | None, browser_id: str | None, now: datetime
) -> OAuthState:
    """Mark the state used and return it, or raise StateRefused saying why."""
    if not state:
        raise StateRefused(StateProblem.MISSING)
    row = session.scalars(
        select(OAuthState).where(OAuthState.state_hash == _digest(state)).with_for_update()
    ).one_or_none()
    if row is None:
        raise StateRefused(StateProblem.UNKNOWN)
    if row.browser_id != browser_id:
        raise StateRefused(StateProblem.FOREIGN)
    if row.used_at is not None:
        raise StateRefused(StateProblem.REUSED)
    if row.expires_at <= now:
        raise StateRefused(StateProblem.EXPIRED)
    row.used_at = now
    session.flush()
    return row
