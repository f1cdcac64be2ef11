"""Events (`evt_…`): the one place a state change is recorded and handed on.

`emit` stores an event in the acting account's partition, inside the caller's transaction, so an
event exists exactly when its change was committed. Listeners registered on
`emulator.event_listeners` (webhook delivery, later) are told about each new event as it is
stored: they run inside that transaction, so they must only queue work, never do I/O.

A bulk load that ends at a known instant (`EmulatorConfig.events_kept_from`) keeps no event
nobody can ever read: one created before that instant is past the Events API's retention by
the time the load ends, so while no webhook endpoint exists it is only counted and its id drawn
(`skip`), which keeps every later id what it would have been. Callers that render payloads ask
`wanted` first and call `skip` instead of building an event that would be dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from stripe_emulator.config import PINNED_API_VERSION
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.resources.base import Resource

JsonObject = dict[str, Any]
# Called with the scope the event was stored in and the event itself.
EventListener = Callable[[Scope, JsonObject], None]

# Which generic create/update/delete events each object type has, and their type prefix.
CRUD_EVENTS: dict[str, tuple[str, frozenset[str]]] = {
    "account": ("account", frozenset({"updated"})),
    "charge": ("charge", frozenset({"updated"})),
    "coupon": ("coupon", frozenset({"created", "updated", "deleted"})),
    "customer": ("customer", frozenset({"created", "updated", "deleted"})),
    "dispute": ("charge.dispute", frozenset({"updated"})),
    "invoice": ("invoice", frozenset({"created", "updated", "deleted"})),
    "invoiceitem": ("invoiceitem", frozenset({"created", "deleted"})),
    "payment_intent": ("payment_intent", frozenset({"created"})),
    "payment_method": ("payment_method", frozenset({"updated"})),
    "plan": ("plan", frozenset({"created", "updated", "deleted"})),
    "price": ("price", frozenset({"created", "updated", "deleted"})),
    "product": ("product", frozenset({"created", "updated", "deleted"})),
    "promotion_code": ("promotion_code", frozenset({"created", "updated"})),
    "refund": ("refund", frozenset({"created", "updated"})),
    "setup_intent": ("setup_intent", frozenset({"created"})),
    "subscription": ("customer.subscription", frozenset({"created", "updated", "deleted"})),
    "tax_id": ("customer.tax_id", frozenset({"created", "deleted"})),
    "tax_rate": ("tax_rate", frozenset({"created", "updated"})),
    "test_helpers.test_clock": ("test_helpers.test_clock", frozenset({"created", "deleted"})),
}

# Every type the emulator can emit; `type=invoice.*` filters expand against this set.
EVENT_TYPES: frozenset[str] = frozenset(
    {f"{prefix}.{action}" for prefix, actions in CRUD_EVENTS.values() for action in actions}
    | {
        "account.application.authorized",
        "account.application.deauthorized",
        "application_fee.created",
        "application_fee.refunded",
        "charge.captured",
        "charge.dispute.closed",
        "charge.dispute.created",
        "charge.dispute.funds_reinstated",
        "charge.dispute.funds_withdrawn",
        "charge.failed",
        "charge.refunded",
        "charge.succeeded",
        "customer.discount.created",
        "customer.discount.deleted",
        "customer.subscription.paused",
        "customer.subscription.resumed",
        "customer.subscription.trial_will_end",
        "invoice.finalized",
        "invoice.marked_uncollectible",
        "invoice.overdue",
        "invoice.paid",
        "invoice.payment_action_required",
        "invoice.payment_failed",
        "invoice.payment_succeeded",
        "invoice.sent",
        "invoice.upcoming",
        "invoice.voided",
        "invoice_payment.paid",
        "payment_intent.amount_capturable_updated",
        "payment_intent.canceled",
        "payment_intent.payment_failed",
        "payment_intent.processing",
        "payment_intent.requires_action",
        "payment_intent.succeeded",
        "payment_method.attached",
        "payment_method.detached",
        "refund.failed",
        "setup_intent.canceled",
        "setup_intent.setup_failed",
        "setup_intent.succeeded",
        "test_helpers.test_clock.advancing",
        "test_helpers.test_clock.internal_failure",
        "test_helpers.test_clock.ready",
    }
)


def snapshot(obj: JsonObject) -> JsonObject:
    """Return a deep copy, so later changes to `obj` do not leak into a stored event."""
    # Objects are JSON already; a JSON round trip copies them ~10x faster than deepcopy.
    copied: JsonObject = orjson.loads(orjson.dumps(obj))
    return copied


def previous_attributes(before: JsonObject, after: JsonObject) -> JsonObject:
    """Return the old values of what changed: hashes diffed key by key, lists whole."""
    changed: JsonObject = {}
    for key in [*before, *(key for key in after if key not in before)]:
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and _is_hash(old) and _is_hash(new):
            changed[key] = previous_attributes(old, new)
        else:
            changed[key] = old
    return {key: changed[key] for key in sorted(changed)}


def _is_hash(value: Any) -> bool:
    # List objects (`items`, `lines`) change as a whole, like arrays.
    return isinstance(value, dict) and value.get("object") != "list"


def wanted(ctx: Ctx) -> bool:
    """Tell whether an event emitted now can ever be read (and so must be built and stored).

    Only a bulk load with `events_kept_from` drops events: those created before that instant,
    while no webhook endpoint exists anywhere to deliver them to.
    """
    emulator = ctx.emulator
    kept_from = emulator.config.events_kept_from
    if kept_from is None or ctx.now() >= kept_from:
        return True
    return emulator.webhooks.directory.any_endpoint()


def skip(ctx: Ctx) -> str:
    """Stand in for an event `wanted` refused: count it, draw its id (returned), store nothing."""
    ctx.emulator.events_emitted += 1
    return ctx.new_id("evt", 24)


def changed(before: JsonObject, after: JsonObject) -> bool:
    """Tell whether `previous_attributes(before, after)` is not empty, without building it."""
    if before.keys() != after.keys():
        return any(before.get(key) != after.get(key) for key in {*before, *after})
    return before != after


def emit(
    ctx: Ctx,
    type_: str,
    obj: JsonObject,
    *,
    previous: JsonObject | None = None,
    scope: Scope | None = None,
) -> JsonObject:
    """Record an event of `type_` carrying `obj` as it is now, and hand it to the listeners.

    The event's `data` holds the objects already serialised (`orjson.Fragment`). An event
    nobody can read (`wanted`) is only counted and given its id: what is returned then is a
    stub (`id`, `object`, `type`) that was neither stored nor handed on.
    """
    if not wanted(ctx):
        return {"id": skip(ctx), "object": "event", "type": type_}
    scope = scope or ctx.scope
    emulator = ctx.emulator
    emulator.events_emitted += 1
    # Serialised now, so later changes to `obj` cannot leak into the event: a copy for free.
    data: JsonObject = {"object": orjson.Fragment(orjson.dumps(obj))}
    if previous is not None:
        data["previous_attributes"] = orjson.Fragment(orjson.dumps(previous))
    idempotency_key = ctx.request.header("idempotency-key") if ctx.request_id else None
    # Keys in Stripe's order: `id`, `object`, then alphabetical.
    event: JsonObject = {"id": ctx.new_id("evt", 24), "object": "event"}
    if scope.account != emulator.platform.account_id:
        event["account"] = scope.account
    event["api_version"] = PINNED_API_VERSION
    event["created"] = ctx.now()
    event["data"] = data
    event["livemode"] = scope.livemode
    event["pending_webhooks"] = 0
    # An empty request id marks an automatic change (a renewal, a retry): Stripe sends nulls.
    event["request"] = {"id": ctx.request_id or None, "idempotency_key": idempotency_key}
    event["type"] = type_
    ctx.store.insert(scope, "event", event, event_slots(event))
    for listener in emulator.event_listeners:
        listener(scope, event)
    return event


def event_slots(event: JsonObject) -> tuple[str | None, ...]:
    """Return the promoted columns list filters use: type and delivery success."""
    return (event["type"], "1" if event["pending_webhooks"] == 0 else "0")


def crud_event(
    ctx: Ctx,
    resource: Resource,
    action: str,
    obj: JsonObject,
    before: JsonObject | None = None,
) -> None:
    """Emit `<object>.<action>` for a generic create/update/delete, when Stripe has that event."""
    known = CRUD_EVENTS.get(resource.object)
    if known is None or action not in known[1]:
        return
    from stripe_emulator.resources.crud import present

    if not wanted(ctx):
        # Dropped unseen, but only an update that changes what the API shows has an event.
        if before is None or changed(
            present(ctx, resource, snapshot(before), []), present(ctx, resource, snapshot(obj), [])
        ):
            skip(ctx)
        return
    shown = present(ctx, resource, snapshot(obj), [])
    previous = None
    if before is not None:
        previous = previous_attributes(present(ctx, resource, snapshot(before), []), shown)
        if not previous:
            return
    scope = None
    if resource.object == "account":
        # Account events belong to the account they describe, whoever made the change.
        scope = Scope(obj["id"], ctx.livemode)
    emit(ctx, f"{known[0]}.{action}", shown, previous=previous, scope=scope)
