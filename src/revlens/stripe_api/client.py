"""One `StripeClient` per connected account, pointed at Stripe or the emulator by the settings."""

from __future__ import annotations

import threading

import stripe
from stripe._base_address import BaseAddresses

from revlens.config import Settings
from revlens.errors import ConfigError

# Every request and every stored payload is in this version: the one the SDK is built for.
API_VERSION: str = stripe.api_version


class StripeClients:
    """Builds and caches the platform client and one client per connected account."""

    def __init__(self, settings: Settings) -> None:
        if settings.stripe_secret_key is None:
            raise ConfigError(
                "REVLENS_STRIPE_SECRET_KEY", "is not set; revlens cannot reach Stripe"
            )
        self._secret_key = settings.stripe_secret_key.get_secret_value()
        self._client_id = settings.stripe_client_id
        self._bases: BaseAddresses = {
            "api": settings.stripe_api_base,
            "connect": settings.stripe_connect_base,
        }
        self._lock = threading.Lock()
        self._platform: stripe.StripeClient | None = None
        self._accounts: dict[str, stripe.StripeClient] = {}

    @property
    def livemode(self) -> bool:
        """Whether the platform key is a live key."""
        return self._secret_key.startswith(("sk_live_", "rk_live_"))

    def _build(self, stripe_account: str | None) -> stripe.StripeClient:
        # Retries are revlens' own (jittered, budgeted); the SDK's would double them.
        return stripe.StripeClient(
            self._secret_key,
            stripe_account=stripe_account,
            client_id=self._client_id,
            base_addresses=self._bases,
            stripe_version=API_VERSION,
            max_network_retries=0,
        )

    def platform(self) -> stripe.StripeClient:
        """Return the client of the platform's own account (no Stripe-Account header)."""
        with self._lock:
            if self._platform is None:
                self._platform = self._build(None)
            return self._platform

    def for_account(self, account_id: str) -> stripe.StripeClient:
        """Return the client that acts on behalf of one connected account."""
        if not account_id.startswith("acct_"):
            raise ValueError(f"not a Stripe account id: {account_id!r}")
        with self._lock:
            client = self._accounts.get(account_id)
            if client is None:
                client = self._accounts[account_id] = self._build(account_id)
            return client

    def forget(self, account_id: str) -> None:
        """Drop a disconnected account's client."""
        with self._lock:
            self._accounts.pop(account_id, None)
