"""When a failed delivery is tried again, per Stripe's documented behaviour (wire doc §4.4).

Stripe publishes the shape, not the exact times: live mode retries "for up to three days with an
exponential back off", test mode "three times over the course of a few hours". The emulator uses:

- test mode: 3 retries, 15 min, 1 h and 4 h after the previous attempt (last at 5 h 15 min);
- live mode: 15 min doubling (15 min, 30 min, 1 h … 32 h), then a last retry exactly 3 days
  after the first attempt: 9 retries.

`scale` compresses the schedule (e.g. 1e-6 turns 4 h into 14 ms) so tests run fast.
"""

from __future__ import annotations

MINUTE = 60
HOUR = 60 * MINUTE
THREE_DAYS = 72 * HOUR

TEST_DELAYS: tuple[int, ...] = (15 * MINUTE, HOUR, 4 * HOUR)


# 15 min doubling while the total stays under 3 days, then whatever reaches exactly 3 days.
LIVE_DELAYS: tuple[int, ...] = (
    *(15 * MINUTE * 2**k for k in range(8)),
    THREE_DAYS - 15 * MINUTE * (2**8 - 1),
)


def retry_delay(attempt: int, *, livemode: bool, scale: float) -> float | None:
    """Return the wait in seconds after failed attempt number `attempt` (1-based), or None."""
    delays = LIVE_DELAYS if livemode else TEST_DELAYS
    if attempt > len(delays):
        return None
    return delays[attempt - 1] * scale
