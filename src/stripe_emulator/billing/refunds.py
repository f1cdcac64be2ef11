"""Refunding a charge, partly or fully, with its balance transaction and fee refund."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator import events
from stripe_emulator.billing import ledger
from stripe_emulator.billing.money import percent_of
from stripe_emulator.errors import invalid
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]


def refund_charge(
    ctx: Ctx,
    charge: JsonObject,
    *,
    amount: int | None = None,
    reason: str | None = None,
    metadata: dict[str, str] | None = None,
    refund_application_fee: bool = False,
) -> JsonObject:
    """Refund `amount` (default: what is left) of a captured charge and emit the events."""
    from stripe_emulator.resources.charges import CHARGE
    from stripe_emulator.resources.refunds import REFUND

    if not charge["captured"] or charge["status"] != "succeeded":
        raise invalid(f"Charge {charge['id']} has not been captured.", param="charge")
    left = charge["amount_captured"] - charge["amount_refunded"]
    if charge["amount_refunded"] >= charge["amount_captured"] or left <= 0:
        raise invalid(
            f"Charge {charge['id']} has already been refunded.",
            param="charge",
        )
    amount = left if amount is None else amount
    if amount > left:
        raise invalid(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
            param="amount",
        )
    refund_id = ctx.new_id("re", 24)
    txn = ledger.record(
        ctx,
        kind="refund",
        amount=-amount,
        currency=charge["currency"],
        source=refund_id,
        description="REFUND FOR CHARGE",
    )
    refund: JsonObject = {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": txn["id"],
        "charge": charge["id"],
        "created": ctx.now(),
        "currency": charge["currency"],
        "customer": charge["customer"],
        "description": None,
        "destination_details": {
            "card": {
                "reference": None,
                "reference_status": "pending",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": dict(metadata or {}),
        "payment_intent": charge["payment_intent"],
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }
    ctx.store.insert(ctx.scope, "refund", refund, REFUND.slots(refund))
    before = events.snapshot(charge)
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    ctx.store.update(ctx.scope, "charge", charge, CHARGE.slots(charge))
    events.emit(ctx, "refund.created", refund)
    if refund_application_fee and charge["application_fee"]:
        _refund_application_fee(ctx, charge, amount)
    from stripe_emulator.resources.crud import present

    shown = present(ctx, CHARGE, events.snapshot(charge), [])
    previous = events.previous_attributes(present(ctx, CHARGE, before, []), shown)
    events.emit(ctx, "charge.refunded", shown, previous=previous)
    return refund


def _refund_application_fee(ctx: Ctx, charge: JsonObject, refunded: int) -> None:
    """Give back the platform's fee in proportion to the refund."""
    from stripe_emulator.resources.application_fees import APPLICATION_FEE
    from stripe_emulator.resources.crud import present

    platform = Scope(ctx.emulator.platform.account_id, ctx.livemode)
    row = ctx.store.get(platform, "application_fee", charge["application_fee"])
    if row is None:
        return
    fee = row.load()
    share = percent_of(fee["amount"], refunded * 100 / charge["amount"])
    share = min(share, fee["amount"] - fee["amount_refunded"])
    if share <= 0:
        return
    fee_refund_id = ctx.new_id("fr", 24)
    ledger.record(
        ctx,
        kind="application_fee_refund",
        amount=-share,
        currency=fee["currency"],
        source=fee_refund_id,
        scope=platform,
    )
    ledger.record(
        ctx,
        kind="application_fee_refund",
        amount=share,
        currency=fee["currency"],
        source=fee_refund_id,
    )
    before = events.snapshot(fee)
    fee["amount_refunded"] += share
    fee["refunded"] = fee["amount_refunded"] >= fee["amount"]
    ctx.store.update(platform, "application_fee", fee, APPLICATION_FEE.slots(fee))
    shown = present(ctx, APPLICATION_FEE, events.snapshot(fee), [])
    previous = events.previous_attributes(before, fee)
    events.emit(ctx, "application_fee.refunded", shown, previous=previous, scope=platform)
