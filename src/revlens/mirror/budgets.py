"""Request budgets kept in the database, so that every worker process shares each account's.

Stripe limits an account, not a process: two workers each pacing themselves at 25 requests/s
would together ask for 50. Each limit (an account's global one, and one per endpoint) is a row
holding a GCRA schedule: a request reserves the next slot of both of its limits in one short
transaction, then sleeps until the later of the two. Successes are counted locally and their
additive increase is written with the next reservation; a 429 cuts the rate for every process
at once. Clocks are the hosts' (`time.time`): the processes must share one, as those of one
machine or of NTP-synced machines do.

On PostgreSQL the rows live in revlens' database. SQLite has one write lock per file, and a
request is sometimes made inside a unit of work (an event's object re-fetched while the event
is applied): a reservation in the same file would wait for that unit of work, which waits for
the request. There the rows live in a file of their own next to the database.
"""

from __future__ import annotations

import functools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Table, case, select, update
from sqlalchemy.dialects import postgresql, sqlite

from revlens.db.engine import bind_mark, is_sqlite
from revlens.db.session import Database
from revlens.mirror.models import RateBudget
from revlens.stripe_api.budget import (
    DECREASE,
    ENDPOINT_RATE,
    INCREASE,
    MIN_RATE,
    Budget,
    ceilings,
)

GLOBAL = "*"
# Up to a second's worth of requests may go at once (a bucket of `rate` tokens), as Stripe's
# limiter allows.
BURST_S = 1.0


def _burst(rate: float) -> float:
    """How far ahead of its schedule a request may go: (capacity - 1) intervals."""
    return max(0.0, BURST_S * rate - 1) / rate


@functools.cache
def _reservation_sql(dialect: str) -> tuple[str, str]:
    """Return the read (rows locked) and the write of a reservation, in the driver's style."""
    mark = bind_mark(dialect)
    lock = " FOR UPDATE" if dialect == "postgresql" else ""  # SQLite: the unit of work's lock
    # Only these constants go into the text; every value is bound.
    read = (
        f"SELECT key, rate, ceiling, tat FROM rate_budgets WHERE key IN ({mark}, {mark})"  # noqa: S608
        f" ORDER BY key{lock}"
    )
    write = f"UPDATE rate_budgets SET rate = {mark}, tat = {mark} WHERE key = {mark}"  # noqa: S608
    return read, write


@dataclass
class SharedBudget:
    """The budget of one account, as one process sees it."""

    database: Database
    account_id: str
    global_rate: float
    endpoint_rate: float
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _successes: Counter[str] = field(default_factory=Counter)
    _known: set[str] = field(default_factory=set)

    def _key(self, endpoint: str) -> str:
        return f"{self.account_id}|{endpoint}"

    def _ensure(self, keys: dict[str, float]) -> None:
        missing = {k: v for k, v in keys.items() if k not in self._known}
        if not missing:
            return
        table = RateBudget.__table__
        now = self.clock()
        with self.database.unit_of_work() as session:
            dialect = session.get_bind().dialect.name
            insert = (postgresql if dialect == "postgresql" else sqlite).insert(table)
            # A ceiling set anew (REVLENS_STRIPE_RATE_LIMIT) replaces the stored one; a rate
            # above it comes down at once, one below climbs to it as requests succeed.
            session.execute(
                insert.on_conflict_do_update(
                    index_elements=["key"],
                    set_={
                        "ceiling": insert.excluded.ceiling,
                        "rate": case(
                            (table.c.rate > insert.excluded.ceiling, insert.excluded.ceiling),
                            else_=table.c.rate,
                        ),
                    },
                ),
                [{"key": k, "rate": v, "ceiling": v, "tat": now} for k, v in missing.items()],
            )
        self._known.update(missing)

    def acquire(self, endpoint: str) -> None:
        """Reserve the next slot of the global and the endpoint limit; sleep until it comes."""
        keys = {self._key(GLOBAL): self.global_rate, self._key(endpoint): self.endpoint_rate}
        self._ensure(keys)
        with self._lock:
            successes = {key: self._successes.pop(key, 0) for key in keys}
        with self.database.unit_of_work() as session:
            # Plain SQL through the driver: built through SQLAlchemy, these three statements cost
            # 2.2-2.5 ms of CPU per request, a tenth of a backfill worker's CPU (py-spy).
            connection = session.connection()
            read, write = _reservation_sql(connection.dialect.name)
            rows = connection.exec_driver_sql(read, tuple(keys)).all()
            now = self.clock()
            slot = now
            moved = []
            for key, stored_rate, ceiling, tat in rows:
                rate = min(ceiling, stored_rate + INCREASE * successes[key])
                slot = max(slot, tat - _burst(rate))
                moved.append((rate, max(tat, now) + 1 / rate, key))
            if moved:  # rows removed behind this process's back: nothing to move on
                connection.exec_driver_sql(write, moved)
        if slot > now:
            self.sleep(slot - now)

    def succeeded(self, endpoint: str) -> None:
        """Count a success; its additive increase goes with the next reservation."""
        with self._lock:
            self._successes.update((self._key(GLOBAL), self._key(endpoint)))

    def rate_limited(self, endpoint: str, reason: str | None) -> None:
        """Cut the rate of whichever limit Stripe says was hit, for every process."""
        hit = endpoint if reason and reason.startswith("endpoint") else GLOBAL
        key = self._key(hit)
        with self.database.unit_of_work() as session:
            row = session.execute(
                select(RateBudget.rate, RateBudget.tat)
                .where(RateBudget.key == key)
                .with_for_update()
            ).one_or_none()
            if row is None:
                return
            rate = max(MIN_RATE, row.rate * DECREASE)
            # No burst after a 429: the next request waits a whole interval.
            now = self.clock()
            session.execute(
                update(RateBudget)
                .where(RateBudget.key == key)
                .values(rate=rate, tat=max(row.tat, now + _burst(rate) + 1 / rate))
            )


class SharedBudgets:
    """Every account's budget in the database, one `SharedBudget` object per account."""

    def __init__(
        self,
        database: Database,
        *,
        livemode: bool,
        global_rate: float | None = None,
        endpoint_rate: float = ENDPOINT_RATE,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._database = database
        self._rate = ceilings(livemode=livemode, global_rate=global_rate)
        self._endpoint_rate = endpoint_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._budgets: dict[str, SharedBudget] = {}

    def of(self, account_id: str) -> Budget:
        """Return the budget of an account."""
        with self._lock:
            budget = self._budgets.get(account_id)
            if budget is None:
                budget = self._budgets[account_id] = SharedBudget(
                    self._database,
                    account_id,
                    self._rate,
                    self._endpoint_rate,
                    self._clock,
                    self._sleep,
                )
            return budget


def budget_database(database: Database) -> Database:
    """Return where the budgets of the processes sharing `database` live (see the module)."""
    if not is_sqlite(database.engine):
        return database
    path = database.engine.url.database or ""
    side = Database.from_url(f"sqlite:///{path}-budgets")
    table = RateBudget.__table__
    assert isinstance(table, Table)
    table.create(side.engine, checkfirst=True)
    return side
