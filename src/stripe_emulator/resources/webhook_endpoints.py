"""Webhook endpoints (`we_…`): where events are delivered; the `whsec_…` secret shows once."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid
from stripe_emulator.events import EVENT_TYPES
from stripe_emulator.params import Arr, Bool, Obj, Str
from stripe_emulator.resources.base import JsonObject, Resource
from stripe_emulator.resources.crud import new_id, order_keys, save
from stripe_emulator.resources.shapes import METADATA, NULLABLE_STR, merge_metadata

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

_EVENT_NAME = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)+$")
ENABLED_EVENTS = Arr(item=Str(max_length=200), max_items=300)
CREATE = Obj(
    fields={
        "api_version": Str(),
        "connect": Bool(),
        "description": NULLABLE_STR,
        "enabled_events": ENABLED_EVENTS,
        "metadata": METADATA,
        "url": Str(),
    },
    required=("enabled_events", "url"),
)
UPDATE = Obj(
    fields={
        "description": NULLABLE_STR,
        "disabled": Bool(),
        "enabled_events": ENABLED_EVENTS,
        "metadata": METADATA,
        "url": Str(),
    }
)
# Stored with the endpoint for delivery but never shown after creation (`connect` never is;
# `expiring_secrets` holds rolled secrets that still sign until they expire).
HIDDEN = ("connect", "secret", "expiring_secrets")


def _check_url(url: str) -> str:
    if not url.startswith(("http://", "https://")):
        raise invalid("Invalid URL: URL must be publicly accessible.", param="url")
    return url


def _check_events(names: list[str]) -> list[str]:
    for index, name in enumerate(names):
        # Unknown but well-formed names are accepted: the emulator emits only a subset.
        if name != "*" and name not in EVENT_TYPES and not _EVENT_NAME.match(name):
            raise invalid(
                f"Invalid enabled_events[{index}]: must be one of the known event types",
                param=f"enabled_events[{index}]",
            )
    return names


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new endpoint with its signing secret."""
    return {
        "id": object_id,
        "object": "webhook_endpoint",
        "api_version": params.get("api_version"),
        # A Connect endpoint belongs to the platform's application, as at Stripe.
        "application": ctx.emulator.platform.client_id if params.get("connect") else None,
        "connect": params.get("connect", False),
        "created": ctx.now(),
        "description": params.get("description"),
        "enabled_events": _check_events(params["enabled_events"]),
        "livemode": ctx.livemode,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "secret": "whsec_" + ctx.emulator.ids.make("x", 32)[2:],
        "status": "enabled",
        "url": _check_url(params["url"]),
    }


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update; `disabled` switches the status."""
    if "url" in params:
        obj["url"] = _check_url(params["url"])
    if "enabled_events" in params:
        obj["enabled_events"] = _check_events(params["enabled_events"])
    if "description" in params:
        obj["description"] = params["description"]
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    if "disabled" in params:
        obj["status"] = "disabled" if params["disabled"] else "enabled"
    return obj


def render(ctx: Ctx, obj: JsonObject) -> JsonObject:
    """Hide the secret and the Connect flag."""
    for name in HIDDEN:
        obj.pop(name, None)
    return obj


WEBHOOK_ENDPOINT = Resource(
    object="webhook_endpoint",
    path="/v1/webhook_endpoints",
    id_prefix="we",
    id_length=24,
    noun="webhook endpoint",
    update_params=UPDATE,
    apply_update=update,
    deletable=True,
    render=render,
)


def create(ctx: Ctx) -> dict[str, Any]:
    """`POST /v1/webhook_endpoints`: the only response that carries the secret."""
    params = ctx.coerce(CREATE)
    params.pop("expand", None)
    obj = order_keys(build(ctx, params, new_id(ctx, WEBHOOK_ENDPOINT, params)))
    save(ctx, WEBHOOK_ENDPOINT, obj, new=True)
    shown = {key: value for key, value in obj.items() if key != "connect"}
    return shown


def register(emulator: Emulator) -> None:
    """Add webhook endpoints."""
    emulator.add_resource(WEBHOOK_ENDPOINT)
    emulator.router.add("POST", "/v1/webhook_endpoints", create)
