"""Settings for one emulator instance, built by the CLI or by tests and passed down."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PINNED_API_VERSION = "2026-08-26.dahlia"

_SECRET_KEY = re.compile(r"^sk_(test|live)_[A-Za-z0-9]{8,247}$")
_CLIENT_ID = re.compile(r"^ca_[A-Za-z0-9]{8,64}$")


class ConfigError(ValueError):
    """An emulator setting is malformed."""


@dataclass(frozen=True)
class RateLimitSettings:
    """Token-bucket rates in requests per second; `enabled` off means no limiting at all."""

    enabled: bool = False
    global_test: float = 25.0
    global_live: float = 100.0
    endpoint: float = 25.0
    # Requests in flight at once per account and mode (`global-concurrency`), and list or
    # expanding requests in flight per endpoint (`endpoint-concurrency`). Stripe publishes no
    # numbers; these are the emulator's choice (README).
    concurrency: float = 20.0
    endpoint_concurrency: float = 5.0


@dataclass(frozen=True)
class FaultSettings:
    """Injected misbehaviour; every rate is a probability in [0, 1] per API request."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0
    error_statuses: tuple[int, ...] = (500,)
    drop_rate: float = 0.0
    truncate_rate: float = 0.0
    lock_timeout_rate: float = 0.0
    path_prefix: str = "/v1/"
    seed: int | None = None


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything needed to start an emulator; unset keys are generated (and persisted)."""

    host: str = "127.0.0.1"
    port: int = 0
    state_file: str | None = None
    # Bulk writing into a file nobody reads meanwhile (the seed generator): an in-memory
    # rollback journal instead of WAL writes each page once; a crash leaves the file unusable.
    bulk_load: bool = False
    # In a bulk load that ends at a known instant (the seed generator's `end`), events created
    # before this instant are past the Events API's 30-day retention by the time anyone can
    # read them: they are counted and their ids drawn (every id stays the same) but they are
    # neither built nor stored, as long as no webhook endpoint exists to deliver them to.
    events_kept_from: int | None = None
    now: int | None = None
    secret_key: str | None = None
    live_secret_key: str | None = None
    client_id: str | None = None
    redirect_uris: tuple[str, ...] = ()
    control: bool = False
    seed: int | None = None
    # Shown on the OAuth consent page (Stripe shows the platform's name and icon there).
    platform_name: str | None = None
    platform_icon: str | None = None
    rate_limits: RateLimitSettings = field(default_factory=RateLimitSettings)
    faults: FaultSettings = field(default_factory=FaultSettings)

    def __post_init__(self) -> None:
        if self.secret_key is not None and not self.secret_key.startswith("sk_test_"):
            raise ConfigError("secret key must look like sk_test_…")
        if self.live_secret_key is not None and not self.live_secret_key.startswith("sk_live_"):
            raise ConfigError("live secret key must look like sk_live_…")
        for key in (self.secret_key, self.live_secret_key):
            if key is not None and not _SECRET_KEY.match(key):
                raise ConfigError(f"malformed secret key: {key[:8]}…")
        if self.client_id is not None and not _CLIENT_ID.match(self.client_id):
            raise ConfigError("client id must look like ca_ followed by 8-64 letters or digits")
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"port out of range: {self.port}")
        if self.events_kept_from is not None and not self.bulk_load:
            raise ConfigError(
                "events_kept_from only applies to a bulk load (bulk_load=True): events of a"
                " running emulator can be read as soon as they are stored"
            )
        for uri in self.redirect_uris:
            if not uri.startswith(("http://", "https://")):
                raise ConfigError(f"redirect URI must be http(s): {uri}")
