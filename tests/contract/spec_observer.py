"""Every `/v1` response an in-process emulator gives any test is checked against Stripe's spec.

`tests/conftest.py` registers one `Recorder` as an emulator observer for the session; after each
test the responses it provoked are validated (see `spec_schemas.Spec.check`) and the test errors
if any of them does not match. Emulators run by a subprocess (`revlens demo`, CLI tests) are not
seen; the scripted run in test_emulator_schemas.py covers every endpoint regardless.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import orjson

from stripe_emulator.http_types import Request, Response
from tests.contract.spec_schemas import Spec, load_spec

Seen = tuple[str, str, int, bytes]


class Recorder:
    """Keeps the API responses given since the last `drain`, and how many were checked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: list[Seen] = []
        self.checked = 0
        self.seconds = 0.0

    def __call__(self, request: Request, response: Response) -> None:
        if not request.path.startswith("/v1/"):
            return
        if response.headers.get("content-type") != "application/json":
            return
        with self._lock:
            self._pending.append((request.method, request.path, response.status, response.body))

    def drain(self) -> list[Seen]:
        """Return and forget what was recorded."""
        with self._lock:
            pending, self._pending = self._pending, []
        return pending

    def problems(self, spec_path: Path, limit: int = 20) -> list[str]:
        """Validate what was recorded since the last call; return up to `limit` problems."""
        seen = self.drain()
        if not seen:
            return []
        started = time.perf_counter()
        spec: Spec = load_spec(spec_path)
        found: list[str] = []
        for method, path, status, body in seen:
            parsed: Any = orjson.loads(body)
            found.extend(spec.check(method, path, status, parsed))
            if len(found) >= limit:
                break
        self.checked += len(seen)
        self.seconds += time.perf_counter() - started
        return found[:limit]
