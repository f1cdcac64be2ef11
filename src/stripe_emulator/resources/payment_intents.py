"""Payment intents (`pi_…`): create, confirm, capture, cancel; declines answer 402."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.billing.intents import (
    cancel_intent,
    capture_intent,
    confirm_intent,
    new_intent,
)
from stripe_emulator.billing.system import commit_then_raise
from stripe_emulator.errors import ApiError, invalid
from stripe_emulator.params import AnyHash, Arr, Bool, Currency, Enum, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import load, present, save
from stripe_emulator.resources.shapes import METADATA, NULLABLE_STR, merge_metadata

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

CAPTURE_METHOD = Enum(values=("automatic", "automatic_async", "manual"))
FUTURE_USAGE = Enum(values=("off_session", "on_session"), emptyable=True)
_COMMON = {
    "amount": Int(minimum=1),
    "application_fee_amount": Int(minimum=0),
    "capture_method": CAPTURE_METHOD,
    "currency": Currency(),
    "customer": Str(),
    "description": NULLABLE_STR,
    "metadata": METADATA,
    "payment_method": Str(),
    "payment_method_options": AnyHash(),
    "payment_method_types": Arr(item=Str()),
    "receipt_email": NULLABLE_STR,
    "setup_future_usage": FUTURE_USAGE,
    "shipping": AnyHash(emptyable=True),
    "statement_descriptor": Str(max_length=22),
    "statement_descriptor_suffix": Str(max_length=22),
    "transfer_group": Str(),
}
_CONFIRMING = {
    "error_on_requires_action": Bool(),
    "mandate_data": AnyHash(),
    "off_session": Str(),
    "return_url": Str(),
    "use_stripe_sdk": Bool(),
}
CREATE = Obj(
    fields={
        **_COMMON,
        **_CONFIRMING,
        "automatic_payment_methods": Obj(
            fields={"allow_redirects": Enum(values=("always", "never")), "enabled": Bool()},
            required=("enabled",),
        ),
        "confirm": Bool(),
        "confirmation_method": Enum(values=("automatic", "manual")),
        "on_behalf_of": Str(),
        "transfer_data": AnyHash(),
    },
    required=("amount", "currency"),
)
UPDATE = Obj(fields=_COMMON)
CONFIRM = Obj(
    fields={
        **_CONFIRMING,
        "capture_method": CAPTURE_METHOD,
        "payment_method": Str(),
        "payment_method_options": AnyHash(),
        "receipt_email": NULLABLE_STR,
        "setup_future_usage": FUTURE_USAGE,
        "shipping": AnyHash(emptyable=True),
    }
)
CAPTURE = Obj(
    fields={
        "amount_to_capture": Int(minimum=1),
        "application_fee_amount": Int(minimum=0),
        "metadata": METADATA,
        "statement_descriptor": Str(max_length=22),
        "statement_descriptor_suffix": Str(max_length=22),
    }
)
CANCEL = Obj(
    fields={
        "cancellation_reason": Enum(
            values=("abandoned", "duplicate", "fraudulent", "requested_by_customer")
        )
    }
)


def _check_customer(ctx: Ctx, customer: str | None) -> None:
    if customer is None:
        return
    row = ctx.store.get(ctx.scope, "customer", customer)
    if row is None or row.deleted:
        raise ApiError(
            400, f"No such customer: '{customer}'", code="resource_missing", param="customer"
        )


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new payment intent (confirmation happens after it is stored)."""
    from stripe_emulator.resources.charges import check_application_fee

    check_application_fee(ctx, params.get("application_fee_amount"))
    _check_customer(ctx, params.get("customer"))
    params["metadata"] = merge_metadata({}, params.get("metadata") or {})
    if params.get("payment_method"):
        params["payment_method"] = _payment_method(ctx, params["payment_method"], params)["id"]
    return new_intent(ctx, params, object_id)


def _payment_method(ctx: Ctx, payment_method_id: str, intent: JsonObject) -> JsonObject:
    from stripe_emulator.resources.payment_methods import resolve

    payment_method = resolve(ctx, payment_method_id)
    owner = payment_method["customer"]
    if owner is not None and owner != intent.get("customer"):
        raise invalid(
            "The provided PaymentMethod belongs to a different Customer than the one on this "
            "PaymentIntent.",
            param="payment_method",
        )
    return payment_method


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to an intent that has not been confirmed yet."""
    if obj["status"] not in ("requires_payment_method", "requires_confirmation"):
        raise invalid(
            f"You cannot update this PaymentIntent because it has a status of {obj['status']}.",
            code="payment_intent_unexpected_state",
        )
    for key, value in params.items():
        if key == "metadata":
            obj["metadata"] = merge_metadata(obj["metadata"], value)
        elif key == "payment_method":
            obj["payment_method"] = _payment_method(ctx, value, obj)["id"]
            obj["status"] = "requires_confirmation"
        elif key != "payment_method_options":
            obj[key] = value
    return obj


PAYMENT_INTENT = Resource(
    object="payment_intent",
    path="/v1/payment_intents",
    id_prefix="pi",
    id_length=24,
    noun="payment_intent",
    update_params=UPDATE,
    apply_update=update,
    list_filters={"customer": ListFilter("k1", Str())},
    slots=lambda obj: (obj["customer"], obj["status"]),
    expandable={
        "customer": "customer",
        "latest_charge": "charge",
        "payment_method": "payment_method",
    },
)


def _confirm(ctx: Ctx, intent: JsonObject, payment_method_id: str | None) -> JsonObject:
    chosen = payment_method_id or intent["payment_method"]
    if chosen is None:
        raise invalid(
            "You cannot confirm this PaymentIntent because it's missing a payment method. To "
            "confirm the PaymentIntent with the customer, provide a `payment_method`.",
            code="payment_intent_unexpected_state",
        )
    payment_method = _payment_method(ctx, chosen, intent)
    intent, error = confirm_intent(ctx, intent, payment_method)
    if error is not None:
        commit_then_raise(ctx, error)
    return intent


def create(ctx: Ctx) -> JsonObject:
    """`POST /v1/payment_intents`, confirming at once with `confirm=true`."""
    from stripe_emulator.resources.crud import new_id, order_keys

    params = ctx.coerce(CREATE)
    params.pop("expand", None)
    intent = order_keys(build(ctx, params, new_id(ctx, PAYMENT_INTENT, params)))
    save(ctx, PAYMENT_INTENT, intent, new=True)
    if params.get("confirm"):
        intent = _confirm(ctx, intent, None)
    return present(ctx, PAYMENT_INTENT, intent, ctx.expand_paths())


def confirm(ctx: Ctx) -> JsonObject:
    """`POST /v1/payment_intents/{id}/confirm`."""
    params = ctx.coerce(CONFIRM)
    intent = load(ctx, PAYMENT_INTENT, ctx.path_params["id"])
    if "capture_method" in params:
        intent["capture_method"] = params["capture_method"]
    intent = _confirm(ctx, intent, params.get("payment_method"))
    return present(ctx, PAYMENT_INTENT, intent, ctx.expand_paths())


def capture(ctx: Ctx) -> JsonObject:
    """`POST /v1/payment_intents/{id}/capture`."""
    params = ctx.coerce(CAPTURE)
    intent = load(ctx, PAYMENT_INTENT, ctx.path_params["id"])
    if "metadata" in params:
        intent["metadata"] = merge_metadata(intent["metadata"], params["metadata"])
    intent = capture_intent(
        ctx, intent, params.get("amount_to_capture"), params.get("application_fee_amount")
    )
    return present(ctx, PAYMENT_INTENT, intent, ctx.expand_paths())


def capture_intent_of_charge(
    ctx: Ctx, charge: JsonObject, amount: int, application_fee_amount: int | None
) -> None:
    """Capture through the intent a charge belongs to (`POST /v1/charges/{id}/capture`)."""
    intent = load(ctx, PAYMENT_INTENT, charge["payment_intent"])
    capture_intent(ctx, intent, amount, application_fee_amount)


def cancel(ctx: Ctx) -> JsonObject:
    """`POST /v1/payment_intents/{id}/cancel`."""
    params = ctx.coerce(CANCEL)
    intent = load(ctx, PAYMENT_INTENT, ctx.path_params["id"])
    intent = cancel_intent(ctx, intent, params.get("cancellation_reason"))
    return present(ctx, PAYMENT_INTENT, intent, ctx.expand_paths())


def customer_payment_method(ctx: Ctx, customer_id: str, explicit: str | None) -> JsonObject:
    """Return the payment method to charge a customer with: `explicit`, else their default."""
    from stripe_emulator.resources.payment_methods import attach_to, resolve

    chosen = explicit
    if chosen is None:
        row = ctx.store.get(ctx.scope, "customer", customer_id)
        customer = row.load() if row is not None else {}
        chosen = (customer.get("invoice_settings") or {}).get("default_payment_method")
    if chosen is None:
        raise invalid(
            "This customer has no attached payment source or default payment method. Please "
            "consider adding a default payment method.",
            code="resource_missing",
        )
    payment_method = resolve(ctx, chosen)
    if payment_method["customer"] is None:
        # A test token named as the default (`pm_card_visa`) stands for a card on file.
        payment_method = attach_to(ctx, payment_method, customer_id)
    return payment_method


def register(emulator: Emulator) -> None:
    """Add payment intents."""
    emulator.add_resource(PAYMENT_INTENT)
    emulator.router.add("POST", "/v1/payment_intents", create)
    emulator.router.add("POST", "/v1/payment_intents/{id}/confirm", confirm)
    emulator.router.add("POST", "/v1/payment_intents/{id}/capture", capture)
    emulator.router.add("POST", "/v1/payment_intents/{id}/cancel", cancel)
