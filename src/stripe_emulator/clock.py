"""The emulator's notion of "now", injectable so a later part can move it by hand."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the emulated time in Unix seconds."""

    def now(self) -> int:
        """Return the current emulated Unix time in seconds."""
        ...


class WallClock:
    """Starts at a chosen instant and advances at wall speed; can be shifted forward."""

    def __init__(self, start: int | None = None) -> None:
        self._lock = threading.Lock()
        self._anchor_wall = time.time()
        self._anchor_emulated = float(start) if start is not None else self._anchor_wall
        # While held (the billing engine replaying due work), time stands still at this instant.
        self._held: int | None = None

    def now(self) -> int:
        """Return the emulated time: the start instant plus the wall time elapsed since."""
        with self._lock:
            if self._held is not None:
                return self._held
            return int(self._anchor_emulated + (time.time() - self._anchor_wall))

    @property
    def held(self) -> bool:
        """Tell whether the clock is stopped."""
        return self._held is not None

    def hold(self, instant: int) -> None:
        """Stop the clock at `instant` (not in the past) until `release`."""
        current = self.now()
        if instant < current:
            raise ValueError("the emulator clock never goes backwards")
        with self._lock:
            self._held = instant

    def release(self) -> None:
        """Let a held clock run at wall speed again from where it stands."""
        with self._lock:
            if self._held is None:
                return
            self._anchor_emulated = float(self._held)
            self._anchor_wall = time.time()
            self._held = None

    def advance(self, seconds: int) -> int:
        """Move the clock forward by `seconds` and return the new time."""
        if seconds < 0:
            raise ValueError("the emulator clock never goes backwards")
        with self._lock:
            if self._held is not None:
                self._held += seconds
            else:
                self._anchor_emulated += seconds
        return self.now()

    def set(self, instant: int) -> int:
        """Jump to `instant`, which must not be in the emulated past."""
        current = self.now()
        if instant < current:
            raise ValueError("the emulator clock never goes backwards")
        return self.advance(instant - current)


class FixedClock:
    """A clock that only moves when told to; handy in unit tests."""

    def __init__(self, instant: int) -> None:
        self.instant = instant

    def now(self) -> int:
        """Return the fixed instant."""
        return self.instant
