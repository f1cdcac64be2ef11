"""Running due work: on `clock/advance` (in time order, the clock stopped at each due instant),
on a test clock's advance, and in wall-clock time on a background ticker."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from stripe_emulator.billing.system import system_ctx
from stripe_emulator.clock import WallClock
from stripe_emulator.engine.jobs import JOBS
from stripe_emulator.engine.schedule import Entry, Schedule

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

log = logging.getLogger("stripe_emulator.engine")
TICK_SECONDS = 1.0


class Engine:
    """Runs the schedule's due entries as the emulator's clock and test clocks move."""

    def __init__(self, emulator: Emulator, *, tick_seconds: float = TICK_SECONDS) -> None:
        self._emulator = emulator
        self.schedule = Schedule(emulator.store)
        self._tick_seconds = tick_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- the emulator's clock --------------------------------------------------------------

    def _clock(self) -> WallClock:
        clock = self._emulator.clock
        if not isinstance(clock, WallClock):
            raise ValueError("this emulator's clock cannot be moved")
        return clock

    def advance(self, to: int, *, freeze: bool = False) -> int:
        """Move the clock forward to `to`, running what falls due on the way; return the count.

        Each entry runs with the clock stopped at its due instant, so what it creates is dated
        exactly. With `freeze` the clock stays stopped at `to` afterwards (until the next
        advance without it); otherwise it runs on at wall speed from `to`.
        """
        clock = self._clock()
        now = clock.now()
        if to < now:
            raise ValueError("the emulator clock never goes backwards")
        clock.hold(now)
        ran = 0
        try:
            with self._emulator.store.transaction():
                while (entry := self.schedule.first_due(to)) is not None:
                    clock.hold(max(clock.now(), entry.due))
                    self._run(entry, None)
                    ran += 1
                clock.hold(to)
        finally:
            if not freeze:
                clock.release()
        return ran

    def tick(self) -> int:
        """Run what is due by now on the emulator's clock (cheap when nothing is)."""
        clock = self._emulator.clock
        if isinstance(clock, WallClock) and clock.held:
            return 0
        now = clock.now()
        due = self.schedule.next_due()
        if due is None or due > now:
            return 0
        ran = 0
        with self._emulator.store.transaction():
            while (entry := self.schedule.first_due(clock.now())) is not None:
                self._run(entry, None)
                ran += 1
        return ran

    # ---- test clocks -----------------------------------------------------------------------

    def advance_test_clock(self, clock_id: str, current: int, to: int) -> int:
        """Run a test clock's entries due by `to`, each at its own instant; return the count."""
        ran = 0
        with self._emulator.store.transaction():
            while (entry := self.schedule.first_due(to, clock_id)) is not None:
                current = max(current, entry.due)
                self._run(entry, current)
                ran += 1
        return ran

    # ---- one entry -------------------------------------------------------------------------

    def _run(self, entry: Entry, frozen_time: int | None) -> None:
        store = self._emulator.store
        ctx = system_ctx(self._emulator, entry.scope)
        ctx.frozen_time = frozen_time
        try:
            with store.savepoint():
                JOBS[entry.kind](ctx, entry.id, entry.due)
        except Exception:
            # A failing job must not stop the clock: its changes are undone; skip it.
            log.exception("billing engine: %s %s failed", entry.kind, entry.id)
        self.schedule.mark_done(entry)

    # ---- the ticker ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the background ticker (idempotent)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="stripe-billing", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._tick_seconds):
            try:
                self.tick()
            except Exception:
                log.exception("billing engine tick failed")

    def close(self) -> None:
        """Stop the ticker."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def install_engine(emulator: Emulator) -> Engine:
    """Build the engine, register its control endpoints, and start the ticker."""
    from stripe_emulator.engine.control import install_engine_control

    engine = Engine(emulator)
    install_engine_control(emulator, engine)
    engine.start()
    return engine
