"""Collecting invoices: finalize, attempt payment, mark paid, void, mark uncollectible.

`attempt_payment` is what a clock-driven engine calls for renewals and retries; it records the
outcome (events, statuses) and returns the card error instead of raising it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator import events
from stripe_emulator.billing import dunning
from stripe_emulator.billing.cards import CardError
from stripe_emulator.billing.intents import cancel_intent, confirm_intent, new_intent
from stripe_emulator.billing.invoices import recompute, save_invoice, shown
from stripe_emulator.billing.money import percent_of
from stripe_emulator.errors import ApiError, invalid

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]


def _emit(
    ctx: Ctx, type_: str, invoice: JsonObject, before: JsonObject | None = None
) -> JsonObject | None:
    """Emit `type_` with the invoice as shown now, and return that rendering.

    An event nobody can read (`events.wanted`) is skipped unrendered: None then.
    """
    if not events.wanted(ctx):
        events.skip(ctx)
        return None
    current = shown(ctx, invoice)
    previous = None
    if before is not None:
        previous = events.previous_attributes(before, current)
    events.emit(ctx, type_, current, previous=previous)
    return current


def _customer(ctx: Ctx, customer_id: str) -> JsonObject:
    row = ctx.store.get(ctx.scope, "customer", customer_id)
    return row.load() if row is not None else {"id": customer_id}


def _subscription(ctx: Ctx, invoice: JsonObject) -> JsonObject | None:
    parent = invoice.get("parent") or {}
    details = parent.get("subscription_details") or {}
    sub_id = details.get("subscription")
    if sub_id is None:
        return None
    row = ctx.store.get(ctx.scope, "subscription", sub_id)
    return row.load() if row is not None else None


def _application_fee(ctx: Ctx, invoice: JsonObject) -> int | None:
    fixed = invoice.get("_application_fee_amount")
    if fixed is not None:
        return int(fixed)
    subscription = _subscription(ctx, invoice)
    percent = (subscription or {}).get("application_fee_percent")
    if percent is None or not ctx.on_behalf:
        return None
    return percent_of(invoice["amount_due"], percent)


def _number(ctx: Ctx, customer_id: str) -> str:
    from stripe_emulator.resources.customers import CUSTOMER

    row = ctx.store.get(ctx.scope, "customer", customer_id)
    if row is None:
        return ctx.emulator.ids.code(8) + "-0001"
    customer = row.load()
    sequence = int(customer.get("next_invoice_sequence") or 1)
    customer["next_invoice_sequence"] = sequence + 1
    ctx.store.update(ctx.scope, "customer", customer, CUSTOMER.slots(customer))
    return f"{customer['invoice_prefix']}-{sequence:04d}"


def emit_created(ctx: Ctx, invoice: JsonObject) -> None:
    """Emit `invoice.created` once the draft has its lines and totals."""
    _emit(ctx, "invoice.created", invoice)


def finalize(ctx: Ctx, invoice: JsonObject) -> JsonObject | None:
    """Turn a draft into an open invoice with a number; a zero amount is paid at once.

    Charging-automatically invoices get the payment intent that `attempt_payment` confirms.
    Returns the invoice as `invoice.finalized` showed it (what an attempt starts from), or
    None when that event was dropped unrendered (see `events.wanted`).
    """
    from stripe_emulator.resources.crud import save
    from stripe_emulator.resources.payment_intents import PAYMENT_INTENT

    if invoice["status"] != "draft":
        raise invalid(
            "This invoice is already finalized, you can't re-finalize a non-draft invoice."
        )
    recompute(ctx, invoice)
    now = ctx.now()
    invoice["number"] = _number(ctx, invoice["customer"])
    invoice["status"] = "open"
    invoice["status_transitions"]["finalized_at"] = now
    invoice["effective_at"] = now
    invoice["ending_balance"] = 0
    if invoice["amount_due"] > 0 and invoice["collection_method"] == "charge_automatically":
        intent = new_intent(
            ctx,
            {
                "amount": invoice["amount_due"],
                "currency": invoice["currency"],
                "customer": invoice["customer"],
                "description": _intent_description(invoice),
                "application_fee_amount": _application_fee(ctx, invoice),
                "payment_method_types": ["card"],
                "capture_method": "automatic",
            },
        )
        save(ctx, PAYMENT_INTENT, intent, new=True)
        _new_invoice_payment(ctx, invoice, intent)
    save_invoice(ctx, invoice)
    finalized = _emit(ctx, "invoice.finalized", invoice)
    if invoice["amount_due"] == 0:
        mark_paid(ctx, invoice)
    return finalized


def _intent_description(invoice: JsonObject) -> str:
    if invoice["billing_reason"] == "subscription_create":
        return "Subscription creation"
    if invoice["billing_reason"] == "subscription_update":
        return "Subscription update"
    if invoice["billing_reason"] == "subscription_cycle":
        return "Subscription cycle"
    return f"Invoice {invoice['number']}"


def _new_invoice_payment(ctx: Ctx, invoice: JsonObject, intent: JsonObject) -> JsonObject:
    from stripe_emulator.resources.invoice_payments import INVOICE_PAYMENT

    payment: JsonObject = {
        "id": ctx.new_id("inpay", 24),
        "object": "invoice_payment",
        "amount_paid": None,
        "amount_requested": invoice["amount_due"],
        "created": ctx.now(),
        "currency": invoice["currency"],
        "invoice": invoice["id"],
        "is_default": True,
        "livemode": ctx.livemode,
        "payment": {"payment_intent": intent["id"], "type": "payment_intent"},
        "status": "open",
        "status_transitions": {"canceled_at": None, "paid_at": None},
    }
    ctx.store.insert(ctx.scope, "invoice_payment", payment, INVOICE_PAYMENT.slots(payment))
    return payment


def _invoice_payment(ctx: Ctx, invoice: JsonObject) -> JsonObject | None:
    from stripe_emulator.store import Condition

    page = ctx.store.list_page(
        ctx.scope, "invoice_payment", limit=1, conditions=[Condition("k1", (invoice["id"],))]
    )
    return page.rows[0].load() if page.rows else None


def _save_payment(ctx: Ctx, payment: JsonObject) -> None:
    from stripe_emulator.resources.invoice_payments import INVOICE_PAYMENT

    ctx.store.update(ctx.scope, "invoice_payment", payment, INVOICE_PAYMENT.slots(payment))


def payment_method_for(ctx: Ctx, invoice: JsonObject, explicit: str | None) -> JsonObject | None:
    """Return the card to charge: explicit, the invoice's, the subscription's or the customer's."""
    from stripe_emulator.resources.payment_intents import customer_payment_method

    subscription = _subscription(ctx, invoice) or {}
    chosen = (
        explicit
        or invoice.get("default_payment_method")
        or subscription.get("default_payment_method")
    )
    try:
        return customer_payment_method(ctx, invoice["customer"], chosen)
    except CardError:
        raise
    except ApiError:
        return None


def attempt_payment(
    ctx: Ctx,
    invoice: JsonObject,
    *,
    payment_method: str | None = None,
    shown_before: JsonObject | None = None,
) -> CardError | None:
    """Charge an open invoice once; record success or failure and return any card error.

    `shown_before` is the invoice as last rendered, when the caller has it (saves a render).
    """
    from stripe_emulator.resources.crud import load
    from stripe_emulator.resources.payment_intents import PAYMENT_INTENT

    if invoice["status"] not in ("open", "uncollectible"):
        raise invalid(f"Invoice is already {invoice['status']}.", code="invoice_not_editable")
    card = payment_method_for(ctx, invoice, payment_method)
    if card is None:
        if dunning.retried(invoice):
            # A renewal with no card to charge fails like a decline and is retried.
            before = shown_before or _shown_if_wanted(ctx, invoice)
            invoice["attempt_count"] += 1
            invoice["attempted"] = True
            _failed(ctx, invoice, before)
        return None
    payment = _invoice_payment(ctx, invoice)
    if payment is None:
        raise invalid("This invoice is not collected automatically.")
    intent = load(ctx, PAYMENT_INTENT, payment["payment"]["payment_intent"])
    before = shown_before or _shown_if_wanted(ctx, invoice)
    intent, error = confirm_intent(ctx, intent, card)
    invoice["attempt_count"] += 1
    invoice["attempted"] = True
    if error is not None:
        _failed(ctx, invoice, before)
        return error
    payment["amount_paid"] = invoice["amount_due"]
    payment["status"] = "paid"
    payment["status_transitions"]["paid_at"] = ctx.now()
    _save_payment(ctx, payment)
    events.emit(ctx, "invoice_payment.paid", payment)
    mark_paid(ctx, invoice, before=before)
    return None


def _shown_if_wanted(ctx: Ctx, invoice: JsonObject) -> JsonObject | None:
    """Return the invoice as shown now, for `previous_attributes`, unless no event will be read."""
    return shown(ctx, invoice) if events.wanted(ctx) else None


def _failed(ctx: Ctx, invoice: JsonObject, before: JsonObject | None) -> None:
    """Record a failed attempt: schedule the retry, tell the subscription, maybe give up."""
    from stripe_emulator.billing.subscription_invoices import on_invoice_failed

    exhausted = dunning.schedule_retry(ctx, invoice)
    save_invoice(ctx, invoice)
    _emit(ctx, "invoice.payment_failed", invoice, before)
    on_invoice_failed(ctx, invoice)
    if exhausted:
        dunning.give_up(ctx, invoice)


def mark_paid(ctx: Ctx, invoice: JsonObject, *, before: JsonObject | None = None) -> JsonObject:
    """Record an invoice as paid and tell its subscription."""
    # Without readers for its events, nothing is rendered for them (their ids are drawn).
    announce = events.wanted(ctx)
    if announce:
        before = before or shown(ctx, invoice)
    invoice["amount_paid"] = invoice["amount_due"]
    invoice["amount_remaining"] = 0
    invoice["status"] = "paid"
    invoice["status_transitions"]["paid_at"] = ctx.now()
    invoice["next_payment_attempt"] = None
    if invoice["amount_due"] == 0:
        invoice["attempted"] = True
    save_invoice(ctx, invoice)
    if announce:
        current = shown(ctx, invoice)
        previous = events.previous_attributes(before or {}, current)
        events.emit(ctx, "invoice.paid", current, previous=previous)
        events.emit(ctx, "invoice.payment_succeeded", current, previous=previous)
    else:
        events.skip(ctx)
        events.skip(ctx)
    from stripe_emulator.billing.subscription_invoices import on_invoice_paid

    on_invoice_paid(ctx, invoice)
    return invoice


def pay_out_of_band(ctx: Ctx, invoice: JsonObject) -> JsonObject:
    """Mark an open invoice paid outside Stripe (its payment intent is canceled)."""
    _cancel_intent(ctx, invoice)
    invoice["amount_paid_off_stripe"] = invoice["amount_due"]
    return mark_paid(ctx, invoice)


def _cancel_intent(ctx: Ctx, invoice: JsonObject) -> None:
    from stripe_emulator.resources.crud import load
    from stripe_emulator.resources.payment_intents import PAYMENT_INTENT

    payment = _invoice_payment(ctx, invoice)
    if payment is None or payment["status"] != "open":
        return
    intent = load(ctx, PAYMENT_INTENT, payment["payment"]["payment_intent"])
    if intent["status"] in ("requires_payment_method", "requires_confirmation"):
        cancel_intent(ctx, intent, None)
    payment["status"] = "canceled"
    payment["status_transitions"]["canceled_at"] = ctx.now()
    _save_payment(ctx, payment)


def void(ctx: Ctx, invoice: JsonObject) -> JsonObject:
    """Void an open (or uncollectible) invoice."""
    if invoice["status"] not in ("open", "uncollectible"):
        raise invalid(
            "You can only pass in open invoices. This invoice isn't open.", param="invoice"
        )
    before = shown(ctx, invoice)
    _cancel_intent(ctx, invoice)
    invoice["status"] = "void"
    invoice["status_transitions"]["voided_at"] = ctx.now()
    invoice["amount_remaining"] = 0
    invoice["next_payment_attempt"] = None
    save_invoice(ctx, invoice)
    _emit(ctx, "invoice.voided", invoice, before)
    return invoice


def mark_uncollectible(ctx: Ctx, invoice: JsonObject) -> JsonObject:
    """Mark an open invoice uncollectible (it can still be paid later)."""
    if invoice["status"] != "open":
        raise invalid("You can only mark open invoices as uncollectible.", param="invoice")
    before = shown(ctx, invoice)
    invoice["status"] = "uncollectible"
    invoice["status_transitions"]["marked_uncollectible_at"] = ctx.now()
    invoice["next_payment_attempt"] = None
    save_invoice(ctx, invoice)
    _emit(ctx, "invoice.marked_uncollectible", invoice, before)
    return invoice
