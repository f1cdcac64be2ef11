"""The emulator's state: store, clock, ids, platform, connections, resources and routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stripe_emulator.clock import Clock, WallClock
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.events import EventListener
from stripe_emulator.faults import FaultInjector
from stripe_emulator.http_types import Handler
from stripe_emulator.ids import IdGenerator
from stripe_emulator.platform import Connections, Platform, load_or_create_platform
from stripe_emulator.ratelimit import RateLimiter
from stripe_emulator.readahead import ReadAhead
from stripe_emulator.resources.base import Registry, Resource
from stripe_emulator.resources.crud import Wrap, fetch_for_expand, make_handlers
from stripe_emulator.routing import Router
from stripe_emulator.store import Store

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.engine.runner import Engine
    from stripe_emulator.webhooks.delivery import WebhookDelivery

# A control endpoint takes the emulator, the JSON body and path parameters.
ControlHandler = Callable[..., Any]


# Resolves a bearer key to (account id, livemode, key kind); later parts add OAuth tokens.
KeyResolver = Callable[[str], "tuple[str, bool] | None"]


class Emulator:
    """One emulated Stripe: build it, serve `asgi_app(emulator)`, close it when done."""

    def __init__(self, config: EmulatorConfig, *, clock: Clock | None = None) -> None:
        self.config = config
        self.store = Store(config.state_file, bulk_load=config.bulk_load)
        self.clock: Clock = clock or WallClock(config.now)
        boots = int(self.store.meta_get("boots") or "0") + 1
        with self.store.transaction():
            self.store.meta_set("boots", str(boots))
        # A restarted emulator with the same seed must not regenerate ids it already handed out.
        seed = None if config.seed is None else config.seed + (boots - 1) * 1_000_003
        self.ids = IdGenerator(seed)
        self.platform: Platform = load_or_create_platform(
            self.store, config, self.ids, self.clock.now()
        )
        self.connections = Connections(self.store, self.platform.account_id)
        self.registry = Registry()
        self.router: Router[Handler] = Router()
        self.control_router: Router[ControlHandler] = Router()
        self.rate_limiter = RateLimiter(config.rate_limits)
        self.faults = FaultInjector(config.faults)
        self.read_ahead = ReadAhead()
        self.key_resolvers: list[KeyResolver] = [self._platform_key]
        # Told about every stored event (webhook delivery subscribes here).
        self.event_listeners: list[EventListener] = []
        # Every event emitted since start, stored or dropped (`EmulatorConfig.events_kept_from`).
        self.events_emitted = 0
        from stripe_emulator.oauth.grants import Grants

        self.oauth_grants = Grants(self)
        self.key_resolvers.append(self.oauth_grants.resolve_key)
        from stripe_emulator.control import install_control
        from stripe_emulator.resources.catalog import install_resources

        install_resources(self)
        if config.control:
            install_control(self)
        from stripe_emulator.webhooks.delivery import install_delivery

        self.webhooks: WebhookDelivery = install_delivery(self)
        from stripe_emulator.engine.runner import install_engine

        self.engine: Engine = install_engine(self)

    def close(self) -> None:
        """Stop the billing engine and webhook delivery, then release the store."""
        self.engine.close()
        self.webhooks.close()
        self.store.close()

    def add_resource(self, resource: Resource, *, wrap: Wrap | None = None) -> None:
        """Register a resource definition and its standard routes."""
        self.registry.add(resource)
        make_handlers(self, resource, wrap)

    def resolve_key(self, key: str) -> tuple[str, bool] | None:
        """Return (account id, livemode) for a secret key, or None if it is not valid."""
        for resolver in self.key_resolvers:
            found = resolver(key)
            if found is not None:
                return found
        return None

    def _platform_key(self, key: str) -> tuple[str, bool] | None:
        if key == self.platform.secret_key_test:
            return (self.platform.account_id, False)
        if key == self.platform.secret_key_live:
            return (self.platform.account_id, True)
        return None

    def fetch_for_expand(self, ctx: Ctx, object_type: str, object_id: str) -> Any:
        """Return the object an expandable field names (or the id when it cannot be found)."""
        resource = self.registry.get(object_type)
        if resource is None:
            return object_id
        return fetch_for_expand(ctx, resource, object_id)
