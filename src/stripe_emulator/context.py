"""What a handler sees: the emulator, the scope it acts in, and the request's parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stripe_emulator.forms import Form
from stripe_emulator.http_types import Request
from stripe_emulator.params import EXPAND, Obj
from stripe_emulator.store import Scope, Store

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator


@dataclass
class Ctx:
    """Per-request context; handlers read params through `coerce` so unknown ones are rejected."""

    emulator: Emulator
    request: Request
    scope: Scope
    form: Form
    path_params: dict[str, str]
    request_id: str
    # True when the request carried a Stripe-Account header naming a connected account.
    on_behalf: bool = False
    # Work to run once the response is on the wire (list read-ahead).
    after_response: list[Callable[[], None]] = field(default_factory=list)
    # Set when acting on a test clock's objects: their time is the clock's frozen time.
    frozen_time: int | None = None

    @property
    def store(self) -> Store:
        """Return the object store."""
        return self.emulator.store

    @property
    def livemode(self) -> bool:
        """Return whether the request used a live key."""
        return self.scope.livemode

    def now(self) -> int:
        """Return the emulated time (a test clock's frozen time for its objects)."""
        if self.frozen_time is not None:
            return self.frozen_time
        return self.emulator.clock.now()

    def new_id(self, prefix: str, length: int = 14) -> str:
        """Return a fresh object id."""
        return self.emulator.ids.make(prefix, length)

    def coerce(self, spec: Obj) -> dict[str, Any]:
        """Validate the request's parameters against `spec` (plus `expand`) and return them."""
        if "expand" not in spec.fields:
            spec = spec.extend(expand=EXPAND)
        return spec.coerce_fields(self.form, None)

    def expand_paths(self) -> list[str]:
        """Return the requested expansions (already validated by `coerce`)."""
        raw = self.form.get("expand")
        if raw is None:
            return []
        paths: list[str] = EXPAND.coerce(raw, "expand")
        return paths
