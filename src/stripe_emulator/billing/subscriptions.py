"""A subscription's stored state: the subscription, its items and their billing period.

`save` announces changes (`customer.subscription.updated`) once the subscription was created;
`renew`, `start` and `cancel` (`lifecycle.py`) and invoicing (`subscription_invoices.py`) build
on these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator import events
from stripe_emulator.billing.periods import add_interval, next_boundary
from stripe_emulator.store import Condition

if TYPE_CHECKING:
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
    if not events.wanted(ctx):
        if events.changed(before, after):
            events.skip(ctx)
        return
    previous = events.previous_attributes(before, after)
    if previous:
        events.emit(ctx, "customer.subscription.updated", after, previous=previous)


def announce(ctx: Ctx, type_: str, subscription: JsonObject) -> None:
    """Emit `type_` with the subscription as shown now (not rendered when nobody can read it)."""
    if events.wanted(ctx):
        events.emit(ctx, type_, shown(ctx, subscription))
    else:
        events.skip(ctx)


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


def invoice_subscription(ctx: Ctx, invoice: JsonObject) -> JsonObject | None:
    """Return the subscription an invoice belongs to, if any."""
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    if details.get("subscription") is None:
        return None
    row = ctx.store.get(ctx.scope, "subscription", details["subscription"])
    return row.load() if row is not None else None
