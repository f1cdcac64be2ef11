"""Plans, the legacy face of recurring prices: every plan has a price with the same id and
every recurring price is also retrievable as a plan."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import ApiError, invalid
from stripe_emulator.params import Arr, Bool, Currency, DecimalStr, Enum, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import order_keys
from stripe_emulator.resources.shapes import (
    ACTIVE,
    INTERVAL,
    METADATA,
    NULLABLE_STR,
    TIER,
    StrOrObj,
    merge_metadata,
)

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

INLINE_PRODUCT = Obj(
    fields={
        "active": ACTIVE,
        "id": Str(),
        "metadata": METADATA,
        "name": Str(max_length=250),
        "statement_descriptor": Str(max_length=22),
        "tax_code": Str(),
        "unit_label": Str(),
    },
    required=("name",),
)
CREATE = Obj(
    fields={
        "active": ACTIVE,
        "amount": Int(minimum=0),
        "amount_decimal": DecimalStr(),
        "billing_scheme": Enum(values=("per_unit", "tiered")),
        "currency": Currency(),
        "id": Str(max_length=200),
        "interval": INTERVAL,
        "interval_count": Int(minimum=1),
        "metadata": METADATA,
        "meter": Str(),
        "nickname": Str(),
        "product": StrOrObj(obj=INLINE_PRODUCT),
        "tiers": Arr(item=TIER),
        "tiers_mode": Enum(values=("graduated", "volume")),
        "transform_usage": Obj(
            fields={"divide_by": Int(minimum=1), "round": Enum(values=("down", "up"))},
            required=("divide_by", "round"),
        ),
        "trial_period_days": Int(minimum=0),
        "usage_type": Enum(values=("licensed", "metered")),
    },
    required=("currency", "interval", "product"),
)
UPDATE = Obj(
    fields={
        "active": ACTIVE,
        "metadata": METADATA,
        "nickname": NULLABLE_STR,
        "product": Str(),
        "trial_period_days": Int(minimum=0),
    }
)


def plan_from_price(price: JsonObject) -> JsonObject:
    """Return the plan view of a recurring price."""
    recurring = price["recurring"]
    plan: JsonObject = {
        "id": price["id"],
        "object": "plan",
        "active": price["active"],
        "amount": price["unit_amount"],
        "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"],
        "created": price["created"],
        "currency": price["currency"],
        "interval": recurring["interval"],
        "interval_count": recurring["interval_count"],
        "livemode": price["livemode"],
        "metadata": price["metadata"],
        "meter": recurring.get("meter"),
        "nickname": price["nickname"],
        "product": price["product"],
        "tiers_mode": price["tiers_mode"],
        "transform_usage": price["transform_quantity"],
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring["usage_type"],
    }
    if "tiers" in price:
        plan["tiers"] = price["tiers"]
    return order_keys(plan)


def mirror_price_to_plan(ctx: Ctx, price: JsonObject) -> None:
    """Create or refresh the plan that mirrors a recurring price."""
    if price["recurring"] is None:
        return
    plan = plan_from_price(price)
    existing = ctx.store.get(ctx.scope, "plan", price["id"])
    if existing is None:
        ctx.store.insert(ctx.scope, "plan", plan, PLAN.slots(plan))
    elif not existing.deleted:
        ctx.store.update(ctx.scope, "plan", plan, PLAN.slots(plan))


def _price_params(params: JsonObject) -> JsonObject:
    recurring: dict[str, Any] = {"interval": params["interval"]}
    for key in ("interval_count", "meter", "trial_period_days", "usage_type"):
        if key in params:
            recurring[key] = params[key]
    price: dict[str, Any] = {"currency": params["currency"], "recurring": recurring}
    product = params["product"]
    price["product" if isinstance(product, str) else "product_data"] = product
    for plan_key, price_key in (
        ("amount", "unit_amount"),
        ("amount_decimal", "unit_amount_decimal"),
        ("transform_usage", "transform_quantity"),
    ):
        if plan_key in params:
            price[price_key] = params[plan_key]
    for key in ("active", "billing_scheme", "metadata", "nickname", "tiers", "tiers_mode"):
        if key in params:
            price[key] = params[key]
    if (
        params.get("billing_scheme") != "tiered"
        and "unit_amount" not in price
        and ("unit_amount_decimal" not in price)
    ):
        raise invalid("Missing required param: amount.", param="amount", code="parameter_missing")
    return price


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Create the backing price (same id) and return its plan view."""
    from stripe_emulator.resources.prices import PRICE
    from stripe_emulator.resources.prices import build as build_price

    if ctx.store.exists(ctx.scope, "price", object_id):
        raise ApiError(400, "Plan already exists.", code="resource_already_exists", param="id")
    price = order_keys(build_price(ctx, _price_params(params), object_id))
    ctx.store.insert(ctx.scope, "price", price, PRICE.slots(price))
    return plan_from_price(price)


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to the plan and its price."""
    from stripe_emulator.resources.prices import PRICE

    for key in ("active", "nickname", "trial_period_days", "product"):
        if key in params:
            obj[key] = params[key]
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    row = ctx.store.get(ctx.scope, "price", obj["id"])
    if row is not None:
        price = row.load()
        for key in ("active", "nickname", "metadata", "product"):
            price[key] = obj[key]
        price["recurring"]["trial_period_days"] = obj["trial_period_days"]
        ctx.store.update(ctx.scope, "price", price, PRICE.slots(price))
    return obj


def on_delete(ctx: Ctx, obj: JsonObject) -> None:
    """Archive the backing price: prices cannot be deleted, only deactivated."""
    from stripe_emulator.resources.prices import PRICE

    row = ctx.store.get(ctx.scope, "price", obj["id"])
    if row is not None:
        price = row.load()
        price["active"] = False
        ctx.store.update(ctx.scope, "price", price, PRICE.slots(price))


PLAN = Resource(
    object="plan",
    path="/v1/plans",
    id_prefix="price",
    id_length=24,
    custom_id=True,
    create_params=CREATE,
    build=build,
    update_params=UPDATE,
    apply_update=update,
    deletable=True,
    on_delete=on_delete,
    list_filters={"active": ListFilter("k2", Bool()), "product": ListFilter("k1", Str())},
    slots=lambda obj: (obj["product"], "1" if obj["active"] else "0"),
    expandable={"product": "product"},
    includable=("tiers",),
)


def register(emulator: Emulator) -> None:
    """Add plans."""
    emulator.add_resource(PLAN)
