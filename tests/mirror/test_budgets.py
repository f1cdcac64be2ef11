"""Request budgets in the database: worker processes share each account's limits."""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import delete

from revlens.db.session import Database
from revlens.mirror.budgets import SharedBudgets
from revlens.mirror.models import RateBudget
from revlens.stripe_api.budget import DECREASE

ENDPOINT = "GET /v1/customers"


class Clock:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _process(database: Database, clock: Clock, **rates: float) -> SharedBudgets:
    """The budgets one worker process would build."""
    return SharedBudgets(database, livemode=False, clock=clock.time, sleep=clock.sleep, **rates)


def test_two_processes_keep_one_account_within_its_limit_together(database: Database) -> None:
    clock = Clock()
    account = f"acct_{secrets.token_hex(6)}"
    first, second = (_process(database, clock, global_rate=10, endpoint_rate=25) for _ in "ab")
    start = clock.now
    for n in range(40):
        (first if n % 2 else second).of(account).acquire(ENDPOINT)
    # A second's burst (10) at once, then 30 more at 10/s, however the two processes take
    # turns; each pacing itself alone would have let 20 go at once and ended a second earlier.
    assert clock.now - start == pytest.approx(3.0)


def test_the_endpoint_limit_binds_below_the_global_one(database: Database) -> None:
    clock = Clock()
    account = f"acct_{secrets.token_hex(6)}"
    budgets = _process(database, clock, global_rate=100, endpoint_rate=5)
    start = clock.now
    for _ in range(15):
        budgets.of(account).acquire(ENDPOINT)
    assert clock.now - start == pytest.approx(2.0)  # 5 at once, 10 more at 5/s
    budgets.of(account).acquire("GET /v1/charges")  # another endpoint: no wait
    assert clock.now - start == pytest.approx(2.0)


def test_a_429_in_one_process_slows_the_other(database: Database) -> None:
    clock = Clock()
    account = f"acct_{secrets.token_hex(6)}"
    first, second = (_process(database, clock, global_rate=100, endpoint_rate=10) for _ in "ab")
    first.of(account).acquire(ENDPOINT)
    first.of(account).rate_limited(ENDPOINT, "endpoint-rate")
    before = clock.now
    second.of(account).acquire(ENDPOINT)
    # No burst after a 429, and the next request waits one interval of the decreased rate.
    assert clock.now - before == pytest.approx(1 / (10 * DECREASE))
    for _ in range(200):
        second.of(account).succeeded(ENDPOINT)
    before = clock.now
    for _ in range(11):
        first.of(account).acquire(ENDPOINT)
    # The successes counted in `second` raised the rate back to its ceiling only once written;
    # `first` still paces at the decreased rate: nothing above the ceiling, ever.
    assert clock.now - before <= 11 / (10 * DECREASE) + 1e-6


def test_a_new_ceiling_replaces_the_stored_one(database: Database) -> None:
    clock = Clock()
    account = f"acct_{secrets.token_hex(6)}"
    slow = _process(database, clock, global_rate=10, endpoint_rate=1000)
    for _ in range(10):
        slow.of(account).acquire(ENDPOINT)  # the burst of 10/s, stored as the account's row
    # A restart with REVLENS_STRIPE_RATE_LIMIT=40: the stored row takes the new ceiling.
    fast = _process(database, clock, global_rate=40, endpoint_rate=1000)
    for _ in range(40):
        fast.of(account).acquire(ENDPOINT)
    before = clock.now
    for _ in range(40):
        fast.of(account).acquire(ENDPOINT)
    # The rate climbs from 10 towards 40 as requests succeed (none were counted here): still
    # paced at 10/s, never above 40.
    assert 40 / 40 - 1e-6 <= clock.now - before <= 40 / 10 + 1e-6
    for _ in range(400):
        fast.of(account).succeeded(ENDPOINT)
    fast.of(account).acquire(ENDPOINT)
    before = clock.now
    for _ in range(40):
        fast.of(account).acquire(ENDPOINT)
    assert clock.now - before == pytest.approx(40 / 40)  # at the new ceiling
    # Lowered again: the rate comes down at once, not by 429s.
    lower = _process(database, clock, global_rate=5, endpoint_rate=1000)
    lower.of(account).acquire(ENDPOINT)
    before = clock.now
    for _ in range(10):
        lower.of(account).acquire(ENDPOINT)
    assert clock.now - before == pytest.approx(10 / 5)


def test_a_reservation_whose_rows_are_gone_goes_unpaced(database: Database) -> None:
    clock = Clock()
    account = f"acct_{secrets.token_hex(6)}"
    budget = _process(database, clock, global_rate=1, endpoint_rate=1).of(account)
    budget.acquire(ENDPOINT)  # creates the account's rows, remembered by this process
    with database.unit_of_work() as session:
        session.execute(delete(RateBudget).where(RateBudget.key.startswith(f"{account}|")))
    before = clock.now
    for _ in range(3):
        budget.acquire(ENDPOINT)  # no row to pace by, and no error
    assert clock.now == before
