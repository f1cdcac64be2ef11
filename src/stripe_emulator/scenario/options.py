"""What a scenario generates, where, and in how many independent parts."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# A history of this many customers or more is played in independent parts (shards), up to
# MAX_SHARDS of them, each on an emulator of its own, and merged. The count depends on the
# options alone, never on the machine, so the same options always give the same history.
# Small parts play faster than large ones (each emulator's store and caches stay small): 2,400
# customers took 45.7-48.8 CPU s in 24 parts and 54.0-56.5 in 8 (27 Nov, 2 interleaved runs
# each; more parts than 24 gave nothing measurable).
CUSTOMERS_PER_SHARD = 100
MAX_SHARDS = 32


@dataclass(frozen=True)
class ScenarioOptions:
    """What to generate and where."""

    accounts: int
    customers: int
    months: int
    seed: int
    end: int
    truth: Path
    url: str | None = None
    state: str | None = None
    # For the emulator `run` starts: serve it on a port and drive it over HTTP instead of
    # handing requests to its application in this process (same pipeline, no socket).
    http: bool = False
    # Relative sizes of the accounts (customers are dealt in this ratio); even when empty.
    weights: tuple[int, ...] = ()
    # Each account's monthly growth of signups (0.08: 8 % more every month); missing or 0:
    # signups spread evenly over the history.
    growth: tuple[float, ...] = ()
    # Parts the customers are dealt into (None: by size, see `shard_count`). Part of the
    # history's definition: each part draws its ids from a stream of its own.
    shards: int | None = None
    # Processes that play the parts at once (None: one per CPU); changes the time, not the
    # history.
    processes: int | None = None

    def account_of(self, index: int) -> int:
        """Return which account the `index`-th customer belongs to (deterministic)."""
        if not self.weights:
            return index % self.accounts
        pattern = [a for a, weight in enumerate(self.weights) for _ in range(weight)]
        return pattern[index % len(pattern)]

    def growth_of(self, account: int) -> float:
        """Return the monthly growth of one account's signups (0 when none is given)."""
        return self.growth[account] if account < len(self.growth) else 0.0

    def shard_count(self) -> int:
        """Return how many parts the customers are played in.

        One when driving a running emulator (`url`): its single clock and store are shared.
        """
        if self.url is not None:
            return 1
        if self.shards is not None:
            return self.shards
        return max(1, min(MAX_SHARDS, self.customers // CUSTOMERS_PER_SHARD))

    def process_count(self) -> int:
        """Return how many processes play the parts at once (at most one per part)."""
        return max(1, min(self.shard_count(), self.processes or usable_cpus()))

    def shard_of(self, index: int) -> int:
        """Return which part plays the `index`-th customer."""
        return index % self.shard_count()


def usable_cpus() -> int:
    """Return the CPUs this process may run on (a container's limit, not the machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1
