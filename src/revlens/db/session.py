"""Units of work: the request or job that opens one owns its commit and rollback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from revlens.db.checkpoint import WalCheckpoints
from revlens.db.engine import (
    DEFERRED,
    SQLITE_BUSY_TIMEOUT_MS,
    check_database,
    is_sqlite,
    make_engine,
    sqlite_lock_path,
)
from revlens.db.writer_lock import WriterLock


class Database:
    """An engine and the sessions made from it; one per process, built by the entry point."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite lets one writer in at a time, and one waiting in BEGIN IMMEDIATE polls with
        # sleeps of up to 100 ms: writers of every process queue on this lock instead, woken
        # within milliseconds of the writer before them (bench/mirror_backfill.py: most of a
        # backfill worker's thread time was spent in those sleeps).
        lock_path = sqlite_lock_path(engine) if is_sqlite(engine) else None
        self._write_lock = (
            WriterLock(lock_path, timeout_s=SQLITE_BUSY_TIMEOUT_MS / 1000)
            if is_sqlite(engine)
            else None
        )
        # A file's write-ahead log is copied into it by its writers, outside that lock.
        self._checkpoints = (
            WalCheckpoints(engine, self._write_lock)
            if self._write_lock is not None and lock_path is not None
            else None
        )
        self._nested = threading.local()
        self._writer = sessionmaker(bind=engine, expire_on_commit=False)
        self._reader = sessionmaker(
            bind=engine.execution_options(sqlite_begin=DEFERRED), expire_on_commit=False
        )

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 5) -> Database:
        """Build a Database for a normalised URL."""
        return cls(make_engine(url, pool_size=pool_size))

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Yield a session that commits when the block succeeds and rolls back when it raises."""
        depth = getattr(self._nested, "depth", 0)
        self._nested.depth = depth + 1
        try:
            with (
                self._write_lock.held() if self._write_lock else nullcontext(),
                self._writer() as session,
            ):
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            self._nested.depth = depth
        if depth == 0 and self._checkpoints is not None:
            self._checkpoints.after_write()  # the outermost unit, its lock released

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Yield a session for reads only; closing it rolls back whatever it did.

        Closing (rather than rolling back) keeps the loaded objects readable after the block.
        """
        with self._reader() as session:
            yield session

    def check(self) -> None:
        """Raise StartupError in one line when the database cannot be reached."""
        check_database(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
