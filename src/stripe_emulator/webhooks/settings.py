"""Delivery settings the control API changes: schedule compression, timeout, and fault modes.

Every fault is off by default. Random choices come from one seedable RNG so a test can make a
fault happen (rate 1.0) or replay the same shuffle (a fixed `seed`).
"""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, replace
from typing import Any

_RATES = ("duplicate_rate", "drop_first_rate")
_MILLISECONDS = ("delay_ms", "jitter_ms", "shuffle_wait_ms")


@dataclass(frozen=True)
class DeliverySettings:
    """How deliveries are made; see the README's "Webhook delivery" section."""

    # Multiplies the retry schedule (1.0 = Stripe's hours; 1e-6 = milliseconds).
    retry_scale: float = 1.0
    # Seconds one attempt may take before it counts as a timeout failure.
    timeout_seconds: float = 10.0
    # Probability that a delivery is sent twice (same event, fresh signature).
    duplicate_rate: float = 0.0
    # Probability that a first attempt is not sent at all, then retried on schedule.
    drop_first_rate: float = 0.0
    # Wait before every attempt, plus a uniform random extra of up to `jitter_ms`.
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    # Send an endpoint's next N first attempts in a random order (0 or 1 = creation order),
    # waiting at most `shuffle_wait_ms` for N to queue up.
    shuffle_window: int = 0
    shuffle_wait_ms: float = 200.0
    seed: int | None = None

    def to_json(self) -> dict[str, Any]:
        """Return the settings as the control API shows them."""
        return asdict(self)


class DeliveryKnobs:
    """The current settings and the RNG the fault modes draw from."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.settings = DeliverySettings()
        self._rng = random.Random()

    def configure(self, changes: dict[str, Any]) -> DeliverySettings:
        """Apply control-API changes; unknown keys and bad values raise ValueError."""
        known = set(asdict(self.settings))
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown webhook delivery settings: {', '.join(sorted(unknown))}")
        values = {key: _validate(key, value) for key, value in changes.items()}
        with self._lock:
            self.settings = replace(self.settings, **values)
            if "seed" in values:
                self._rng = random.Random(values["seed"])
        return self.settings

    def chance(self, rate: float) -> bool:
        """Return True with probability `rate` (never draws when the rate is 0)."""
        if rate <= 0:
            return False
        with self._lock:
            return self._rng.random() < rate

    def delay_seconds(self) -> float:
        """Return the injected wait before an attempt."""
        settings = self.settings
        delay = settings.delay_ms
        if settings.jitter_ms:
            with self._lock:
                delay += self._rng.uniform(0, settings.jitter_ms)
        return delay / 1000.0

    def shuffled(self, items: list[Any]) -> list[Any]:
        """Return the items in a random order drawn from the seeded RNG."""
        result = list(items)
        with self._lock:
            self._rng.shuffle(result)
        return result


def _number(key: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise ValueError(f"{key} must be a number between {low:g} and {high:g}")
    return float(value)


def _validate(key: str, value: Any) -> Any:
    if key in _RATES:
        return _number(key, value, 0, 1)
    if key in _MILLISECONDS:
        return _number(key, value, 0, 600_000)
    if key == "retry_scale":
        return _number(key, value, 0, 1000)
    if key == "timeout_seconds":
        return _number(key, value, 0.001, 300)
    if key == "shuffle_window":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
            raise ValueError("shuffle_window must be an integer between 0 and 1000")
        return value
    if key == "seed":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("seed must be an integer or null")
        return value
    raise ValueError(f"unknown webhook delivery setting: {key}")
