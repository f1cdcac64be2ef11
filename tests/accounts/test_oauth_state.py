"""OAuth state: single use, bound to one browser, valid ten minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from revlens.accounts.models import OAuthState
from revlens.accounts.oauth_state import (
    StateProblem,
    StateRefused,
    consume_state,
    issue_state,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _refusal(db_session: Session, state: str | None, browser: str | None, now: datetime) -> str:
    with pytest.raises(StateRefused) as caught:
        consume_state(db_session, state=state, browser_id=browser, now=now)
    return caught.value.problem.value


def test_a_state_is_accepted_once_by_its_browser(db_session: Session) -> None:
    state = issue_state(db_session, browser_id="b1", scope="read_only", now=NOW)
    assert len(state) >= 40
    row = consume_state(db_session, state=state, browser_id="b1", now=NOW + timedelta(minutes=9))
    assert row.scope == "read_only"
    assert _refusal(db_session, state, "b1", NOW) == StateProblem.REUSED.value


def test_only_a_hash_is_stored(db_session: Session) -> None:
    state = issue_state(db_session, browser_id="b1", scope="read_only", now=NOW)
    hashes = db_session.scalars(select(OAuthState.state_hash)).all()
    assert state not in hashes
    assert len(hashes) == 1
    assert len(hashes[0]) == 64


@pytest.mark.parametrize(
    ("state", "browser", "minutes", "problem"),
    [
        (None, "b1", 0, StateProblem.MISSING),
        ("", "b1", 0, StateProblem.MISSING),
        ("forged", "b1", 0, StateProblem.UNKNOWN),
        ("ISSUED", "b2", 0, StateProblem.FOREIGN),
        ("ISSUED", None, 0, StateProblem.FOREIGN),
        ("ISSUED", "b1", 10, StateProblem.EXPIRED),
    ],
)
def test_refusals_say_why(
    db_session: Session, state: str | None, browser: str | None, minutes: int, problem: StateProblem
) -> None:
    issued = issue_state(db_session, browser_id="b1", scope="read_only", now=NOW)
    state = issued if state == "ISSUED" else state
    assert _refusal(db_session, state, browser, NOW + timedelta(minutes=minutes)) == problem.value


def test_old_states_are_cleaned_up(db_session: Session) -> None:
    issue_state(db_session, browser_id="b1", scope="read_only", now=NOW)
    issue_state(db_session, browser_id="b1", scope="read_only", now=NOW + timedelta(minutes=25))
    assert db_session.scalar(select(func.count()).select_from(OAuthState)) == 1
