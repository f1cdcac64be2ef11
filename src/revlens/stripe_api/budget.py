"""Request budgets per connected account: token buckets that back off on 429s (AIMD).

`Budgets` keeps them in one process; a source shared by several processes (the database,
`revlens.mirror.budgets`) implements the same two protocols.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

# Stripe's documented limits: 25 requests/s in test mode, 100 in live mode, 25 per endpoint.
TEST_RATE = 25.0
LIVE_RATE = 100.0
ENDPOINT_RATE = 25.0
MIN_RATE = 1.0
DECREASE = 0.7  # multiplicative decrease on a 429
INCREASE = 0.25  # additive increase (requests/s) per successful request, up to the ceiling


class Budget(Protocol):
    """The request budget of one account."""

    def acquire(self, endpoint: str) -> None:
        """Block until a request to `endpoint` fits both the global and the endpoint limit."""

    def succeeded(self, endpoint: str) -> None:
        """Note a success (additive increase)."""

    def rate_limited(self, endpoint: str, reason: str | None) -> None:
        """Note a 429 and why (multiplicative decrease)."""


class BudgetSource(Protocol):
    """Where the budget of each account lives."""

    def of(self, account_id: str) -> Budget:
        """Return the budget of an account."""


def ceilings(*, livemode: bool, global_rate: float | None = None) -> float:
    """Return an account's global limit in requests/s: Stripe's live or test rate."""
    return global_rate or (LIVE_RATE if livemode else TEST_RATE)


@dataclass
class _Bucket:
    ceiling: float
    rate: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


@dataclass
class AccountBudget:
    """The request budget of one account: a global bucket and one bucket per endpoint."""

    global_rate: float
    endpoint_rate: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _global: _Bucket | None = None
    _endpoints: dict[str, _Bucket] = field(default_factory=dict)

    def _bucket(self, endpoint: str | None) -> _Bucket:
        if endpoint is None:
            if self._global is None:
                self._global = _Bucket(self.global_rate, self.global_rate, 1.0, self.clock())
            return self._global
        bucket = self._endpoints.get(endpoint)
        if bucket is None:
            rate = self.endpoint_rate
            bucket = self._endpoints[endpoint] = _Bucket(rate, rate, 1.0, self.clock())
        return bucket

    def acquire(self, endpoint: str) -> None:
        """Block until both the global and the endpoint bucket have a token, then take them."""
        while True:
            with self._lock:
                now = self.clock()
                buckets = (self._bucket(None), self._bucket(endpoint))
                for bucket in buckets:
                    bucket.refill(now)
                wait = max(bucket.wait_time() for bucket in buckets)
                if wait <= 0:
                    for bucket in buckets:
                        bucket.tokens -= 1
                    return
            self.sleep(wait)

    def succeeded(self, endpoint: str) -> None:
        """Raise the rates a little after a success (additive increase)."""
        with self._lock:
            for bucket in (self._bucket(None), self._bucket(endpoint)):
                bucket.rate = min(bucket.ceiling, bucket.rate + INCREASE)

    def rate_limited(self, endpoint: str, reason: str | None) -> None:
        """Cut the rate of whichever limit Stripe says was hit (multiplicative decrease)."""
        with self._lock:
            hit = [self._bucket(endpoint)] if reason and reason.startswith("endpoint") else []
            hit = hit or [self._bucket(None)]
            for bucket in hit:
                bucket.rate = max(MIN_RATE, bucket.rate * DECREASE)
                bucket.tokens = min(bucket.tokens, 0.0)

    @property
    def current_rate(self) -> float:
        """Return the global rate now allowed (requests per second)."""
        with self._lock:
            return self._bucket(None).rate


class Budgets:
    """One AccountBudget per account, created on first use."""

    def __init__(
        self,
        *,
        livemode: bool,
        global_rate: float | None = None,
        endpoint_rate: float = ENDPOINT_RATE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._rate = ceilings(livemode=livemode, global_rate=global_rate)
        self._endpoint_rate = endpoint_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._budgets: dict[str, AccountBudget] = {}

    def of(self, account_id: str) -> AccountBudget:
        """Return the budget of an account."""
        with self._lock:
            budget = self._budgets.get(account_id)
            if budget is None:
                budget = self._budgets[account_id] = AccountBudget(
                    self._rate, self._endpoint_rate, self._clock, self._sleep
                )
            return budget
