"""Changing subscriptions over the API: update, cancel (`DELETE`), resume."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.billing import lifecycle, subscription_invoices
from stripe_emulator.billing import subscriptions as billing
from stripe_emulator.billing.changes import (
    apply_item_changes,
    credit_unused,
    invoice_prorations_now,
    restart_cycle,
    set_cancellation,
)
from stripe_emulator.billing.trials import end_without_payment_method, trial_settings
from stripe_emulator.errors import invalid
from stripe_emulator.resources.base import JsonObject
from stripe_emulator.resources.crud import load, present
from stripe_emulator.resources.shapes import merge_metadata
from stripe_emulator.resources.subscription_inputs import check_payment_method, discounts_from
from stripe_emulator.resources.subscriptions import CANCEL, RESUME, SUBSCRIPTION, UPDATE

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

PLAIN = ("application_fee_percent", "collection_method", "days_until_due", "description")


def _load_live(ctx: Ctx) -> JsonObject:
    subscription = _load(ctx)
    if subscription["status"] in ("canceled", "incomplete_expired"):
        raise invalid(
            "A canceled subscription can only update its cancellation_details and metadata.",
            param="subscription",
        )
    return subscription


def _load(ctx: Ctx) -> JsonObject:
    """Load the path's subscription; a test clock's subscription acts at its frozen time."""
    subscription = load(ctx, SUBSCRIPTION, ctx.path_params["id"])
    if subscription.get("test_clock"):
        from stripe_emulator.resources.test_clocks import follow_test_clock

        follow_test_clock(ctx, subscription["test_clock"])
    return subscription


def update(ctx: Ctx) -> JsonObject:
    """`POST /v1/subscriptions/{id}`."""
    params = ctx.coerce(UPDATE)
    subscription = _load_live(ctx)
    before = billing.shown(ctx, subscription)
    for key in PLAIN:
        if key in params:
            subscription[key] = params[key]
    if "metadata" in params:
        subscription["metadata"] = merge_metadata(subscription["metadata"], params["metadata"])
    if "default_payment_method" in params:
        check_payment_method(ctx, params["default_payment_method"], subscription["customer"])
        subscription["default_payment_method"] = params["default_payment_method"]
    if "trial_settings" in params:
        subscription["trial_settings"] = trial_settings(params["trial_settings"])
    if "pause_collection" in params:
        pause = params["pause_collection"]
        subscription["pause_collection"] = (
            None
            if pause is None
            else {"behavior": pause["behavior"], "resumes_at": pause.get("resumes_at")}
        )
    if any(key in params for key in ("coupon", "discounts", "promotion_code")):
        subscription["discounts"] = discounts_from(
            ctx, params, subscription["id"], subscription["customer"]
        )
    set_cancellation(ctx, subscription, params)
    behavior = params.get("proration_behavior", "create_prorations")
    restart = params.get("billing_cycle_anchor") == "now"
    if restart and not params.get("items") and behavior != "none":
        credit_unused(ctx, subscription)
    if params.get("items"):
        restart = apply_item_changes(ctx, subscription, params["items"], behavior) or restart
    if params.get("trial_end") == "now" and subscription["status"] == "trialing":
        subscription["trial_end"] = ctx.now()
        restart = not end_without_payment_method(ctx, subscription)
    if restart:
        restart_cycle(ctx, subscription)
        subscription = load(ctx, SUBSCRIPTION, subscription["id"])
    if behavior == "always_invoice":
        invoice_prorations_now(ctx, subscription)
        subscription = _reload_status(ctx, subscription)
    billing.save(ctx, subscription, before)
    return present(ctx, SUBSCRIPTION, subscription, ctx.expand_paths())


def _reload_status(ctx: Ctx, subscription: JsonObject) -> JsonObject:
    # Paying the invoice may have changed the stored status; keep the rest of our changes.
    stored = load(ctx, SUBSCRIPTION, subscription["id"])
    subscription["status"] = stored["status"]
    return subscription


def cancel(ctx: Ctx) -> JsonObject:
    """`DELETE /v1/subscriptions/{id}`: cancel now (`invoice_now`, `prorate`)."""
    params = ctx.coerce(CANCEL)
    subscription = _load(ctx)
    if subscription["status"] == "canceled":
        raise invalid(
            f"No such subscription: '{subscription['id']}'",
            code="resource_missing",
            param="id",
        )
    details = params.get("cancellation_details") or {}
    subscription = lifecycle.cancel(
        ctx,
        subscription,
        invoice_now=params.get("invoice_now", False),
        prorate=params.get("prorate", False),
        comment=details.get("comment"),
        feedback=details.get("feedback"),
    )
    return present(ctx, SUBSCRIPTION, subscription, ctx.expand_paths())


def resume(ctx: Ctx) -> JsonObject:
    """`POST /v1/subscriptions/{id}/resume`: a paused subscription starts a new period now."""
    from stripe_emulator import events

    ctx.coerce(RESUME)
    subscription = _load(ctx)
    if subscription["status"] != "paused":
        raise invalid("Only a paused subscription can be resumed.", param="subscription")
    before = billing.shown(ctx, subscription)
    now = ctx.now()
    end = billing.next_period_end(ctx, subscription, now)
    for item in billing.items_of(ctx, subscription["id"]):
        item["current_period_start"], item["current_period_end"] = now, end
        billing.save_item(ctx, item)
    subscription["status"] = "active"
    subscription["billing_cycle_anchor"] = now
    invoice = subscription_invoices.build_invoice(
        ctx, subscription, billing_reason="subscription_cycle", period=(now, end)
    )
    subscription["latest_invoice"] = invoice["id"]
    billing.save(ctx, subscription, before)
    events.emit(ctx, "customer.subscription.resumed", billing.shown(ctx, subscription))
    subscription_invoices.collect(ctx, subscription, invoice)
    subscription = load(ctx, SUBSCRIPTION, subscription["id"])
    return present(ctx, SUBSCRIPTION, subscription, ctx.expand_paths())


def register(emulator: Emulator) -> None:
    """Add the update, cancel and resume routes."""
    emulator.router.add("POST", "/v1/subscriptions/{id}", update)
    emulator.router.add("DELETE", "/v1/subscriptions/{id}", cancel)
    emulator.router.add("POST", "/v1/subscriptions/{id}/resume", resume)
