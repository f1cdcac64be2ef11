"""Changing a subscription: items (with prorations), cancellation settings, pauses, trials."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stripe_emulator.billing.periods import prorate
from stripe_emulator.billing.pricing import period_amount
from stripe_emulator.billing.subscription_invoices import build_invoice, collect, open_period
from stripe_emulator.billing.subscriptions import (
    items_of,
    new_item,
    next_period_end,
    period_of,
    price_of,
    save,
    save_item,
)
from stripe_emulator.errors import invalid

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]


def _date(instant: int) -> str:
    return datetime.fromtimestamp(instant, UTC).strftime("%d %b %Y")


def prorate_items(
    ctx: Ctx, subscription: JsonObject, changes: list[tuple[JsonObject, JsonObject | None]]
) -> list[JsonObject]:
    """Create proration invoice items for (old item, new item or None) pairs, from now.

    The old item is credited for its unused time; the new one charged for the time left.
    """
    from stripe_emulator.billing.invoices import TIMES, product_name
    from stripe_emulator.resources.invoice_items import new_invoice_item

    now = ctx.now()
    start, end = period_of(ctx, subscription)
    created: list[JsonObject] = []
    for old, new in changes:
        for item, sign, label in ((old, -1, "Unused"), (new, 1, "Remaining")):
            if item is None or item.get("_deleted_before"):
                continue
            price = price_of(ctx, item["price"])
            full = period_amount(price, item["quantity"])
            amount = prorate(full, start, end, now)
            if amount == 0:
                continue
            created.append(
                new_invoice_item(
                    ctx,
                    customer=subscription["customer"],
                    currency=subscription["currency"],
                    amount=sign * amount,
                    quantity=item["quantity"],
                    price=price,
                    description=f"{label} time on {item['quantity']} {TIMES} "
                    f"{product_name(ctx, price)} after {_date(now)}",
                    period=(now, end),
                    proration=True,
                    subscription=subscription["id"],
                    subscription_item=item["id"],
                )
            )
    return created


def apply_item_changes(
    ctx: Ctx, subscription: JsonObject, changes: list[JsonObject], behavior: str
) -> bool:
    """Apply `items[N]` updates (add, change price or quantity, delete) with prorations.

    Returns whether the billing interval changed (month to year, say): then the old items are
    credited for their unused time but nothing is charged for the rest of the old period, since
    the caller restarts the cycle now (`restart_cycle`) and bills the new period whole.
    """
    from stripe_emulator.resources.subscription_inputs import item_discounts_from, resolve_price

    current = {item["id"]: item for item in items_of(ctx, subscription["id"])}
    interval_before = _interval(ctx, list(current.values()))
    pairs: list[tuple[JsonObject, JsonObject | None]] = []
    added: list[JsonObject] = []
    period = period_of(ctx, subscription)
    for index, change in enumerate(changes):
        param = f"items[{index}]"
        item = current.get(change["id"]) if "id" in change else None
        if "id" in change and item is None:
            raise invalid(f"No such subscription item: '{change['id']}'", param=f"{param}[id]")
        if item is None:
            price = resolve_price(ctx, change, param, subscription["currency"])
            item = new_item(
                ctx,
                subscription,
                price=price,
                quantity=change.get("quantity", 1),
                period=period,
                metadata=change.get("metadata"),
            )
            if change.get("discounts"):
                item["discounts"] = item_discounts_from(
                    ctx, change, param, subscription, item["id"]
                )
                save_item(ctx, item)
            added.append(item)
            continue
        old = dict(item)
        if change.get("deleted"):
            ctx.store.update(ctx.scope, "subscription_item", item, deleted=True)
            pairs.append((old, None))
            continue
        _change_item(ctx, subscription, item, change, param)
        if (old["price"], old["quantity"]) != (item["price"], item["quantity"]):
            pairs.append((old, item))
    pairs.extend((_nothing(item), item) for item in added)
    remaining = items_of(ctx, subscription["id"])
    if not remaining:
        raise invalid("A subscription must have at least one active plan.", param="items")
    interval_changed = _interval(ctx, remaining) != interval_before
    if interval_changed:
        pairs = [(old, None) for old, _new in pairs]
    if behavior != "none":
        prorate_items(ctx, subscription, pairs)
    return interval_changed


def _change_item(
    ctx: Ctx, subscription: JsonObject, item: JsonObject, change: JsonObject, param: str
) -> None:
    """Apply an `items[N]` change to an existing item and store it."""
    from stripe_emulator.resources.subscription_inputs import item_discounts_from, resolve_price

    if "price" in change or "plan" in change or "price_data" in change:
        item["price"] = resolve_price(ctx, change, param, subscription["currency"])["id"]
    if "quantity" in change:
        item["quantity"] = change["quantity"]
    if "metadata" in change:
        item["metadata"] = {**item["metadata"], **(change["metadata"] or {})}
    if "discounts" in change:
        # An empty value ("") removes the item's discounts.
        item["discounts"] = item_discounts_from(ctx, change, param, subscription, item["id"])
    save_item(ctx, item)


def _interval(ctx: Ctx, items: list[JsonObject]) -> tuple[str, int] | None:
    """Return the (interval, count) the first item's price bills on."""
    if not items:
        return None
    recurring = price_of(ctx, items[0]["price"])["recurring"]
    return recurring["interval"], recurring["interval_count"]


def credit_unused(ctx: Ctx, subscription: JsonObject) -> None:
    """Credit every item's unused time in the current period (before `restart_cycle`)."""
    prorate_items(ctx, subscription, [(item, None) for item in items_of(ctx, subscription["id"])])


def restart_cycle(ctx: Ctx, subscription: JsonObject) -> JsonObject:
    """Start a new billing period now and invoice it at once (`subscription_update`).

    What Stripe does when a trial ends early (`trial_end=now`), when the price changes to
    another interval, and for `billing_cycle_anchor=now`: the billing cycle anchor becomes now,
    the invoice carries the pending prorations plus the new period whole, and the status
    follows its payment (`active`, or `past_due` when it fails).
    """
    now = ctx.now()
    subscription["billing_cycle_anchor"] = now
    end = next_period_end(ctx, subscription, now)
    invoice = open_period(
        ctx, subscription, start=now, end=end, billing_reason="subscription_update"
    )
    save(ctx, subscription)
    collect(ctx, subscription, invoice)
    return invoice


def _nothing(item: JsonObject) -> JsonObject:
    # A new item has nothing to credit: flag it so only its remaining time is charged.
    return {**item, "_deleted_before": True}


def invoice_prorations_now(ctx: Ctx, subscription: JsonObject) -> JsonObject | None:
    """For `proration_behavior=always_invoice`: invoice and collect pending prorations now."""
    from stripe_emulator.billing.invoices import pending_items

    if not pending_items(ctx, subscription["customer"], subscription["id"]):
        return None
    now = ctx.now()
    invoice = build_invoice(
        ctx,
        subscription,
        billing_reason="subscription_update",
        period=(now, now),
        with_items=False,
    )
    subscription["latest_invoice"] = invoice["id"]
    collect(ctx, subscription, invoice)
    return invoice


def set_cancellation(ctx: Ctx, subscription: JsonObject, params: JsonObject) -> None:
    """Apply `cancel_at_period_end` / `cancel_at` (the subscription ends later, not now)."""
    now = ctx.now()
    if "cancel_at_period_end" in params:
        at_end = bool(params["cancel_at_period_end"])
        subscription["cancel_at_period_end"] = at_end
        subscription["cancel_at"] = period_of(ctx, subscription)[1] if at_end else None
        subscription["canceled_at"] = now if at_end else None
        subscription["cancellation_details"]["reason"] = (
            "cancellation_requested" if at_end else None
        )
    if "cancel_at" in params:
        cancel_at = params["cancel_at"]
        if cancel_at is not None and cancel_at <= now:
            raise invalid("cancel_at must be in the future.", param="cancel_at")
        subscription["cancel_at"] = cancel_at
        subscription["cancel_at_period_end"] = False
        subscription["canceled_at"] = now if cancel_at is not None else None
    details = params.get("cancellation_details")
    if details:
        subscription["cancellation_details"].update(details)
