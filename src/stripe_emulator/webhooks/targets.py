"""Which webhook endpoints receive an event (wire doc §4.5).

- An account endpoint receives the events of the account (and mode) that owns it.
- A platform endpoint created with `connect=true` receives the events of every connected
  account, following Stripe's live/test routing: a live event goes to live Connect endpoints
  when the account is connected in live mode; a test event goes to test Connect endpoints when
  it is connected in test mode and to live ones when it is connected in live mode.
- `enabled_events` filters by exact type; `*` means every type. Disabled endpoints get nothing.

Endpoints are read once per (account, mode) and cached until the store says a webhook endpoint
of that partition was written (its generation counter moved). Whether any endpoint exists at all,
in any partition, is known without a query until an endpoint is written or such a write is
rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

ENDPOINT = "webhook_endpoint"
DEAUTHORIZED = "account.application.deauthorized"


@dataclass(frozen=True)
class EndpointKey:
    """Where a webhook endpoint is stored: its partition and id."""

    scope: Scope
    id: str


class EndpointDirectory:
    """Cached view of the stored webhook endpoints, per partition."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self._cache: dict[Scope, tuple[int, dict[str, dict[str, Any]]]] = {}
        # Whether a live endpoint exists anywhere (None: to be read again), and whether one
        # was ever written here (only then can a rollback change the answer).
        self._anywhere: bool | None = None
        self._written = False
        emulator.store.write_listeners.append(self._observe)
        emulator.store.rollback_listeners.append(self._rolled_back)

    def any_endpoint(self) -> bool:
        """Tell whether a (not deleted) webhook endpoint exists in any account and mode."""
        found = self._anywhere
        if found is not None:
            return found
        store = self._emulator.store
        with store.lock:
            rows = store.execute(
                "SELECT 1 FROM objects WHERE type=? AND deleted=0 LIMIT 1", (ENDPOINT,)
            )
            self._anywhere = found = bool(rows)
        return found

    def _observe(self, scope: Scope, type_: str, obj: dict[str, Any], deleted: bool) -> None:
        # Runs under the store lock, like `any_endpoint`'s read: the two cannot interleave.
        if type_ == ENDPOINT:
            self._anywhere = None
            self._written = True

    def _rolled_back(self) -> None:
        if self._written:
            self._anywhere = None

    def endpoints(self, scope: Scope) -> dict[str, dict[str, Any]]:
        """Return the live (not deleted) endpoints of a partition by id."""
        store = self._emulator.store
        # Fast path without the store lock: a stale generation only means a re-read below.
        cached = self._cache.get(scope)
        if cached is not None and cached[0] == store.generation(scope, ENDPOINT):
            return cached[1]
        with store.lock:
            generation = store.generation(scope, ENDPOINT)
            rows = store.execute(
                "SELECT data FROM objects WHERE account=? AND livemode=? AND type=?"
                " AND deleted=0 ORDER BY seq",
                (scope.account, scope.livemode, ENDPOINT),
            )
            found = {obj["id"]: obj for obj in (orjson.loads(row[0]) for row in rows)}
            self._cache[scope] = (generation, found)
            return found

    def get(self, key: EndpointKey) -> dict[str, Any] | None:
        """Return an endpoint as stored (with its secrets), or None once deleted."""
        return self.endpoints(key.scope).get(key.id)

    def targets(self, scope: Scope, event: dict[str, Any]) -> list[EndpointKey]:
        """Return the endpoints that must receive `event`, stored in `scope`."""
        platform = self._emulator.platform.account_id
        if not self.endpoints(scope) and not self._platform_has_endpoints(platform):
            return []  # the common case (a seeded history): no one to tell
        type_ = event["type"]
        found = [
            EndpointKey(scope, endpoint_id)
            for endpoint_id, endpoint in self.endpoints(scope).items()
            if (scope.account != platform or not endpoint.get("connect")) and wants(endpoint, type_)
        ]
        if scope.account == platform:
            return found
        for mode in self._connect_modes(scope, type_):
            platform_scope = Scope(platform, mode)
            found.extend(
                EndpointKey(platform_scope, endpoint_id)
                for endpoint_id, endpoint in self.endpoints(platform_scope).items()
                if endpoint.get("connect") and wants(endpoint, type_)
            )
        return found

    def _platform_has_endpoints(self, platform: str) -> bool:
        return bool(self.endpoints(Scope(platform, False)) or self.endpoints(Scope(platform, True)))

    def _connect_modes(self, scope: Scope, type_: str) -> list[bool]:
        """Return the modes of the platform's Connect endpoints that hear this account."""
        modes = [True] if scope.livemode else [False, True]
        return [mode for mode in modes if self._connected(scope, mode, type_)]

    def _connected(self, scope: Scope, mode: bool, type_: str) -> bool:
        connections = self._emulator.connections
        if connections.is_active(scope.account, livemode=mode):
            return True
        # The deauthorization event is recorded after the connection is revoked, and it is
        # precisely the one the platform must hear about.
        return (
            type_ == DEAUTHORIZED
            and mode == scope.livemode
            and connections.get(scope.account, livemode=mode) is not None
        )


def wants(endpoint: dict[str, Any], type_: str) -> bool:
    """Tell whether an enabled endpoint subscribes to an event type."""
    if endpoint.get("status") != "enabled":
        return False
    enabled = endpoint.get("enabled_events") or []
    return "*" in enabled or type_ in enabled


def active_secrets(endpoint: dict[str, Any], now: int) -> list[str]:
    """Return the secrets to sign with: the current one, then rolled ones not yet expired."""
    secrets = [endpoint["secret"]]
    for old in endpoint.get("expiring_secrets") or []:
        if old["expires_at"] > now:
            secrets.append(old["secret"])
    return secrets
