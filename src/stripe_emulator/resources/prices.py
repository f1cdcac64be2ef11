"""Prices (`price_…`): per-unit or tiered, one-time or recurring; recurring ones mirror a plan."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import ApiError, invalid
from stripe_emulator.params import (
    AnyHash,
    Arr,
    Bool,
    Currency,
    DecimalStr,
    Enum,
    Int,
    Obj,
    Str,
)
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import order_keys, save
from stripe_emulator.resources.shapes import (
    ACTIVE,
    INTERVAL,
    METADATA,
    NULLABLE_STR,
    TIER,
    merge_metadata,
    missing_reference,
    parse_tiers,
)
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

MAX_INTERVAL_COUNT = {"day": 365, "week": 52, "month": 12, "year": 1}
RECURRING = Obj(
    fields={
        "interval": INTERVAL,
        "interval_count": Int(minimum=1),
        "meter": Str(),
        "trial_period_days": Int(minimum=0),
        "usage_type": Enum(values=("licensed", "metered")),
    },
    required=("interval",),
)
TRANSFORM = Obj(
    fields={"divide_by": Int(minimum=1), "round": Enum(values=("down", "up"))},
    required=("divide_by", "round"),
)
PRODUCT_DATA = Obj(
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
TAX_BEHAVIOR = Enum(values=("exclusive", "inclusive", "unspecified"))
CREATE = Obj(
    fields={
        "active": ACTIVE,
        "billing_scheme": Enum(values=("per_unit", "tiered")),
        "currency": Currency(),
        "currency_options": AnyHash(),
        "custom_unit_amount": AnyHash(),
        "lookup_key": Str(max_length=200),
        "metadata": METADATA,
        "nickname": Str(),
        "product": Str(),
        "product_data": PRODUCT_DATA,
        "recurring": RECURRING,
        "tax_behavior": TAX_BEHAVIOR,
        "tiers": Arr(item=TIER),
        "tiers_mode": Enum(values=("graduated", "volume")),
        "transfer_lookup_key": Bool(),
        "transform_quantity": TRANSFORM,
        "unit_amount": Int(minimum=0),
        "unit_amount_decimal": DecimalStr(),
    },
    required=("currency",),
)
UPDATE = Obj(
    fields={
        "active": ACTIVE,
        "currency_options": AnyHash(emptyable=True),
        "lookup_key": Str(max_length=200, emptyable=True),
        "metadata": METADATA,
        "nickname": NULLABLE_STR,
        "tax_behavior": TAX_BEHAVIOR,
        "transfer_lookup_key": Bool(),
    }
)


def create_price(ctx: Ctx, params: JsonObject, *, product_exists: bool = True) -> JsonObject:
    """Validate, build and store a price (used by `POST /v1/prices` and product creation)."""
    from stripe_emulator.resources.crud import new_id

    obj = order_keys(build(ctx, params, new_id(ctx, PRICE, params), product_exists))
    save(ctx, PRICE, obj, new=True)
    return obj


def _product_id(ctx: Ctx, params: JsonObject, product_exists: bool) -> str:
    product, product_data = params.get("product"), params.get("product_data")
    if (product is None) == (product_data is None):
        raise invalid(
            "You must specify either `product` or `product_data` when creating a price.",
            param="product",
        )
    if product is not None:
        if product_exists:
            row = ctx.store.get(ctx.scope, "product", product)
            if row is None or row.deleted:
                raise missing_reference("product", product, "product")
        return str(product)
    from stripe_emulator.resources.crud import new_id
    from stripe_emulator.resources.products import PRODUCT
    from stripe_emulator.resources.products import build as build_product

    data = dict(product_data or {})
    product_obj = order_keys(build_product(ctx, data, new_id(ctx, PRODUCT, data)))
    save(ctx, PRODUCT, product_obj, new=True)
    return str(product_obj["id"])


def _amounts(params: JsonObject) -> tuple[str, Any, Any, Any, Any]:
    scheme = params.get("billing_scheme", "per_unit")
    unit_amount = params.get("unit_amount")
    decimal = params.get("unit_amount_decimal")
    if unit_amount is not None and decimal is not None:
        raise invalid(
            "You may only specify one of these parameters: unit_amount, unit_amount_decimal.",
            param="unit_amount",
            code="parameters_exclusive",
        )
    if scheme == "tiered":
        if unit_amount is not None or decimal is not None:
            raise invalid(
                "unit_amount cannot be set when billing_scheme is tiered.", param="unit_amount"
            )
        if "tiers" not in params or "tiers_mode" not in params:
            raise invalid("Missing required param: tiers.", param="tiers", code="parameter_missing")
        if "transform_quantity" in params:
            raise invalid(
                "transform_quantity cannot be used with tiered prices.", param="transform_quantity"
            )
        return scheme, None, None, parse_tiers(params["tiers"]), params["tiers_mode"]
    if "tiers" in params or "tiers_mode" in params:
        raise invalid("tiers can only be set when billing_scheme is tiered.", param="tiers")
    if unit_amount is None and decimal is None and "custom_unit_amount" not in params:
        raise invalid(
            "You must pass either unit_amount, unit_amount_decimal, or custom_unit_amount.",
            param="unit_amount",
            code="parameter_missing",
        )
    if decimal is not None:
        whole = float(decimal)
        unit_amount = int(whole) if whole == int(whole) else None
    else:
        decimal = None if unit_amount is None else str(unit_amount)
    return scheme, unit_amount, decimal, None, None


def _recurring(params: JsonObject) -> JsonObject | None:
    recurring = params.get("recurring")
    if recurring is None:
        return None
    count = recurring.get("interval_count", 1)
    if count > MAX_INTERVAL_COUNT[recurring["interval"]]:
        raise invalid("The maximum billing period is one year.", param="recurring[interval_count]")
    return {
        "interval": recurring["interval"],
        "interval_count": count,
        "meter": recurring.get("meter"),
        "trial_period_days": recurring.get("trial_period_days"),
        "usage_type": recurring.get("usage_type", "licensed"),
    }


def _claim_lookup_key(ctx: Ctx, key: str | None, transfer: bool, own_id: str) -> None:
    if key is None:
        return
    holders = ctx.store.list_page(ctx.scope, "price", limit=5, conditions=[Condition("k4", (key,))])
    for row in holders.rows:
        if row.id == own_id:
            continue
        if not transfer:
            raise ApiError(
                400, f"A price (`{row.id}`) already uses that lookup key.", param="lookup_key"
            )
        other = row.load()
        other["lookup_key"] = None
        save(ctx, PRICE, other, new=False)


def build(ctx: Ctx, params: JsonObject, object_id: str, product_exists: bool = True) -> JsonObject:
    """Return a new price."""
    product = _product_id(ctx, params, product_exists)
    scheme, unit_amount, decimal, tiers, tiers_mode = _amounts(params)
    recurring = _recurring(params)
    _claim_lookup_key(
        ctx, params.get("lookup_key"), params.get("transfer_lookup_key", False), object_id
    )
    price: JsonObject = {
        "id": object_id,
        "object": "price",
        "active": params.get("active", True),
        "billing_scheme": scheme,
        "created": ctx.now(),
        "currency": params["currency"],
        "custom_unit_amount": params.get("custom_unit_amount"),
        "livemode": ctx.livemode,
        "lookup_key": params.get("lookup_key"),
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "nickname": params.get("nickname"),
        "product": product,
        "recurring": recurring,
        "tax_behavior": params.get("tax_behavior", "unspecified"),
        "tiers_mode": tiers_mode,
        "transform_quantity": params.get("transform_quantity"),
        "type": "one_time" if recurring is None else "recurring",
        "unit_amount": unit_amount,
        "unit_amount_decimal": decimal,
    }
    if tiers is not None:
        price["tiers"] = tiers
    if "currency_options" in params:
        price["currency_options"] = params["currency_options"]
    return price


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to a price."""
    for key in ("active", "nickname", "tax_behavior"):
        if key in params:
            obj[key] = params[key]
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    if "lookup_key" in params:
        _claim_lookup_key(
            ctx, params["lookup_key"], params.get("transfer_lookup_key", False), obj["id"]
        )
        obj["lookup_key"] = params["lookup_key"]
    if "currency_options" in params:
        obj["currency_options"] = params["currency_options"]
    return obj


def after_write(ctx: Ctx, obj: JsonObject) -> None:
    """Keep the plan that mirrors a recurring price in step."""
    from stripe_emulator.resources.plans import mirror_price_to_plan

    mirror_price_to_plan(ctx, obj)


def _recurring_conditions(value: Any) -> Sequence[Condition]:
    return [Condition(f"$.recurring.{key}", (item,)) for key, item in value.items()]


def _flag(value: bool) -> str:
    return "1" if value else "0"


PRICE = Resource(
    object="price",
    path="/v1/prices",
    id_prefix="price",
    id_length=24,
    create_params=CREATE,
    build=build,
    update_params=UPDATE,
    apply_update=update,
    list_filters={
        "active": ListFilter("k2", Bool(), default=True),
        "currency": ListFilter("$.currency", Currency()),
        "lookup_keys": ListFilter("k4", Arr(item=Str(max_length=200), max_items=10)),
        "product": ListFilter("k1", Str()),
        "recurring": ListFilter(
            "$.recurring",
            Obj(
                fields={
                    "interval": INTERVAL,
                    "meter": Str(),
                    "usage_type": Enum(values=("licensed", "metered")),
                }
            ),
            to_conditions=_recurring_conditions,
        ),
        "type": ListFilter("k3", Enum(values=("one_time", "recurring"))),
    },
    slots=lambda obj: (obj["product"], _flag(obj["active"]), obj["type"], obj["lookup_key"]),
    expandable={"product": "product"},
    includable=("currency_options", "tiers"),
    after_write=after_write,
)


def register(emulator: Emulator) -> None:
    """Add prices."""
    emulator.add_resource(PRICE)
