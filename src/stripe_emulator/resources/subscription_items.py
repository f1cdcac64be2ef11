"""Subscription items (`si_…`): listed per subscription; add, change, remove with prorations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.billing import subscriptions as billing
from stripe_emulator.billing.changes import apply_item_changes, invoice_prorations_now
from stripe_emulator.errors import invalid
from stripe_emulator.lists import fetch_page, list_envelope, list_params
from stripe_emulator.params import AnyHash, Arr, Enum, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import load
from stripe_emulator.resources.shapes import METADATA
from stripe_emulator.resources.subscriptions import DISCOUNTS

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

PRORATION = Enum(values=("always_invoice", "create_prorations", "none"))
_EDITABLE = {
    "discounts": DISCOUNTS,
    "metadata": METADATA,
    "payment_behavior": Str(),
    "plan": Str(),
    "price": Str(),
    "price_data": AnyHash(),
    "proration_behavior": PRORATION,
    "proration_date": Int(),
    "quantity": Int(minimum=0),
    "tax_rates": Arr(item=Str(), emptyable=True),
}
CREATE = Obj(fields={**_EDITABLE, "subscription": Str()}, required=("subscription",))
UPDATE = Obj(fields={**_EDITABLE, "off_session": Str()})
DELETE = Obj(
    fields={"clear_usage": Str(), "proration_behavior": PRORATION, "proration_date": Int()}
)


def render(ctx: Ctx, obj: JsonObject) -> JsonObject:
    """Embed the current price and plan."""
    from stripe_emulator.resources.subscriptions import render_item

    return render_item(ctx, obj)


SUBSCRIPTION_ITEM = Resource(
    object="subscription_item",
    path="/v1/subscription_items",
    id_prefix="si",
    noun="subscription item",
    listable=False,
    list_filters={"subscription": ListFilter("k1", Str())},
    slots=lambda obj: (obj["subscription"], obj["price"]),
    expandable={"discounts": "discount"},
    render=render,
)


def _change(ctx: Ctx, subscription_id: str, change: JsonObject, behavior: str) -> None:
    from stripe_emulator.resources.subscriptions import SUBSCRIPTION

    subscription = load(ctx, SUBSCRIPTION, subscription_id, param="subscription")
    if subscription["status"] in ("canceled", "incomplete_expired"):
        raise invalid("This subscription has been canceled.", param="subscription")
    before = billing.shown(ctx, subscription)
    apply_item_changes(ctx, subscription, [change], behavior)
    if behavior == "always_invoice":
        invoice_prorations_now(ctx, subscription)
        subscription["status"] = load(ctx, SUBSCRIPTION, subscription_id)["status"]
    billing.save(ctx, subscription, before)


def create(ctx: Ctx) -> JsonObject:
    """`POST /v1/subscription_items`."""
    from stripe_emulator.resources.crud import present

    params = ctx.coerce(CREATE)
    subscription_id = params.pop("subscription")
    behavior = params.pop("proration_behavior", "create_prorations")
    before = {item["id"] for item in billing.items_of(ctx, subscription_id)}
    _change(ctx, subscription_id, params, behavior)
    added = [i for i in billing.items_of(ctx, subscription_id) if i["id"] not in before]
    return present(ctx, SUBSCRIPTION_ITEM, added[0], ctx.expand_paths())


def update(ctx: Ctx) -> JsonObject:
    """`POST /v1/subscription_items/{id}`."""
    from stripe_emulator.resources.crud import present

    params = ctx.coerce(UPDATE)
    item = load(ctx, SUBSCRIPTION_ITEM, ctx.path_params["id"])
    behavior = params.pop("proration_behavior", "create_prorations")
    _change(ctx, item["subscription"], {**params, "id": item["id"]}, behavior)
    item = load(ctx, SUBSCRIPTION_ITEM, item["id"])
    return present(ctx, SUBSCRIPTION_ITEM, item, ctx.expand_paths())


def delete(ctx: Ctx) -> JsonObject:
    """`DELETE /v1/subscription_items/{id}`."""
    params = ctx.coerce(DELETE)
    item = load(ctx, SUBSCRIPTION_ITEM, ctx.path_params["id"])
    behavior = params.get("proration_behavior", "create_prorations")
    _change(ctx, item["subscription"], {"id": item["id"], "deleted": True}, behavior)
    return {"id": item["id"], "object": "subscription_item", "deleted": True}


def list_items(ctx: Ctx) -> JsonObject:
    """`GET /v1/subscription_items?subscription=…` (the parameter is required)."""
    params = ctx.coerce(list_params(SUBSCRIPTION_ITEM))
    subscription = params.get("subscription")
    if subscription is None:
        raise invalid(
            "Missing required param: subscription.",
            param="subscription",
            code="parameter_missing",
        )
    page = fetch_page(ctx, SUBSCRIPTION_ITEM, params)
    data = [render(ctx, row.load()) for row in page.rows]
    return list_envelope("/v1/subscription_items", data, page.has_more)


def register(emulator: Emulator) -> None:
    """Add subscription items."""
    emulator.add_resource(SUBSCRIPTION_ITEM)
    emulator.router.add("POST", "/v1/subscription_items", create)
    emulator.router.add("POST", "/v1/subscription_items/{id}", update)
    emulator.router.add("DELETE", "/v1/subscription_items/{id}", delete)
    emulator.router.add("GET", "/v1/subscription_items", list_items)
