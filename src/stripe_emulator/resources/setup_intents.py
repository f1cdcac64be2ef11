"""Setup intents (`seti_…`): save a card for later; confirming attaches it to the customer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator import events
from stripe_emulator.billing.cards import CardError
from stripe_emulator.billing.system import commit_then_raise
from stripe_emulator.errors import invalid
from stripe_emulator.params import AnyHash, Arr, Bool, Enum, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import load, new_id, order_keys, present, save
from stripe_emulator.resources.shapes import METADATA, NULLABLE_STR, merge_metadata

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

USAGE = Enum(values=("off_session", "on_session"))
_COMMON = {
    "customer": Str(),
    "description": NULLABLE_STR,
    "metadata": METADATA,
    "payment_method": Str(),
    "payment_method_options": AnyHash(),
    "payment_method_types": Arr(item=Str()),
}
CREATE = Obj(
    fields={
        **_COMMON,
        "automatic_payment_methods": AnyHash(),
        "confirm": Bool(),
        "mandate_data": AnyHash(),
        "return_url": Str(),
        "usage": USAGE,
        "use_stripe_sdk": Bool(),
    }
)
UPDATE = Obj(fields=_COMMON)
CONFIRM = Obj(
    fields={
        "mandate_data": AnyHash(),
        "payment_method": Str(),
        "payment_method_options": AnyHash(),
        "return_url": Str(),
        "use_stripe_sdk": Bool(),
    }
)
CANCEL = Obj(
    fields={"cancellation_reason": Enum(values=("abandoned", "duplicate", "requested_by_customer"))}
)


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new setup intent."""
    from stripe_emulator.resources.payment_methods import resolve

    payment_method = params.get("payment_method")
    if payment_method:
        payment_method = resolve(ctx, payment_method)["id"]
    return {
        "id": object_id,
        "object": "setup_intent",
        "application": None,
        "automatic_payment_methods": None,
        "cancellation_reason": None,
        "client_secret": f"{object_id}_secret_{ctx.emulator.ids.make('x', 32)[2:]}",
        "created": ctx.now(),
        "customer": params.get("customer"),
        "customer_account": None,
        "description": params.get("description"),
        "excluded_payment_method_types": None,
        "flow_directions": None,
        "last_setup_error": None,
        "latest_attempt": None,
        "livemode": ctx.livemode,
        "mandate": None,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": params.get("payment_method_types") or ["card"],
        "single_use_mandate": None,
        "status": "requires_confirmation" if payment_method else "requires_payment_method",
        "usage": params.get("usage", "off_session"),
    }


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to a setup intent."""
    from stripe_emulator.resources.payment_methods import resolve

    for key, value in params.items():
        if key == "metadata":
            obj["metadata"] = merge_metadata(obj["metadata"], value)
        elif key == "payment_method":
            obj["payment_method"] = resolve(ctx, value)["id"]
            obj["status"] = "requires_confirmation"
        elif key != "payment_method_options":
            obj[key] = value
    return obj


SETUP_INTENT = Resource(
    object="setup_intent",
    path="/v1/setup_intents",
    id_prefix="seti",
    id_length=24,
    noun="setupintent",
    update_params=UPDATE,
    apply_update=update,
    list_filters={
        "customer": ListFilter("k1", Str()),
        "payment_method": ListFilter("k2", Str()),
    },
    slots=lambda obj: (obj["customer"], obj["payment_method"]),
    expandable={"customer": "customer", "payment_method": "payment_method"},
)


def _save(ctx: Ctx, intent: JsonObject) -> None:
    ctx.store.update(ctx.scope, "setup_intent", intent, SETUP_INTENT.slots(intent))


def _confirm(ctx: Ctx, intent: JsonObject, payment_method_id: str | None) -> JsonObject:
    from stripe_emulator.resources.payment_methods import attach_to, card_behaviour, resolve

    if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise invalid(
            f"You cannot confirm this SetupIntent because it has a status of {intent['status']}.",
            code="setup_intent_unexpected_state",
        )
    chosen = payment_method_id or intent["payment_method"]
    if chosen is None:
        raise invalid(
            "You cannot confirm this SetupIntent because it's missing a payment method.",
            code="setup_intent_unexpected_state",
        )
    payment_method = resolve(ctx, chosen)
    intent["payment_method"] = payment_method["id"]
    decline = card_behaviour(payment_method).attach_decline
    if decline is not None:
        error = CardError(decline, payment_method=payment_method)
        intent["status"] = "requires_payment_method"
        intent["last_setup_error"] = {**error.body()["error"], "payment_method": payment_method}
        _save(ctx, intent)
        events.emit(ctx, "setup_intent.setup_failed", intent)
        error.related["setup_intent"] = intent
        commit_then_raise(ctx, error)
    if intent["customer"] is not None:
        attach_to(ctx, payment_method, intent["customer"])
    intent["status"] = "succeeded"
    intent["last_setup_error"] = None
    _save(ctx, intent)
    events.emit(ctx, "setup_intent.succeeded", intent)
    return intent


def create(ctx: Ctx) -> JsonObject:
    """`POST /v1/setup_intents`."""
    params = ctx.coerce(CREATE)
    params.pop("expand", None)
    intent = order_keys(build(ctx, params, new_id(ctx, SETUP_INTENT, params)))
    save(ctx, SETUP_INTENT, intent, new=True)
    if params.get("confirm"):
        intent = _confirm(ctx, intent, None)
    return present(ctx, SETUP_INTENT, intent, ctx.expand_paths())


def confirm(ctx: Ctx) -> JsonObject:
    """`POST /v1/setup_intents/{id}/confirm`."""
    params = ctx.coerce(CONFIRM)
    intent = load(ctx, SETUP_INTENT, ctx.path_params["id"])
    intent = _confirm(ctx, intent, params.get("payment_method"))
    return present(ctx, SETUP_INTENT, intent, ctx.expand_paths())


def cancel(ctx: Ctx) -> JsonObject:
    """`POST /v1/setup_intents/{id}/cancel`."""
    params = ctx.coerce(CANCEL)
    intent = load(ctx, SETUP_INTENT, ctx.path_params["id"])
    if intent["status"] in ("succeeded", "canceled"):
        raise invalid(
            f"You cannot cancel this SetupIntent because it has a status of {intent['status']}.",
            code="setup_intent_unexpected_state",
        )
    intent["status"] = "canceled"
    intent["cancellation_reason"] = params.get("cancellation_reason")
    _save(ctx, intent)
    events.emit(ctx, "setup_intent.canceled", intent)
    return present(ctx, SETUP_INTENT, intent, ctx.expand_paths())


def register(emulator: Emulator) -> None:
    """Add setup intents."""
    emulator.add_resource(SETUP_INTENT)
    emulator.router.add("POST", "/v1/setup_intents", create)
    emulator.router.add("POST", "/v1/setup_intents/{id}/confirm", confirm)
    emulator.router.add("POST", "/v1/setup_intents/{id}/cancel", cancel)
