"""Subscriptions: create (with the first invoice), renew, cancel, and react to invoice outcomes.

A clock-driven engine calls `renew(ctx, subscription)` when a period ends and `cancel(...)` for
`cancel_at`; both work with `system_ctx(...)` and never raise card errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator import events
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
from stripe_emulator.billing.periods import add_interval, next_boundary, subtract_interval
from stripe_emulator.billing.system import commit_then_raise
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.billing.cards import CardError
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]
# Set once `customer.subscription.created` went out; later changes emit `…updated`.
ANNOUNCED = "_announced"
LIVE = ("active", "trialing", "past_due", "unpaid", "paused")


def items_of(ctx: Ctx, subscription_id: str) -> list[JsonObject]:
    """Return a subscription's items, oldest first."""
    result: list[JsonObject] = []
    after: tuple[int, int] | None = None
    while True:
        page = ctx.store.list_page(
            ctx.scope,
            "subscription_item",
            limit=100,
            conditions=[Condition("k1", (subscription_id,))],
            after=after,
        )
        result.extend(row.load() for row in page.rows)
        if not page.has_more:
            result.reverse()
            return result
        after = (page.rows[-1].created, page.rows[-1].seq)


def price_of(ctx: Ctx, price_id: str) -> JsonObject:
    """Return a stored price."""
    row = ctx.store.get(ctx.scope, "price", price_id)
    if row is None:
        raise KeyError(price_id)
    return row.load()


def shown(ctx: Ctx, subscription: JsonObject) -> JsonObject:
    """Return the subscription as the API shows it."""
    from stripe_emulator.resources.crud import present
    from stripe_emulator.resources.subscriptions import SUBSCRIPTION

    return present(ctx, SUBSCRIPTION, events.snapshot(subscription), [])


def save(ctx: Ctx, subscription: JsonObject, before: JsonObject | None = None) -> None:
    """Store a subscription; emit `customer.subscription.updated` when given what it was."""
    from stripe_emulator.resources.subscriptions import SUBSCRIPTION

    ctx.store.update(ctx.scope, "subscription", subscription, SUBSCRIPTION.slots(subscription))
    if before is None or not subscription.get(ANNOUNCED):
        return
    after = shown(ctx, subscription)
    previous = events.previous_attributes(before, after)
    if previous:
        events.emit(ctx, "customer.subscription.updated", after, previous=previous)


def save_item(ctx: Ctx, item: JsonObject) -> None:
    """Insert or replace a subscription item."""
    from stripe_emulator.resources.subscription_items import SUBSCRIPTION_ITEM

    if ctx.store.exists(ctx.scope, "subscription_item", item["id"]):
        ctx.store.update(ctx.scope, "subscription_item", item, SUBSCRIPTION_ITEM.slots(item))
    else:
        ctx.store.insert(ctx.scope, "subscription_item", item, SUBSCRIPTION_ITEM.slots(item))


def new_item(
    ctx: Ctx,
    subscription: JsonObject,
    *,
    price: JsonObject,
    quantity: int,
    period: tuple[int, int],
    metadata: dict[str, str] | None = None,
) -> JsonObject:
    """Store and return a new subscription item."""
    item: JsonObject = {
        "id": ctx.new_id("si", 14),
        "object": "subscription_item",
        "billing_thresholds": None,
        "created": ctx.now(),
        "current_period_end": period[1],
        "current_period_start": period[0],
        "discounts": [],
        "metadata": dict(metadata or {}),
        "price": price["id"],
        "quantity": quantity,
        "subscription": subscription["id"],
        "tax_rates": [],
    }
    save_item(ctx, item)
    return item


def period_of(ctx: Ctx, subscription: JsonObject) -> tuple[int, int]:
    """Return the current billing period shared by the subscription's items."""
    items = items_of(ctx, subscription["id"])
    if not items:
        now = ctx.now()
        return now, now
    return (
        min(item["current_period_start"] for item in items),
        max(item["current_period_end"] for item in items),
    )


def next_period_end(ctx: Ctx, subscription: JsonObject, start: int) -> int:
    """Return when a period starting at `start` ends, by the first item's price interval.

    Periods step from the billing cycle anchor, so a cycle anchored on the 31st ends on the
    last day of shorter months and on the 31st again after them.
    """
    items = items_of(ctx, subscription["id"])
    recurring = price_of(ctx, items[0]["price"])["recurring"]
    anchor = subscription.get("billing_cycle_anchor")
    if anchor is None or anchor > start:
        return add_interval(start, recurring["interval"], recurring["interval_count"])
    return next_boundary(anchor, start, recurring["interval"], recurring["interval_count"])


def invoice_discounts(ctx: Ctx, subscription: JsonObject, customer: JsonObject) -> list[str]:
    """Return the discounts a new invoice of the subscription applies (else the customer's)."""
    now = ctx.now()
    chosen: list[str] = []
    for discount_id in subscription["discounts"]:
        row = ctx.store.get(ctx.scope, "discount", discount_id)
        if row is None:
            continue
        discount = row.load()
        if discount.get("end") is not None and discount["end"] <= now:
            continue
        chosen.append(discount_id)
    if chosen or not customer.get("discount"):
        return chosen
    discount = customer["discount"]
    if not ctx.store.exists(ctx.scope, "discount", discount["id"]):
        ctx.store.insert(ctx.scope, "discount", {**discount, "created": now})
    return [discount["id"]]


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
    if with_items:
        for item in items_of(ctx, subscription["id"]):
            price = price_of(ctx, item["price"])
            amount = 0 if trial else None
            if full_start is not None and not trial:
                full = period_amount(price, item["quantity"])
                amount = prorate(full, full_start, period[1], period[0])
            price_line(
                ctx,
                invoice,
                price,
                quantity=item["quantity"],
                period=period,
                subscription=subscription["id"],
                item=item["id"],
                amount=amount,
                description=f"Trial period for {product_name(ctx, price)}" if trial else None,
            )
    recompute(ctx, invoice)
    save_invoice(ctx, invoice)
    collection.emit_created(ctx, invoice)
    _drop_used_once_discounts(ctx, subscription, invoice)
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
    collection.finalize(ctx, invoice)
    if (
        attempt
        and invoice["status"] == "open"
        and invoice["collection_method"] == "charge_automatically"
        # An unpaid subscription keeps issuing invoices but no longer charges them.
        and subscription["status"] != "unpaid"
    ):
        return collection.attempt_payment(ctx, invoice)
    return None


def on_invoice_paid(ctx: Ctx, invoice: JsonObject) -> None:
    """Activate the invoice's subscription once it is paid."""
    subscription = _of(ctx, invoice)
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
    subscription = _of(ctx, invoice)
    if subscription is None or invoice["billing_reason"] == "subscription_create":
        return
    if subscription["status"] in ("active", "trialing"):
        before = shown(ctx, subscription)
        subscription["status"] = "past_due"
        save(ctx, subscription, before)


def invoice_subscription(ctx: Ctx, invoice: JsonObject) -> JsonObject | None:
    """Return the subscription an invoice belongs to, if any."""
    return _of(ctx, invoice)


def _of(ctx: Ctx, invoice: JsonObject) -> JsonObject | None:
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    if details.get("subscription") is None:
        return None
    row = ctx.store.get(ctx.scope, "subscription", details["subscription"])
    return row.load() if row is not None else None


def start(ctx: Ctx, subscription: JsonObject, payment_behavior: str) -> JsonObject:
    """Issue the first invoice of a new subscription, try to pay it, and announce it."""
    now = ctx.now()
    trial_end = subscription["trial_end"]
    trialing = trial_end is not None and trial_end > now
    period = period_of(ctx, subscription)
    full_start = None
    if not trialing and subscription["billing_cycle_anchor"] == period[1] > period[0]:
        # Anchored in the future: the first period is the part of a full one before the anchor.
        recurring = price_of(ctx, items_of(ctx, subscription["id"])[0]["price"])["recurring"]
        full_start = subtract_interval(
            period[1], recurring["interval"], recurring["interval_count"]
        )
    invoice = build_invoice(
        ctx,
        subscription,
        billing_reason="subscription_create",
        period=period,
        trial=trialing,
        full_start=full_start,
    )
    subscription["latest_invoice"] = invoice["id"]
    save(ctx, subscription)
    error = collect(ctx, subscription, invoice, attempt=payment_behavior != "default_incomplete")
    if error is not None and payment_behavior == "error_if_incomplete":
        raise error
    row = ctx.store.get(ctx.scope, "subscription", subscription["id"])
    subscription = row.load() if row is not None else subscription
    if trialing:
        subscription["status"] = "trialing"
    elif invoice["collection_method"] == "send_invoice":
        subscription["status"] = "active"
    subscription[ANNOUNCED] = True
    save(ctx, subscription)
    events.emit(ctx, "customer.subscription.created", shown(ctx, subscription))
    if error is not None and payment_behavior == "pending_if_incomplete":
        commit_then_raise(ctx, error)
    return subscription


def renew(ctx: Ctx, subscription: JsonObject) -> JsonObject | None:
    """Start the next period: end a trial, honour a scheduled cancel, invoice and charge.

    Returns the new invoice, or None when the subscription ended instead.
    """
    from stripe_emulator.billing.trials import end_without_payment_method

    if subscription["status"] not in LIVE or subscription["status"] == "paused":
        return None
    if subscription["status"] == "trialing" and end_without_payment_method(ctx, subscription):
        return None
    old_start, old_end = period_of(ctx, subscription)
    cancel_at = subscription.get("cancel_at")
    if subscription["cancel_at_period_end"] or (cancel_at is not None and cancel_at <= old_end):
        cancel(ctx, subscription, reason="cancellation_requested")
        return None
    before = shown(ctx, subscription)
    new_end = next_period_end(ctx, subscription, old_end)
    for item in items_of(ctx, subscription["id"]):
        item["current_period_start"], item["current_period_end"] = old_end, new_end
        save_item(ctx, item)
    if subscription["status"] == "trialing":
        subscription["status"] = "active"
    invoice = build_invoice(
        ctx, subscription, billing_reason="subscription_cycle", period=(old_end, new_end)
    )
    subscription["latest_invoice"] = invoice["id"]
    save(ctx, subscription, before)
    del old_start
    collect(ctx, subscription, invoice)
    return invoice


def cancel(
    ctx: Ctx,
    subscription: JsonObject,
    *,
    reason: str = "cancellation_requested",
    invoice_now: bool = False,
    prorate: bool = False,
    comment: str | None = None,
    feedback: str | None = None,
) -> JsonObject:
    """End a subscription now; optionally credit unused time and invoice what is pending."""
    from stripe_emulator.billing.changes import prorate_items

    now = ctx.now()
    if prorate:
        prorate_items(
            ctx, subscription, [(item, None) for item in items_of(ctx, subscription["id"])]
        )
    if invoice_now and pending_items(ctx, subscription["customer"], subscription["id"]):
        invoice = build_invoice(
            ctx,
            subscription,
            billing_reason="subscription_cycle",
            period=(now, now),
            with_items=False,
        )
        collect(ctx, subscription, invoice)
        subscription["latest_invoice"] = invoice["id"]
    subscription["status"] = "canceled"
    subscription["canceled_at"] = subscription.get("canceled_at") or now
    subscription["ended_at"] = now
    subscription["cancellation_details"] = {
        "comment": comment,
        "feedback": feedback,
        "reason": reason,
    }
    save(ctx, subscription)
    events.emit(ctx, "customer.subscription.deleted", shown(ctx, subscription))
    return subscription
