"""Control endpoints for webhook delivery: settings and faults, the attempt log, secret rolling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from stripe_emulator.errors import invalid, resource_missing
from stripe_emulator.resources.webhook_endpoints import WEBHOOK_ENDPOINT
from stripe_emulator.store import Scope
from stripe_emulator.webhooks.targets import ENDPOINT

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator
    from stripe_emulator.webhooks.delivery import WebhookDelivery

# Stripe keeps a rolled secret valid for at most 24 hours.
MAX_EXPIRY = 24 * 60 * 60


def install_webhook_control(emulator: Emulator, delivery: WebhookDelivery) -> None:
    """Register `/_emulator/webhooks…` and `/_emulator/webhook_endpoints/{id}/roll_secret`."""
    router = emulator.control_router

    def get_settings(_emulator: Emulator, _body: dict[str, Any]) -> dict[str, Any]:
        return delivery.knobs.settings.to_json()

    def set_settings(_emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
        return delivery.knobs.configure(body).to_json()

    def attempts(_emulator: Emulator, _body: dict[str, Any]) -> dict[str, Any]:
        return {"data": list(delivery.attempt_log), "stats": dict(delivery.stats)}

    def roll(emulator: Emulator, body: dict[str, Any], id: str) -> dict[str, Any]:
        return roll_secret(emulator, id, body.get("expires_in", MAX_EXPIRY))

    router.add("GET", "/_emulator/webhooks", get_settings)
    router.add("POST", "/_emulator/webhooks", set_settings)
    router.add("GET", "/_emulator/webhooks/attempts", attempts)
    router.add("POST", "/_emulator/webhook_endpoints/{id}/roll_secret", roll)


def roll_secret(emulator: Emulator, endpoint_id: str, expires_in: Any) -> dict[str, Any]:
    """Give an endpoint a new secret; the old one keeps signing for `expires_in` seconds."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int):
        raise invalid("expires_in must be a whole number of seconds.", param="expires_in")
    if not 0 <= expires_in <= MAX_EXPIRY:
        raise invalid(f"expires_in must be between 0 and {MAX_EXPIRY} seconds.", param="expires_in")
    store = emulator.store
    rows = store.execute(
        "SELECT account, livemode, data FROM objects WHERE type=? AND id=? AND deleted=0",
        (ENDPOINT, endpoint_id),
    )
    if not rows:
        raise resource_missing(WEBHOOK_ENDPOINT.label, endpoint_id)
    account, livemode, data = rows[0]
    scope = Scope(account, bool(livemode))
    endpoint: dict[str, Any] = orjson.loads(data)
    now = emulator.clock.now()
    kept = [old for old in endpoint.get("expiring_secrets") or [] if old["expires_at"] > now]
    if expires_in:
        kept.insert(0, {"secret": endpoint["secret"], "expires_at": now + expires_in})
    endpoint["expiring_secrets"] = kept
    endpoint["secret"] = "whsec_" + emulator.ids.make("x", 32)[2:]
    store.update(scope, ENDPOINT, endpoint, WEBHOOK_ENDPOINT.slots(endpoint))
    return {
        "id": endpoint_id,
        "secret": endpoint["secret"],
        "expiring_secrets": kept,
    }
