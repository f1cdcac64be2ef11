"""Observers of API traffic: callables told of every `/v1` request and its response.

Nothing in the emulator needs them; test suites register one to check every response they
provoke (for example against Stripe's OpenAPI spec). With no observer the cost is one check.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from stripe_emulator.http_types import Request, Response

Observer = Callable[[Request, Response], None]

_lock = threading.Lock()
_observers: tuple[Observer, ...] = ()


def add_observer(observer: Observer) -> None:
    """Call `observer(request, response)` for every API response of every emulator here."""
    global _observers  # noqa: PLW0603 - a process-wide registration, swapped atomically
    with _lock:
        _observers = (*_observers, observer)


def remove_observer(observer: Observer) -> None:
    """Stop calling an observer added before."""
    global _observers  # noqa: PLW0603
    with _lock:
        _observers = tuple(o for o in _observers if o is not observer)


def notify(request: Request, response: Response) -> None:
    """Tell every observer; an observer that raises is the caller's bug and propagates."""
    for observer in _observers:
        observer(request, response)
