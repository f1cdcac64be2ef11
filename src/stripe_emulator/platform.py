"""The one platform account this emulator serves, its keys, and its Connect connections."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import orjson

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.ids import IdGenerator
from stripe_emulator.store import Store


@dataclass(frozen=True)
class Platform:
    """Identity of the platform: account id, API keys in both modes and the Connect client id."""

    account_id: str
    secret_key_test: str
    secret_key_live: str
    publishable_key_test: str
    publishable_key_live: str
    client_id: str
    redirect_uris: tuple[str, ...]
    created: int

    def secret_key(self, livemode: bool) -> str:
        """Return the secret key of a mode."""
        return self.secret_key_live if livemode else self.secret_key_test

    def to_json(self) -> dict[str, object]:
        """Return the platform as the control API shows it."""
        data = asdict(self)
        data["redirect_uris"] = list(self.redirect_uris)
        return data


def load_or_create_platform(
    store: Store, config: EmulatorConfig, ids: IdGenerator, now: int
) -> Platform:
    """Reuse the platform persisted in the state file; explicit config values win."""
    stored = store.meta_get("platform")
    if stored is not None:
        base = orjson.loads(stored)
    else:
        suffix = ids.make("x", 24)[2:]
        base = {
            "account_id": ids.make("acct", 16),
            "secret_key_test": f"sk_test_{suffix}",
            "secret_key_live": f"sk_live_{suffix}",
            "publishable_key_test": f"pk_test_{suffix}",
            "publishable_key_live": f"pk_live_{suffix}",
            "client_id": ids.make("ca", 32),
            "redirect_uris": [],
            "created": now,
        }
    if config.secret_key is not None:
        base["secret_key_test"] = config.secret_key
    if config.live_secret_key is not None:
        base["secret_key_live"] = config.live_secret_key
    if config.client_id is not None:
        base["client_id"] = config.client_id
    if config.redirect_uris:
        base["redirect_uris"] = list(config.redirect_uris)
    platform = Platform(**{**base, "redirect_uris": tuple(base["redirect_uris"])})
    with store.transaction():
        store.meta_set("platform", orjson.dumps(platform.to_json()).decode())
    return platform


@dataclass(frozen=True)
class Connection:
    """A connected account's link to the platform in one mode."""

    account: str
    livemode: bool
    scope: str
    active: bool
    created: int


class Connections:
    """Which accounts the platform may act as (`Stripe-Account`), per mode; revocable."""

    def __init__(self, store: Store, platform_id: str) -> None:
        self._store = store
        self._platform = platform_id
        # Every request with Stripe-Account asks; writes drop the entry (and a rolled-back
        # write only costs a re-read), so the cache never answers with stale data.
        self._active: dict[tuple[str, bool], bool] = {}

    def connect(self, account: str, *, livemode: bool, scope: str, now: int) -> None:
        """Connect (or reconnect) an account in one mode."""
        self._active.pop((account, livemode), None)
        self._store.execute(
            "INSERT INTO connections (platform, account, livemode, scope, active, created)"
            " VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (platform, account, livemode)"
            " DO UPDATE SET scope=excluded.scope, active=1, revoked=NULL",
            (self._platform, account, livemode, scope, now),
        )

    def revoke(self, account: str, *, livemode: bool | None = None, now: int) -> bool:
        """Revoke the connection in one mode (or both); return whether one was active."""
        modes = (False, True) if livemode is None else (livemode,)
        changed = False
        for mode in modes:
            before = self.get(account, livemode=mode)
            self._active.pop((account, mode), None)
            if before is not None and before.active:
                changed = True
                self._store.execute(
                    "UPDATE connections SET active=0, revoked=? WHERE platform=? AND account=?"
                    " AND livemode=?",
                    (now, self._platform, account, mode),
                )
        return changed

    def get(self, account: str, *, livemode: bool) -> Connection | None:
        """Return the connection of an account in a mode, active or not."""
        rows = self._store.execute(
            "SELECT account, livemode, scope, active, created FROM connections"
            " WHERE platform=? AND account=? AND livemode=?",
            (self._platform, account, livemode),
        )
        if not rows:
            return None
        account_id, mode, scope, active, created = rows[0]
        return Connection(account_id, bool(mode), scope, bool(active), created)

    def is_active(self, account: str, *, livemode: bool) -> bool:
        """Tell whether the platform may currently act as this account in this mode."""
        key = (account, livemode)
        cached = self._active.get(key)
        if cached is None:
            connection = self.get(account, livemode=livemode)
            cached = self._active[key] = connection is not None and connection.active
        return cached
