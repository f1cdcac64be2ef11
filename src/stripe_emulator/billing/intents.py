"""Payment intents as a state machine: create, confirm (charge), capture, cancel."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator import events
from stripe_emulator.billing.cards import CardError, Decline
from stripe_emulator.billing.charges import capture_charge, new_charge
from stripe_emulator.errors import invalid

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]
CONFIRMABLE = ("requires_payment_method", "requires_confirmation")
CANCELABLE = (*CONFIRMABLE, "requires_capture", "requires_action", "processing")


def new_intent(ctx: Ctx, params: JsonObject, object_id: str | None = None) -> JsonObject:
    """Return a new (unsaved) payment intent from create parameters."""
    object_id = object_id or ctx.new_id("pi", 24)
    types = params.get("payment_method_types")
    automatic = params.get("automatic_payment_methods")
    if types is None and automatic is None:
        automatic = {"allow_redirects": "always", "enabled": True}
    payment_method = params.get("payment_method")
    return {
        "id": object_id,
        "object": "payment_intent",
        "amount": params["amount"],
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": params.get("application_fee_amount"),
        "automatic_payment_methods": automatic,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": params.get("capture_method", "automatic_async"),
        "client_secret": f"{object_id}_secret_{ctx.emulator.ids.make('x', 25)[2:]}",
        "confirmation_method": params.get("confirmation_method", "automatic"),
        "created": ctx.now(),
        "currency": params["currency"],
        "customer": params.get("customer"),
        "customer_account": None,
        "description": params.get("description"),
        "excluded_payment_method_types": None,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": ctx.livemode,
        "metadata": dict(params.get("metadata") or {}),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": payment_method,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": types or ["card"],
        "processing": None,
        "receipt_email": params.get("receipt_email"),
        "review": None,
        "setup_future_usage": params.get("setup_future_usage"),
        "shipping": params.get("shipping"),
        "source": None,
        "statement_descriptor": params.get("statement_descriptor"),
        "statement_descriptor_suffix": params.get("statement_descriptor_suffix"),
        "status": "requires_confirmation" if payment_method else "requires_payment_method",
        "transfer_data": None,
        "transfer_group": params.get("transfer_group"),
    }


def _save(ctx: Ctx, intent: JsonObject) -> None:
    from stripe_emulator.resources.payment_intents import PAYMENT_INTENT

    ctx.store.update(ctx.scope, "payment_intent", intent, PAYMENT_INTENT.slots(intent))


def _last_error(decline: Decline, charge: JsonObject, payment_method: JsonObject) -> JsonObject:
    error = CardError(decline, charge=charge["id"], payment_method=payment_method)
    body: JsonObject = error.body()["error"]
    body["payment_method"] = payment_method
    return body


def confirm_intent(
    ctx: Ctx, intent: JsonObject, payment_method: JsonObject
) -> tuple[JsonObject, CardError | None]:
    """Charge the intent's payment method; return the intent and the card error, if declined.

    The caller decides whether a decline fails the request (an API confirm does) or is only
    recorded (an invoice payment attempt).
    """
    from stripe_emulator.resources.payment_methods import card_behaviour

    if intent["status"] not in CONFIRMABLE:
        raise invalid(
            f"This PaymentIntent's status is {intent['status']}, but it must be one of "
            "requires_payment_method or requires_confirmation to be confirmed.",
            code="payment_intent_unexpected_state",
        )
    intent["payment_method"] = payment_method["id"]
    decline = card_behaviour(payment_method).charge_decline
    manual = intent["capture_method"] == "manual"
    charge = new_charge(
        ctx,
        amount=intent["amount"],
        currency=intent["currency"],
        payment_method=payment_method,
        decline=decline,
        customer=intent["customer"],
        payment_intent=intent["id"],
        description=intent["description"],
        metadata=intent["metadata"],
        application_fee_amount=intent["application_fee_amount"],
        capture=not manual,
        statement_descriptor=intent["statement_descriptor"],
        receipt_email=intent["receipt_email"],
    )
    intent["latest_charge"] = charge["id"]
    if decline is not None:
        intent["status"] = "requires_payment_method"
        intent["last_payment_error"] = _last_error(decline, charge, payment_method)
        _save(ctx, intent)
        events.emit(ctx, "payment_intent.payment_failed", intent)
        error = CardError(
            decline, charge=charge["id"], payment_intent=intent, payment_method=payment_method
        )
        return intent, error
    intent["last_payment_error"] = None
    if manual:
        intent["status"] = "requires_capture"
        intent["amount_capturable"] = intent["amount"]
        _save(ctx, intent)
        events.emit(ctx, "payment_intent.amount_capturable_updated", intent)
        return intent, None
    intent["status"] = "succeeded"
    intent["amount_received"] = intent["amount"]
    _save(ctx, intent)
    events.emit(ctx, "payment_intent.succeeded", intent)
    return intent, None


def capture_intent(
    ctx: Ctx, intent: JsonObject, amount: int | None, application_fee_amount: int | None
) -> JsonObject:
    """Capture an authorised intent (all of it by default)."""
    from stripe_emulator.resources.charges import CHARGE
    from stripe_emulator.resources.crud import load

    if intent["status"] != "requires_capture":
        raise invalid(
            f"This PaymentIntent could not be captured because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may be "
            "captured: requires_capture.",
            code="payment_intent_unexpected_state",
        )
    amount = intent["amount_capturable"] if amount is None else amount
    if amount > intent["amount_capturable"]:
        raise invalid(
            "The amount to capture must be less than or equal to the amount capturable.",
            param="amount_to_capture",
        )
    charge = load(ctx, CHARGE, intent["latest_charge"])
    capture_charge(ctx, charge, amount, application_fee_amount)
    if application_fee_amount is not None:
        intent["application_fee_amount"] = application_fee_amount
    intent["status"] = "succeeded"
    intent["amount_capturable"] = 0
    intent["amount_received"] = amount
    _save(ctx, intent)
    events.emit(ctx, "payment_intent.succeeded", intent)
    return intent


def cancel_intent(ctx: Ctx, intent: JsonObject, reason: str | None) -> JsonObject:
    """Cancel an intent that has not succeeded (releasing any authorisation)."""
    if intent["status"] not in CANCELABLE:
        raise invalid(
            f"You cannot cancel this PaymentIntent because it has a status of "
            f"{intent['status']}. Only a PaymentIntent with one of the following statuses may be "
            "canceled: " + ", ".join(CANCELABLE) + ".",
            code="payment_intent_unexpected_state",
        )
    intent["status"] = "canceled"
    intent["canceled_at"] = ctx.now()
    intent["cancellation_reason"] = reason
    intent["amount_capturable"] = 0
    _save(ctx, intent)
    events.emit(ctx, "payment_intent.canceled", intent)
    return intent
