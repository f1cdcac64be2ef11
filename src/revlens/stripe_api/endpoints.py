"""The webhook endpoints revlens registers in the platform's Stripe account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from revlens.stripe_api.client import StripeClients

ENABLED_EVENTS = ["*"]


@dataclass(frozen=True)
class Endpoint:
    """A webhook endpoint and, when Stripe just created it, its signing secret."""

    stripe_id: str
    url: str
    connect: bool
    secret: str | None


def existing_endpoints(clients: StripeClients, url: str) -> list[Endpoint]:
    """Return the platform's endpoints that point at `url` (secrets are not shown again)."""
    found: list[Endpoint] = []
    params: dict[str, Any] = {"limit": 100}
    while True:
        page = clients.platform().raw_request("get", "/v1/webhook_endpoints", **params).data
        for item in page["data"]:
            if item["url"] == url:
                # Stripe does not return `connect` on the object; application endpoints have
                # `application` set, account endpoints do not.
                connect = bool(item.get("application")) or bool(item.get("connect"))
                found.append(Endpoint(item["id"], item["url"], connect, None))
        if not page["has_more"]:
            return found
        params["starting_after"] = page["data"][-1]["id"]


def create_endpoint(clients: StripeClients, url: str, *, connect: bool) -> Endpoint:
    """Create an endpoint for all events and return it with its secret."""
    created = clients.platform().v1.webhook_endpoints.create(
        {
            "url": url,
            "enabled_events": ENABLED_EVENTS,  # type: ignore[typeddict-item]
            "connect": connect,
            "description": "revlens " + ("Connect events" if connect else "account events"),
        }
    )
    return Endpoint(str(created.id), url, connect, str(created.secret))


def delete_endpoint(clients: StripeClients, stripe_id: str) -> None:
    """Delete an endpoint whose secret revlens no longer knows."""
    clients.platform().v1.webhook_endpoints.delete(stripe_id)
