"""One writer at a time on a SQLite database, across threads and processes, woken promptly.

SQLite lets one writer in at a time. A connection waiting in `BEGIN IMMEDIATE` polls with
sleeps that grow to 100 ms, so the lock can sit free for most of that while writers queue: with
two worker processes on one file, that waiting cost more than the second process gained. Writers
queue here instead: threads of a process on a lock of their own, processes on an advisory lock
on a file beside the database (`flock`, released by the kernel if a process dies), polled in
steps of at most `MAX_POLL_S`.

Re-entrant: a unit of work opened inside another (an event's object re-fetched while it is being
applied) does not wait for itself. Past `timeout_s` the caller goes on unlocked and SQLite's own
busy timeout decides, exactly as without this lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

MAX_POLL_S = 0.002


class WriterLock:
    """A re-entrant writer lock for one SQLite file, shared by every process that opens it."""

    def __init__(
        self,
        path: Path | None,
        *,
        timeout_s: float,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # None: an in-memory database, which no other process can open.
        self._path = path
        self._timeout_s = timeout_s
        self._sleep = sleep
        self._threads = threading.RLock()
        self._depth = 0
        self._file_held = False
        self._fd: int | None = None
        self._fd_pid = 0

    @contextmanager
    def held(self) -> Iterator[bool]:
        """Hold the lock for the block; yield whether it was taken (False after the timeout)."""
        deadline = time.monotonic() + self._timeout_s
        if not self._threads.acquire(timeout=self._timeout_s):
            yield False
            return
        try:
            if self._depth == 0:
                self._file_held = self._lock_file(deadline)
            self._depth += 1
            try:
                yield self._file_held
            finally:
                self._depth -= 1
                if self._depth == 0 and self._file_held:
                    self._file_held = False
                    self._unlock_file()
        finally:
            self._threads.release()

    def _file(self) -> int | None:
        if self._path is None:
            return None
        if self._fd is None or self._fd_pid != os.getpid():  # a forked child opens its own
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._fd_pid = os.getpid()
        return self._fd

    def _lock_file(self, deadline: float) -> bool:
        fd = self._file()
        if fd is None:
            return True
        pause = 0.0002
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                self._sleep(pause)
                pause = min(pause * 2, MAX_POLL_S)

    def _unlock_file(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
