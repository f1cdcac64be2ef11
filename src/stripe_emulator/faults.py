"""Injected faults for resilience tests: latency, 5xx, dropped connections, truncated bodies,
and `lock_timeout` 429s. All are off by default and drawn from a seedable RNG."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass, replace
from typing import Any

from stripe_emulator.config import FaultSettings

_RATES = ("error_rate", "drop_rate", "truncate_rate", "lock_timeout_rate")


@dataclass(frozen=True)
class FaultPlan:
    """What to do to one request: wait, then maybe fail it in one way."""

    delay_seconds: float = 0.0
    kind: str | None = None  # "error", "drop", "truncate", "lock_timeout"
    status: int = 500


class FaultInjector:
    """Draws a `FaultPlan` per API request from the current settings."""

    def __init__(self, settings: FaultSettings) -> None:
        self._lock = threading.Lock()
        self.settings = settings
        self._rng = random.Random(settings.seed)

    def configure(self, changes: dict[str, Any]) -> FaultSettings:
        """Apply settings from the control API (unknown keys and bad values raise ValueError)."""
        known = set(asdict(self.settings))
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown fault settings: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for key, value in changes.items():
            values[key] = _validate(key, value)
        with self._lock:
            self.settings = replace(self.settings, **values)
            if "seed" in values:
                self._rng = random.Random(values["seed"])
        return self.settings

    def plan(self, path: str) -> FaultPlan:
        """Return the fault (if any) for a request to `path`."""
        settings = self.settings
        if not path.startswith(settings.path_prefix):
            return FaultPlan()
        with self._lock:
            delay = settings.latency_ms / 1000.0
            if settings.jitter_ms:
                delay += self._rng.uniform(0, settings.jitter_ms) / 1000.0
            for kind in ("drop", "error", "lock_timeout", "truncate"):
                rate = getattr(settings, f"{kind}_rate")
                if rate and self._rng.random() < rate:
                    status = self._rng.choice(settings.error_statuses) if kind == "error" else 500
                    return FaultPlan(delay, kind, status)
        return FaultPlan(delay)


def _validate(key: str, value: Any) -> Any:
    if key in _RATES:
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"{key} must be a number between 0 and 1")
        return float(value)
    if key in ("latency_ms", "jitter_ms"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 60000:
            raise ValueError(f"{key} must be a number of milliseconds between 0 and 60000")
        return float(value)
    if key == "error_statuses":
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, int) and 500 <= v <= 599 for v in value)
        ):
            raise ValueError("error_statuses must be a non-empty list of 5xx statuses")
        return tuple(value)
    if key == "path_prefix":
        if not isinstance(value, str) or not value.startswith("/"):
            raise ValueError("path_prefix must be a path starting with /")
        return value
    if key == "seed":
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("seed must be an integer or null")
        return value
    raise ValueError(f"unknown fault setting: {key}")
