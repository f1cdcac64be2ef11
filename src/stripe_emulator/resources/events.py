"""`GET /v1/events` and `GET /v1/events/{id}`: the read side of `stripe_emulator.events`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid, resource_missing
from stripe_emulator.events import EVENT_TYPES
from stripe_emulator.http_types import Handler, RawJson
from stripe_emulator.lists import fetch_page, list_params, raw_list
from stripe_emulator.params import Arr, Bool, Str
from stripe_emulator.resources.base import ListFilter, Resource
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

MAX_TYPES = 20
# Events are kept (listed and retrievable) for 30 days, measured on the emulator's clock.
RETENTION = 30 * 24 * 60 * 60
# Matches nothing, for a wildcard no known type fits.
_NO_TYPE = "-"


def _type_values(pattern: str) -> tuple[str, ...]:
    """Expand `invoice.*` (or an exact name) to the event types it selects."""
    if pattern == "*":
        return tuple(sorted(EVENT_TYPES))
    if pattern.endswith(".*"):
        prefix = pattern[:-1]
        found = tuple(sorted(name for name in EVENT_TYPES if name.startswith(prefix)))
        return found or (_NO_TYPE,)
    return (pattern,)


def _type_conditions(value: Any) -> list[Condition]:
    patterns = value if isinstance(value, list) else [value]
    names = tuple(name for pattern in patterns for name in _type_values(pattern))
    return [Condition("k1", names)]


EVENT = Resource(
    object="event",
    path="/v1/events",
    id_prefix="evt",
    id_length=24,
    listable=False,
    list_filters={
        "delivery_success": ListFilter("k2", Bool()),
        "type": ListFilter("k1", Str(max_length=5000), to_conditions=_type_conditions),
        "types": ListFilter(
            "k1", Arr(item=Str(), max_items=MAX_TYPES), to_conditions=_type_conditions
        ),
    },
)


def list_events(ctx: Ctx) -> dict[str, Any] | RawJson:
    """`GET /v1/events`: newest first; `type` and `types` are exclusive."""
    params = ctx.coerce(list_params(EVENT))
    if "type" in params and "types" in params:
        raise invalid(
            "You may only specify one of these parameters: type, types.",
            param="types",
            code="parameters_exclusive",
        )
    created = dict(params.get("created") or {})
    cutoff = ctx.now() - RETENTION
    created["gte"] = max(created.get("gte", cutoff), cutoff)
    page = fetch_page(ctx, EVENT, {**params, "created": created})
    return raw_list("/v1/events", page.rows, page.has_more)


def _retained(handler: Handler, template: str) -> Handler:
    """Make `GET /v1/events/{id}` answer 404 for an event older than 30 days."""
    if template != "/v1/events/{id}":
        return handler

    def retrieve(ctx: Ctx) -> dict[str, Any] | RawJson:
        event = handler(ctx)
        if isinstance(event, dict) and event.get("created", 0) < ctx.now() - RETENTION:
            raise resource_missing(EVENT.label, ctx.path_params["id"])
        return event

    return retrieve


def register(emulator: Emulator) -> None:
    """Add the events read API."""
    emulator.add_resource(EVENT, wrap=_retained)
    emulator.router.add("GET", "/v1/events", list_events)
