"""SQLite's write-ahead log copied into the database outside the writers' lock.

By default the connection whose commit brings the log (the `-wal` file) to 1,000 pages copies
the log into the database right then: a checkpoint, with an fsync of the log and one of the
database. That commit is still inside `WriterLock`, which the writers of every process queue
on, so all of them wait for those fsyncs.

So connections never checkpoint when they commit (`wal_autocheckpoint=0`, set by the engine).
A process that wrote checkpoints instead, at most once per `EVERY_S`, after its writer lock is
released:

1. a PASSIVE checkpoint copies what is in the log, alongside the other writers, who go on
   appending to it;
2. if the log holds `RESTART_PAGES` or more, a second PASSIVE checkpoint under the writer lock
   copies the pages appended meanwhile (a few hundred, not thousands). The log is then wholly in
   the database when the next writer begins, and that writer starts it over from the beginning
   instead of growing it.

SQLite runs one checkpoint at a time: a process that finds another one checkpointing skips its
turn. The fsyncs are those of before (`synchronous=NORMAL` keeps the database safe from a power
cut); most of their wait is paid outside the lock.

Measured on the demo's largest backfill (3 workers, 2 cores, three alternating pairs of runs on
a copy of one seeded state): 18.1 s on average before, 16.0 s after; the log peaked at 33-49 MB
instead of 6 MB. In the whole demo test, with the machine's cores busy (load 1.1-2.6), two
alternating pairs showed no difference (20.0/21.1 s before, 21.2/20.1 s after): the fsyncs
matter when writers wait on each other, not when they wait for a core.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import PoolProxiedConnection

from revlens.db.writer_lock import WriterLock

EVERY_S = 1.0
# SQLite's own default for `wal_autocheckpoint`: the log is started over at about 4 MB.
RESTART_PAGES = 1000

log = logging.getLogger(__name__)


class WalCheckpoints:
    """Checkpoints of one SQLite database, taken by its writers after they release the lock."""

    def __init__(
        self,
        engine: Engine,
        lock: WriterLock,
        *,
        every_s: float = EVERY_S,
        restart_pages: int = RESTART_PAGES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._lock = lock
        self._every_s = every_s
        self._restart_pages = restart_pages
        self._clock = clock
        self._last = float("-inf")
        self._running = threading.Lock()

    def after_write(self) -> None:
        """Checkpoint if this process has not for `every_s` (call with the writer lock free).

        The caller's transaction has committed: a checkpoint that fails is logged and left to
        the next writer, never raised.
        """
        if self._clock() - self._last < self._every_s:
            return
        if not self._running.acquire(blocking=False):
            return  # another thread of this process is checkpointing
        try:
            self._last = self._clock()
            # Taken before the writer lock: never held while waiting for the pool.
            connection = self._engine.raw_connection()
            try:
                busy, pages, _copied = self.checkpoint(connection)
                if busy or pages < self._restart_pages:
                    return
                with self._lock.held() as held:
                    if held:
                        self.checkpoint(connection)
            finally:
                connection.close()
        except (sqlite3.Error, SQLAlchemyError) as error:
            log.warning("checkpoint of the SQLite log failed, the next writer retries: %s", error)
        finally:
            self._running.release()

    def checkpoint(self, connection: PoolProxiedConnection) -> tuple[bool, int, int]:
        """Run a PASSIVE checkpoint; return (busy, pages in the log, pages copied from it).

        `connection` is outside any transaction (SQLite checkpoints only there). `busy`:
        another connection was checkpointing, and this one did nothing.
        """
        cursor = connection.cursor()
        try:
            row = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            cursor.close()
        busy, pages, copied = (int(value) for value in row)
        return bool(busy), pages, copied
