"""Charging a card: the charge, its balance transaction, the application fee and any dispute."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator import events
from stripe_emulator.billing import ledger
from stripe_emulator.billing.cards import Decline
from stripe_emulator.billing.money import load_fee_model
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]


def _outcome(decline: Decline | None) -> JsonObject:
    if decline is None:
        return {
            "advice_code": None,
            "network_advice_code": None,
            "network_decline_code": None,
            "network_status": "approved_by_network",
            "reason": None,
            "risk_level": "normal",
            "risk_score": 32,
            "seller_message": "Payment complete.",
            "type": "authorized",
        }
    return {
        "advice_code": "try_again_later",
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "declined_by_network",
        "reason": decline.decline_code,
        "risk_level": "normal",
        "risk_score": 32,
        "seller_message": "The bank did not return any further details with this decline.",
        "type": "issuer_declined",
    }


def _details(payment_method: JsonObject, amount: int) -> JsonObject:
    card = payment_method["card"]
    return {
        "card": {
            "amount_authorized": amount,
            "authorization_code": None,
            "brand": card["brand"],
            "checks": card["checks"],
            "country": card["country"],
            "exp_month": card["exp_month"],
            "exp_year": card["exp_year"],
            "extended_authorization": {"status": "disabled"},
            "fingerprint": card["fingerprint"],
            "funding": card["funding"],
            "incremental_authorization": {"status": "unavailable"},
            "installments": None,
            "last4": card["last4"],
            "mandate": None,
            "multicapture": {"status": "unavailable"},
            "network": card["brand"],
            "network_token": {"used": False},
            "network_transaction_id": None,
            "overcapture": {"maximum_amount_capturable": amount, "status": "unavailable"},
            "regulated_status": card.get("regulated_status"),
            "three_d_secure": None,
            "wallet": None,
        },
        "type": "card",
    }


def new_charge(
    ctx: Ctx,
    *,
    amount: int,
    currency: str,
    payment_method: JsonObject,
    decline: Decline | None,
    customer: str | None = None,
    payment_intent: str | None = None,
    description: str | None = None,
    metadata: dict[str, str] | None = None,
    application_fee_amount: int | None = None,
    capture: bool = True,
    statement_descriptor: str | None = None,
    receipt_email: str | None = None,
) -> JsonObject:
    """Store a charge attempt (succeeded, or failed with `decline`) and emit its events.

    A captured charge gets its balance transaction, the application fee and, for the dispute
    test cards, a dispute; an uncaptured one waits for `capture_charge`.
    """
    from stripe_emulator.resources.charges import CHARGE

    failed = decline is not None
    charge: JsonObject = {
        "id": ctx.new_id("ch", 24),
        "object": "charge",
        "amount": amount,
        "amount_captured": 0,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": application_fee_amount,
        "balance_transaction": None,
        "billing_details": payment_method["billing_details"],
        "calculated_statement_descriptor": (statement_descriptor or "REVLENS EMULATOR")[:22],
        "captured": False,
        "created": ctx.now(),
        "currency": currency,
        "customer": customer,
        "description": description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": decline.code if decline else None,
        "failure_message": decline.message if decline else None,
        "fraud_details": {},
        "livemode": ctx.livemode,
        "metadata": dict(metadata or {}),
        "on_behalf_of": None,
        "outcome": _outcome(decline),
        "paid": not failed,
        "payment_intent": payment_intent,
        "payment_method": payment_method["id"],
        "payment_method_details": _details(payment_method, amount),
        "radar_options": {},
        "receipt_email": receipt_email,
        "receipt_number": None,
        "receipt_url": None,
        "refunded": False,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": statement_descriptor,
        "statement_descriptor_suffix": None,
        "status": "failed" if failed else "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }
    if application_fee_amount is not None:
        charge["application"] = ctx.emulator.platform.client_id
    ctx.store.insert(ctx.scope, "charge", charge, CHARGE.slots(charge))
    if failed:
        events.emit(ctx, "charge.failed", charge)
        return charge
    if not capture:
        events.emit(ctx, "charge.succeeded", charge)
        return charge
    _settle(ctx, charge, amount)
    events.emit(ctx, "charge.succeeded", charge)
    _maybe_dispute(ctx, charge, payment_method)
    return charge


def capture_charge(
    ctx: Ctx, charge: JsonObject, amount: int, application_fee_amount: int | None = None
) -> JsonObject:
    """Capture an authorised charge (fully or partly) and emit `charge.captured`."""
    from stripe_emulator.resources.charges import CHARGE

    before = events.snapshot(charge)
    if application_fee_amount is not None:
        charge["application_fee_amount"] = application_fee_amount
        charge["application"] = ctx.emulator.platform.client_id
    _settle(ctx, charge, amount)
    if amount < charge["amount"]:
        # The uncaptured remainder is released, which Stripe shows as a refund of it.
        charge["amount_refunded"] = charge["amount"] - amount
    ctx.store.update(ctx.scope, "charge", charge, CHARGE.slots(charge))
    events.emit(ctx, "charge.captured", charge, previous=_changed(before, charge))
    return charge


def _changed(before: JsonObject, after: JsonObject) -> JsonObject:
    return events.previous_attributes(before, after)


def _settle(ctx: Ctx, charge: JsonObject, amount: int) -> None:
    """Mark the charge captured and book the money, fees and application fee."""
    from stripe_emulator.resources.charges import CHARGE

    charge["captured"] = True
    charge["amount_captured"] = amount
    fee_amount = charge["application_fee_amount"]
    txn = ledger.charge_transaction(ctx, charge, fee_amount, charge["application"])
    charge["balance_transaction"] = txn["id"]
    if fee_amount and ctx.on_behalf:
        charge["application_fee"] = _application_fee(ctx, charge, fee_amount)
    ctx.store.update(ctx.scope, "charge", charge, CHARGE.slots(charge))


def _application_fee(ctx: Ctx, charge: JsonObject, amount: int) -> str:
    """Create the platform's application fee for a connected account's charge."""
    from stripe_emulator.resources.application_fees import APPLICATION_FEE

    platform = Scope(ctx.emulator.platform.account_id, ctx.livemode)
    fee_id = ctx.new_id("fee", 24)
    txn = ledger.record(
        ctx,
        kind="application_fee",
        amount=amount,
        currency=charge["currency"],
        source=fee_id,
        scope=platform,
        delay=ledger.CHARGE_DELAY,
    )
    fee: JsonObject = {
        "id": fee_id,
        "object": "application_fee",
        "account": ctx.scope.account,
        "amount": amount,
        "amount_refunded": 0,
        "application": ctx.emulator.platform.client_id,
        "balance_transaction": txn["id"],
        "charge": charge["id"],
        "created": ctx.now(),
        "currency": charge["currency"],
        "fee_source": {"charge": charge["id"], "type": "charge"},
        "livemode": ctx.livemode,
        "originating_transaction": None,
        "refunded": False,
    }
    ctx.store.insert(platform, "application_fee", fee, APPLICATION_FEE.slots(fee))
    shown = {
        **fee,
        "refunds": {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/application_fees/{fee_id}/refunds",
        },
    }
    events.emit(ctx, "application_fee.created", shown, scope=platform)
    return fee_id


def _maybe_dispute(ctx: Ctx, charge: JsonObject, payment_method: JsonObject) -> None:
    from stripe_emulator.resources.payment_methods import card_behaviour

    behaviour = card_behaviour(payment_method).dispute
    if behaviour is not None:
        open_dispute(ctx, charge, reason=behaviour[0], status=behaviour[1])


def open_dispute(ctx: Ctx, charge: JsonObject, *, reason: str, status: str) -> JsonObject:
    """Open a dispute on a charge: funds and the dispute fee are withdrawn at once."""
    from stripe_emulator.resources.charges import CHARGE
    from stripe_emulator.resources.disputes import DISPUTE, new_dispute

    dispute = new_dispute(ctx, charge, reason=reason, status=status)
    inquiry = status.startswith("warning_")
    if not inquiry:
        fee = load_fee_model(ctx.store).dispute(charge["currency"])
        txn = ledger.record(
            ctx,
            kind="adjustment",
            amount=-dispute["amount"],
            currency=charge["currency"],
            source=dispute["id"],
            fee_details=[ledger.fee_detail("stripe_fee", fee, charge["currency"])],
            description=f"Chargeback withdrawal for {charge['id']}",
        )
        dispute["balance_transactions"] = [txn]
    ctx.store.insert(ctx.scope, "dispute", dispute, DISPUTE.slots(dispute))
    before = events.snapshot(charge)
    charge["disputed"] = True
    ctx.store.update(ctx.scope, "charge", charge, CHARGE.slots(charge))
    events.emit(ctx, "charge.dispute.created", dispute)
    if not inquiry:
        events.emit(ctx, "charge.dispute.funds_withdrawn", dispute)
    events.emit(ctx, "charge.updated", charge, previous=_changed(before, charge))
    return dispute
