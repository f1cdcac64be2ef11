"""A subscription's life: its start (first invoice), each renewal, and its end.

A clock-driven engine calls `renew(ctx, subscription)` when a period ends and `cancel(...)` for
`cancel_at`; both work with `system_ctx(...)` and never raise card errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator import events
from stripe_emulator.billing.invoices import pending_items
from stripe_emulator.billing.periods import subtract_interval
from stripe_emulator.billing.subscription_invoices import build_invoice, collect, open_period
from stripe_emulator.billing.subscriptions import (
    ANNOUNCED,
    LIVE,
    announce,
    items_of,
    next_period_end,
    period_of,
    price_of,
    save,
    shown,
)
from stripe_emulator.billing.system import commit_then_raise

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]


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
    announce(ctx, "customer.subscription.created", subscription)
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
    # Nothing is rendered for an update event nobody can read (`events.wanted`).
    before = shown(ctx, subscription) if events.wanted(ctx) else None
    new_end = next_period_end(ctx, subscription, old_end)
    invoice = open_period(
        ctx, subscription, start=old_end, end=new_end, billing_reason="subscription_cycle"
    )
    if before is not None:
        save(ctx, subscription, before)
    else:
        save(ctx, subscription)
        if subscription.get(ANNOUNCED):
            # The new invoice became `latest_invoice`: `save` would always see a change.
            events.skip(ctx)
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
    announce(ctx, "customer.subscription.deleted", subscription)
    return subscription
