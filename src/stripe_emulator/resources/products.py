"""Products (`prod_…` or custom ids); `default_price_data` creates their first price."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.errors import ApiError
from stripe_emulator.params import AnyHash, Arr, Bool, Currency, Enum, Int, Num, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.shapes import (
    ACTIVE,
    INTERVAL,
    METADATA,
    apply_simple,
    merge_metadata,
    missing_reference,
)
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

PACKAGE = Obj(
    fields={name: Num(minimum=0.0) for name in ("height", "length", "weight", "width")},
    required=("height", "length", "weight", "width"),
    emptyable=True,
)
FEATURES = Arr(item=Obj(fields={"name": Str(max_length=80)}, required=("name",)), emptyable=True)
_EDITABLE = {
    "active": ACTIVE,
    "description": Str(max_length=40000, emptyable=True),
    "images": Arr(item=Str(max_length=2048), max_items=8, emptyable=True),
    "marketing_features": FEATURES,
    "metadata": METADATA,
    "name": Str(max_length=250),
    "package_dimensions": PACKAGE,
    "shippable": Bool(),
    "statement_descriptor": Str(max_length=22, emptyable=True),
    "tax_code": Str(emptyable=True),
    "unit_label": Str(max_length=12, emptyable=True),
    "url": Str(emptyable=True),
}
DEFAULT_PRICE_DATA = Obj(
    fields={
        "currency": Currency(),
        "currency_options": AnyHash(),
        "custom_unit_amount": AnyHash(),
        "metadata": METADATA,
        "recurring": Obj(
            fields={"interval": INTERVAL, "interval_count": Int(minimum=1)}, required=("interval",)
        ),
        "tax_behavior": Enum(values=("exclusive", "inclusive", "unspecified")),
        "unit_amount": Int(minimum=0),
        "unit_amount_decimal": Str(),
    },
    required=("currency",),
)
CREATE = Obj(
    fields={
        **_EDITABLE,
        "id": Str(max_length=200),
        "type": Enum(values=("good", "service")),
        "default_price_data": DEFAULT_PRICE_DATA,
    },
    required=("name",),
)
UPDATE = Obj(fields={**_EDITABLE, "default_price": Str(), "name": Str(max_length=250)})
PLAIN = (
    "active",
    "description",
    "name",
    "shippable",
    "statement_descriptor",
    "tax_code",
    "unit_label",
    "url",
)


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new product, creating its default price when asked to."""
    now = ctx.now()
    product: JsonObject = {
        "id": object_id,
        "object": "product",
        "active": True,
        "created": now,
        "default_price": None,
        "description": None,
        "images": params.get("images") or [],
        "livemode": ctx.livemode,
        "marketing_features": params.get("marketing_features") or [],
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": params["name"],
        "package_dimensions": params.get("package_dimensions"),
        "shippable": None,
        "statement_descriptor": None,
        "tax_code": None,
        "type": params.get("type", "service"),
        "unit_label": None,
        "updated": now,
        "url": None,
    }
    apply_simple(product, params, PLAIN)
    if "default_price_data" in params:
        from stripe_emulator.resources.prices import create_price

        data = dict(params["default_price_data"])
        data["product"] = object_id
        price = create_price(ctx, data, product_exists=False)
        product["default_price"] = price["id"]
    return product


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to a product."""
    apply_simple(obj, params, PLAIN)
    for key in ("images", "marketing_features"):
        if key in params:
            obj[key] = params[key] or []
    if "package_dimensions" in params:
        obj["package_dimensions"] = params["package_dimensions"]
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    if "default_price" in params:
        price_id = params["default_price"]
        row = ctx.store.get(ctx.scope, "price", price_id)
        if row is None or row.load()["product"] != obj["id"]:
            raise missing_reference("price", price_id, "default_price")
        obj["default_price"] = price_id
    obj["updated"] = ctx.now()
    return obj


def on_delete(ctx: Ctx, obj: JsonObject) -> None:
    """Refuse to delete a product that still has prices, as Stripe does."""
    prices = ctx.store.list_page(
        ctx.scope, "price", limit=1, conditions=[Condition("k1", (obj["id"],))]
    )
    if prices.rows:
        raise ApiError(
            400,
            "This product cannot be deleted because it has one or more user-created prices.",
            code=None,
            param="id",
        )


PRODUCT = Resource(
    object="product",
    path="/v1/products",
    id_prefix="prod",
    custom_id=True,
    create_params=CREATE,
    build=build,
    update_params=UPDATE,
    apply_update=update,
    deletable=True,
    on_delete=on_delete,
    list_filters={
        "active": ListFilter("k1", Bool()),
        "ids": ListFilter("id", Arr(item=Str())),
        "shippable": ListFilter("$.shippable", Bool()),
        "type": ListFilter("k2", Enum(values=("good", "service"))),
        "url": ListFilter("$.url", Str()),
    },
    slots=lambda obj: ("1" if obj["active"] else "0", obj["type"]),
    expandable={"default_price": "price"},
)


def register(emulator: Emulator) -> None:
    """Add products."""
    emulator.add_resource(PRODUCT)
