"""Trials: ending without a payment method, and the advance notice three days before the end.

`trial_settings.end_behavior.missing_payment_method` decides what happens when a trial ends and
neither the subscription nor the customer has a payment method: `pause` (status `paused`, with
`customer.subscription.paused`), `cancel` (status `canceled`), or Stripe's default for
subscriptions created over the API, `create_invoice`: the renewal invoice is issued, its payment
fails for want of a card, and the subscription goes `past_due` and into the retry schedule.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator import events

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]
DEFAULT_BEHAVIOR = "create_invoice"
BEHAVIORS = ("cancel", "create_invoice", "pause")
# Stripe announces the end of a trial this long before it.
NOTICE = 3 * 86400


def missing_payment_method_behavior(subscription: JsonObject) -> str:
    """Return what the subscription does when its trial ends without a payment method."""
    settings = subscription.get("trial_settings") or {}
    behavior = (settings.get("end_behavior") or {}).get("missing_payment_method")
    return str(behavior or DEFAULT_BEHAVIOR)


def trial_settings(params: JsonObject | None) -> JsonObject:
    """Return the stored `trial_settings` for a create or update parameter (validated)."""
    from stripe_emulator.errors import invalid

    behavior = ((params or {}).get("end_behavior") or {}).get(
        "missing_payment_method", DEFAULT_BEHAVIOR
    )
    if behavior not in BEHAVIORS:
        raise invalid(
            f"Invalid trial_settings[end_behavior][missing_payment_method]: must be one of "
            f"{', '.join(BEHAVIORS)}",
            param="trial_settings[end_behavior][missing_payment_method]",
        )
    return {"end_behavior": {"missing_payment_method": behavior}}


def has_payment_method(ctx: Ctx, subscription: JsonObject) -> bool:
    """Tell whether renewing could charge something (the subscription's or customer's card)."""
    if subscription.get("default_payment_method"):
        return True
    row = ctx.store.get(ctx.scope, "customer", subscription["customer"])
    if row is None:
        return False
    customer = row.load()
    settings = customer.get("invoice_settings") or {}
    return bool(settings.get("default_payment_method") or customer.get("default_source"))


def end_without_payment_method(ctx: Ctx, subscription: JsonObject) -> bool:
    """At a trial's end with no card, pause or cancel per the settings; True when it did."""
    from stripe_emulator.billing.lifecycle import cancel
    from stripe_emulator.billing.subscriptions import save, shown

    if subscription["collection_method"] != "charge_automatically" or has_payment_method(
        ctx, subscription
    ):
        return False
    behavior = missing_payment_method_behavior(subscription)
    if behavior == "pause":
        before = shown(ctx, subscription)
        subscription["status"] = "paused"
        save(ctx, subscription, before)
        events.emit(ctx, "customer.subscription.paused", shown(ctx, subscription))
        return True
    if behavior == "cancel":
        cancel(ctx, subscription, reason="cancellation_requested")
        return True
    return False


def announce_end(ctx: Ctx, subscription: JsonObject) -> None:
    """Emit `customer.subscription.trial_will_end`."""
    from stripe_emulator.billing.subscriptions import shown

    events.emit(ctx, "customer.subscription.trial_will_end", shown(ctx, subscription))
