"""Per-account limits (off by default): token buckets for the request rate, globally per mode and
per endpoint, and counters of requests in flight, globally and for heavy (list or expanding)
requests per endpoint."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

from stripe_emulator.config import RateLimitSettings

RATE_LIMIT_MESSAGE = (
    "Too many requests hit the API too quickly. We recommend an exponential backoff of your "
    "requests."
)


class _Bucket:
    __slots__ = ("rate", "tokens", "updated")

    def __init__(self, rate: float, now: float) -> None:
        self.rate = rate
        self.tokens = rate
        self.updated = now

    def take(self, now: float) -> bool:
        # Capacity equals one second's worth of requests, so a burst up to `rate` is allowed.
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass(frozen=True)
class InFlight:
    """The outcome of `RateLimiter.enter`: a refusal reason, or the counters it holds."""

    reason: str | None
    keys: tuple[tuple[str, bool, str], ...]


class RateLimiter:
    """Answers whether a request may proceed and, if not, which limit it hit."""

    def __init__(self, settings: RateLimitSettings) -> None:
        self._lock = threading.Lock()
        self.settings = settings
        self._buckets: dict[tuple[str, bool, str], _Bucket] = {}
        self._in_flight: dict[tuple[str, bool, str], int] = {}

    def configure(self, changes: dict[str, Any]) -> RateLimitSettings:
        """Apply settings from the control API; buckets restart full."""
        known = set(asdict(self.settings))
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown rate limit settings: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "enabled":
                if not isinstance(value, bool):
                    raise ValueError("enabled must be a boolean")
                values[key] = value
            else:
                if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                    raise ValueError(f"{key} must be a positive number")
                values[key] = float(value)
        with self._lock:
            self.settings = replace(self.settings, **values)
            self._buckets.clear()
        return self.settings

    def check(self, account: str, livemode: bool, endpoint: str) -> str | None:
        """Take a token from both buckets; return the `Stripe-Rate-Limited-Reason` when denied."""
        settings = self.settings
        if not settings.enabled:
            return None
        now = time.monotonic()
        global_rate = settings.global_live if livemode else settings.global_test
        with self._lock:
            global_bucket = self._bucket((account, livemode, ""), global_rate, now)
            endpoint_bucket = self._bucket((account, livemode, endpoint), settings.endpoint, now)
            if not global_bucket.take(now):
                return "global-rate"
            if not endpoint_bucket.take(now):
                global_bucket.tokens += 1.0  # the request did not happen; give the token back
                return "endpoint-rate"
        return None

    def enter(self, account: str, livemode: bool, endpoint: str, *, heavy: bool) -> InFlight:
        """Count a request in flight, or say which concurrency limit refuses it.

        An admitted request (`reason` None) must be followed by `leave` when it is answered.
        """
        settings = self.settings
        if not settings.enabled:
            return InFlight(None, ())
        everything = (account, livemode, "")
        this_endpoint = (account, livemode, endpoint)
        with self._lock:
            if self._in_flight.get(everything, 0) >= settings.concurrency:
                return InFlight("global-concurrency", ())
            if heavy and self._in_flight.get(this_endpoint, 0) >= settings.endpoint_concurrency:
                return InFlight("endpoint-concurrency", ())
            keys = (everything, this_endpoint) if heavy else (everything,)
            for key in keys:
                self._in_flight[key] = self._in_flight.get(key, 0) + 1
        return InFlight(None, keys)

    def leave(self, flight: InFlight) -> None:
        """A request counted by `enter` was answered."""
        if not flight.keys:
            return  # limits off (or refused): nothing was counted
        with self._lock:
            for key in flight.keys:
                left = self._in_flight.get(key, 0) - 1
                if left > 0:
                    self._in_flight[key] = left
                else:
                    self._in_flight.pop(key, None)

    def in_flight(self, account: str, livemode: bool) -> int:
        """How many requests of an account are being served now."""
        with self._lock:
            return self._in_flight.get((account, livemode, ""), 0)

    def _bucket(self, key: tuple[str, bool, str], rate: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None or bucket.rate != rate:
            bucket = self._buckets[key] = _Bucket(rate, now)
        return bucket
