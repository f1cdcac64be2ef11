"""A subscription's invoices: drafting them, collecting them, and what their outcome does.

`collect` finalizes and charges; `on_invoice_paid` and `on_invoice_failed` move the
subscription's status when a payment succeeds or fails. Card errors are returned, not raised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.billing import collection
from stripe_emulator.billing.invoices import (
    item_line,
    new_invoice,
    pending_items,
    price_line,
    product_name,
    recompute,
    save_invoice,
)
from stripe_emulator.billing.subscriptions import (
    invoice_subscription,
    items_of,
    price_of,
    save,
    save_item,
    shown,
)

if TYPE_CHECKING:
    from stripe_emulator.billing.cards import CardError
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]


def invoice_discounts(ctx: Ctx, subscription: JsonObject, customer: JsonObject) -> list[str]:
    """Return the discounts a new invoice of the subscription applies (else the customer's)."""
    now = ctx.now()
    chosen = active_discounts(ctx, subscription["discounts"])
    if chosen or not customer.get("discount"):
        return chosen
    discount = customer["discount"]
    if not ctx.store.exists(ctx.scope, "discount", discount["id"]):
        ctx.store.insert(ctx.scope, "discount", {**discount, "created": now})
    return [discount["id"]]


def active_discounts(ctx: Ctx, discount_ids: list[str]) -> list[str]:
    """Return the discounts of `discount_ids` that exist and have not ended."""
    now = ctx.now()
    chosen: list[str] = []
    for discount_id in discount_ids:
        row = ctx.store.get(ctx.scope, "discount", discount_id)
        if row is None:
            continue
        end = row.load().get("end")
        if end is None or end > now:
            chosen.append(discount_id)
    return chosen


def open_period(
    ctx: Ctx, subscription: JsonObject, *, start: int, end: int, billing_reason: str
) -> JsonObject:
    """Start the items' period [start, end), end a trial, and draft the period's invoice (it
    becomes `latest_invoice`; the caller saves the subscription and collects)."""
    for item in items_of(ctx, subscription["id"]):
        item["current_period_start"], item["current_period_end"] = start, end
        save_item(ctx, item)
    if subscription["status"] == "trialing":
        subscription["status"] = "active"
    invoice = build_invoice(ctx, subscription, billing_reason=billing_reason, period=(start, end))
    subscription["latest_invoice"] = invoice["id"]
    return invoice


def build_invoice(
    ctx: Ctx,
    subscription: JsonObject,
    *,
    billing_reason: str,
    period: tuple[int, int],
    trial: bool = False,
    with_items: bool = True,
    full_start: int | None = None,
) -> JsonObject:
    """Draft an invoice for the subscription's items over `period` plus its pending items.

    `full_start` marks a short first period (a future billing cycle anchor): the items are
    charged for the share of the full period (`full_start` to the period end) it covers.
    """
    from stripe_emulator.billing.periods import prorate
    from stripe_emulator.billing.pricing import period_amount

    customer_row = ctx.store.get(ctx.scope, "customer", subscription["customer"])
    customer = customer_row.load() if customer_row is not None else {"id": subscription["customer"]}
    invoice = new_invoice(
        ctx,
        customer,
        currency=subscription["currency"],
        billing_reason=billing_reason,
        subscription=subscription,
        params={
            "discounts": invoice_discounts(ctx, subscription, customer),
            "default_payment_method": None,
            "period_start": period[0],
            "period_end": period[0],
        },
    )
    for item in pending_items(ctx, subscription["customer"], subscription["id"]):
        item_line(ctx, invoice, item)
    charged: list[tuple[JsonObject, JsonObject]] = []
    if with_items:
        for item in items_of(ctx, subscription["id"]):
            price = price_of(ctx, item["price"])
            amount = 0 if trial else None
            if full_start is not None and not trial:
                full = period_amount(price, item["quantity"])
                amount = prorate(full, full_start, period[1], period[0])
            line = price_line(
                ctx,
                invoice,
                price,
                quantity=item["quantity"],
                period=period,
                subscription=subscription["id"],
                item=item["id"],
                amount=amount,
                description=f"Trial period for {product_name(ctx, price)}" if trial else None,
                discounts=active_discounts(ctx, item.get("discounts") or []),
            )
            charged.append((item, line))
    recompute(ctx, invoice)
    save_invoice(ctx, invoice)
    collection.emit_created(ctx, invoice)
    _drop_used_once_discounts(ctx, subscription, invoice)
    for item, line in charged:
        _drop_used_once_item_discounts(ctx, item, line)
    return invoice


def _drop_used_once_discounts(ctx: Ctx, subscription: JsonObject, invoice: JsonObject) -> None:
    """Remove `duration=once` discounts once an invoice with an amount used them."""
    if invoice["subtotal"] <= 0:
        return
    kept = []
    for discount_id in subscription["discounts"]:
        if discount_id in invoice["discounts"] and _coupon_duration(ctx, discount_id) == "once":
            continue
        kept.append(discount_id)
    subscription["discounts"] = kept


def _drop_used_once_item_discounts(ctx: Ctx, item: JsonObject, line: JsonObject) -> None:
    """Remove an item's `duration=once` discounts once its line with an amount used them."""
    if line["amount"] <= 0 or not line["discounts"]:
        return
    kept = [
        discount_id
        for discount_id in item["discounts"]
        if discount_id not in line["discounts"] or _coupon_duration(ctx, discount_id) != "once"
    ]
    if kept != item["discounts"]:
        item["discounts"] = kept
        save_item(ctx, item)


def _coupon_duration(ctx: Ctx, discount_id: str) -> str | None:
    discount = ctx.store.get(ctx.scope, "discount", discount_id)
    if discount is None:
        return None
    coupon = ctx.store.get(ctx.scope, "coupon", discount.load()["source"]["coupon"])
    return None if coupon is None else str(coupon.load()["duration"])


def collect(
    ctx: Ctx, subscription: JsonObject, invoice: JsonObject, *, attempt: bool = True
) -> CardError | None:
    """Finalize a subscription invoice and, when charging automatically, try to pay it."""
    if subscription.get("pause_collection") and invoice["billing_reason"] == "subscription_cycle":
        behavior = subscription["pause_collection"]["behavior"]
        if behavior == "keep_as_draft":
            return None
        collection.finalize(ctx, invoice)
        if invoice["status"] == "open":
            if behavior == "void":
                collection.void(ctx, invoice)
            else:
                collection.mark_uncollectible(ctx, invoice)
        return None
    finalized = collection.finalize(ctx, invoice)
    if (
        attempt
        and invoice["status"] == "open"
        and invoice["collection_method"] == "charge_automatically"
        # An unpaid subscription keeps issuing invoices but no longer charges them.
        and subscription["status"] != "unpaid"
    ):
        return collection.attempt_payment(ctx, invoice, shown_before=finalized)
    return None


def on_invoice_paid(ctx: Ctx, invoice: JsonObject) -> None:
    """Activate the invoice's subscription once it is paid."""
    subscription = invoice_subscription(ctx, invoice)
    if subscription is None or subscription["status"] not in (
        "incomplete",
        "past_due",
        "unpaid",
    ):
        return
    before = shown(ctx, subscription)
    trialing = (subscription.get("trial_end") or 0) > ctx.now()
    subscription["status"] = "trialing" if trialing else "active"
    save(ctx, subscription, before)


def on_invoice_failed(ctx: Ctx, invoice: JsonObject) -> None:
    """Mark the subscription past due when a renewal payment fails."""
    subscription = invoice_subscription(ctx, invoice)
    if subscription is None or invoice["billing_reason"] == "subscription_create":
        return
    if subscription["status"] in ("active", "trialing"):
        before = shown(ctx, subscription)
        subscription["status"] = "past_due"
        save(ctx, subscription, before)
