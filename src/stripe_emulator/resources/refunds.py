"""Refunds (`re_…`) of charges and payment intents."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.billing.refunds import refund_charge
from stripe_emulator.errors import ApiError, invalid
from stripe_emulator.params import Bool, Enum, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import load, present
from stripe_emulator.resources.shapes import METADATA, merge_metadata

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

REASON = Enum(values=("duplicate", "fraudulent", "requested_by_customer"))
CREATE = Obj(
    fields={
        "amount": Int(minimum=1),
        "charge": Str(),
        "currency": Str(),
        "customer": Str(),
        "instructions_email": Str(),
        "metadata": METADATA,
        "origin": Enum(values=("customer_balance",)),
        "payment_intent": Str(),
        "reason": REASON,
        "refund_application_fee": Bool(),
        "reverse_transfer": Bool(),
    }
)
UPDATE = Obj(fields={"metadata": METADATA})


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update (only metadata can change)."""
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    return obj


REFUND = Resource(
    object="refund",
    path="/v1/refunds",
    id_prefix="re",
    id_length=24,
    update_params=UPDATE,
    apply_update=update,
    list_filters={
        "charge": ListFilter("k1", Str()),
        "payment_intent": ListFilter("k2", Str()),
    },
    slots=lambda obj: (obj["charge"], obj["payment_intent"]),
    expandable={
        "balance_transaction": "balance_transaction",
        "charge": "charge",
        "payment_intent": "payment_intent",
    },
)


def _charge_to_refund(ctx: Ctx, params: JsonObject) -> JsonObject:
    from stripe_emulator.resources.charges import CHARGE

    if params.get("charge") and params.get("payment_intent"):
        raise invalid(
            "You may only specify one of these parameters: charge, payment_intent.",
            param="charge",
            code="parameters_exclusive",
        )
    if params.get("charge"):
        return load(ctx, CHARGE, params["charge"], param="charge")
    if params.get("payment_intent"):
        from stripe_emulator.resources.payment_intents import PAYMENT_INTENT

        intent = load(ctx, PAYMENT_INTENT, params["payment_intent"], param="payment_intent")
        if intent["latest_charge"] is None or intent["status"] != "succeeded":
            raise invalid(
                f"This PaymentIntent ({intent['id']}) does not have a successful charge to refund.",
                param="payment_intent",
            )
        return load(ctx, CHARGE, intent["latest_charge"], param="payment_intent")
    raise invalid(
        "One of the following params should be provided for this request: payment_intent or "
        "charge.",
        code="parameter_missing",
    )


def create(ctx: Ctx) -> JsonObject:
    """`POST /v1/refunds`."""
    params = ctx.coerce(CREATE)
    charge = _charge_to_refund(ctx, params)
    refund = refund_charge(
        ctx,
        charge,
        amount=params.get("amount"),
        reason=params.get("reason"),
        metadata=merge_metadata({}, params.get("metadata") or {}),
        refund_application_fee=params.get("refund_application_fee", False),
    )
    return present(ctx, REFUND, refund, ctx.expand_paths())


def cancel(ctx: Ctx) -> JsonObject:
    """`POST /v1/refunds/{id}/cancel`: card refunds succeed at once, so never cancelable."""
    ctx.coerce(Obj())
    refund = load(ctx, REFUND, ctx.path_params["id"])
    raise ApiError(
        400,
        f"Refund {refund['id']} cannot be canceled because it has a status of "
        f"{refund['status']}. Only a refund with a status of `requires_action` can be canceled.",
        param="refund",
    )


def register(emulator: Emulator) -> None:
    """Add refunds."""
    emulator.add_resource(REFUND)
    emulator.router.add("POST", "/v1/refunds", create)
    emulator.router.add("POST", "/v1/refunds/{id}/cancel", cancel)
