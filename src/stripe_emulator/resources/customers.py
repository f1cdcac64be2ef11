"""Customers (`cus_…`), including the legacy `coupon`/`promotion_code` route to a `discount`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import ApiError, resource_missing
from stripe_emulator.lists import CREATED, PAGINATION, fetch_page, list_envelope, parse_limit
from stripe_emulator.params import Arr, Enum, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import load, save
from stripe_emulator.resources.discounts import make_discount, redeem_coupon
from stripe_emulator.resources.shapes import (
    ADDRESS,
    METADATA,
    NULLABLE_STR,
    address,
    apply_simple,
    merge_metadata,
    missing_reference,
)
from stripe_emulator.resources.tax_ids import CREATE as TAX_ID_CREATE
from stripe_emulator.resources.tax_ids import add_tax_id
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

SHIPPING = Obj(
    fields={"address": ADDRESS, "name": Str(), "phone": Str()},
    required=("address", "name"),
    emptyable=True,
)
INVOICE_SETTINGS = Obj(
    fields={
        "custom_fields": Arr(
            item=Obj(fields={"name": Str(), "value": Str()}, required=("name", "value")),
            emptyable=True,
        ),
        "default_payment_method": Str(),
        "footer": NULLABLE_STR,
        "rendering_options": Obj(
            fields={
                "amount_tax_display": Enum(
                    values=("exclude_tax", "include_inclusive_tax"), emptyable=True
                ),
                "template": Str(),
            },
            emptyable=True,
        ),
    }
)
COMMON = {
    "address": ADDRESS,
    "balance": Int(),
    "business_name": NULLABLE_STR,
    "description": NULLABLE_STR,
    "email": Str(max_length=512, emptyable=True),
    "individual_name": NULLABLE_STR,
    "invoice_prefix": Str(max_length=12),
    "invoice_settings": INVOICE_SETTINGS,
    "metadata": METADATA,
    "name": Str(max_length=256, emptyable=True),
    "next_invoice_sequence": Int(minimum=1),
    "phone": Str(max_length=20, emptyable=True),
    "preferred_locales": Arr(item=Str(), emptyable=True),
    "shipping": SHIPPING,
    "tax_exempt": Enum(values=("exempt", "none", "reverse"), emptyable=True),
    "source": Str(),
    "validate": Str(),
    # Removed from the API in 2025-09-30.clover but still sent by `stripe trigger` fixtures.
    "coupon": Str(emptyable=True),
    "promotion_code": Str(emptyable=True),
}
CREATE = Obj(
    fields={
        **COMMON,
        "payment_method": Str(),
        "test_clock": Str(),
        "tax_id_data": Arr(item=TAX_ID_CREATE),
    }
)
UPDATE = Obj(fields={**COMMON, "default_source": Str()})
PLAIN = ("balance", "business_name", "description", "email", "individual_name", "name", "phone")


def _invoice_settings(params: dict[str, Any] | None, old: JsonObject | None = None) -> JsonObject:
    settings = dict(
        old
        or {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        }
    )
    for key, value in (params or {}).items():
        settings[key] = value
    return settings


def _shipping(value: dict[str, Any] | None) -> JsonObject | None:
    if value is None:
        return None
    return {
        "address": address(value.get("address")),
        "name": value.get("name"),
        "phone": value.get("phone"),
    }


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new customer."""
    if params.get("test_clock"):
        from stripe_emulator.resources.test_clocks import follow_test_clock

        follow_test_clock(ctx, params["test_clock"])
    obj: JsonObject = {
        "id": object_id,
        "object": "customer",
        "address": address(params.get("address")),
        "balance": params.get("balance") or 0,
        "business_name": None,
        "created": ctx.now(),
        "currency": None,
        "customer_account": None,
        "default_source": None,
        "delinquent": False,
        "description": None,
        "discount": None,
        "email": None,
        "individual_name": None,
        "invoice_prefix": params.get("invoice_prefix") or ctx.emulator.ids.code(8),
        "invoice_settings": _invoice_settings(params.get("invoice_settings")),
        "livemode": ctx.livemode,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": None,
        "next_invoice_sequence": params.get("next_invoice_sequence", 1),
        "phone": None,
        "preferred_locales": params.get("preferred_locales") or [],
        "shipping": _shipping(params.get("shipping")),
        "tax_exempt": params.get("tax_exempt") or "none",
        "test_clock": params.get("test_clock"),
    }
    apply_simple(obj, params, PLAIN)
    obj["balance"] = obj["balance"] or 0
    _apply_discount(ctx, obj, params)
    for tax_id in params.get("tax_id_data") or []:
        add_tax_id(ctx, object_id, tax_id)
    return obj


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to a customer."""
    apply_simple(obj, params, PLAIN)
    obj["balance"] = obj["balance"] or 0
    if "address" in params:
        obj["address"] = address(params["address"])
    if "shipping" in params:
        obj["shipping"] = _shipping(params["shipping"])
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    if "invoice_settings" in params:
        obj["invoice_settings"] = _invoice_settings(
            params["invoice_settings"], obj["invoice_settings"]
        )
    for key in ("invoice_prefix", "next_invoice_sequence"):
        if key in params:
            obj[key] = params[key]
    if "preferred_locales" in params:
        obj["preferred_locales"] = params["preferred_locales"] or []
    if "tax_exempt" in params:
        obj["tax_exempt"] = params["tax_exempt"] or "none"
    _apply_discount(ctx, obj, params)
    return obj


def _apply_discount(ctx: Ctx, obj: JsonObject, params: JsonObject) -> None:
    if params.get("coupon") and params.get("promotion_code"):
        raise ApiError(
            400,
            "You may only specify one of these parameters: coupon, promotion_code.",
            code="parameters_exclusive",
            param="coupon",
        )
    if "coupon" in params or "promotion_code" in params:
        if params.get("coupon"):
            coupon = redeem_coupon(ctx, params["coupon"], "coupon")
            obj["discount"] = make_discount(ctx, coupon, customer=obj["id"])
        elif params.get("promotion_code"):
            obj["discount"] = _discount_from_promotion_code(ctx, obj, params["promotion_code"])
        else:
            obj["discount"] = None  # `coupon=` removes the discount


def _discount_from_promotion_code(ctx: Ctx, obj: JsonObject, code_id: str) -> JsonObject:
    row = ctx.store.get(ctx.scope, "promotion_code", code_id)
    if row is None or row.deleted:
        raise missing_reference("promotion code", code_id, "promotion_code")
    promotion = row.load()
    if not promotion["active"]:
        raise ApiError(400, f"This promotion code is inactive: {code_id}", param="promotion_code")
    coupon = redeem_coupon(ctx, promotion["promotion"]["coupon"], "promotion_code")
    promotion["times_redeemed"] += 1
    ctx.store.update(ctx.scope, "promotion_code", promotion)
    return make_discount(ctx, coupon, customer=obj["id"], promotion_code=code_id)


def include(ctx: Ctx, obj: JsonObject, name: str) -> JsonObject:
    """Compose `sources`, `subscriptions` or `tax_ids`, which Stripe returns only when expanded."""
    if name == "tax_ids":
        from stripe_emulator.resources.tax_ids import tax_ids_list

        return tax_ids_list(ctx, obj["id"])
    if name == "subscriptions":
        return _subscriptions(ctx, obj["id"], {})
    # Sources and cards predate PaymentMethods; the emulator attaches none.
    return list_envelope(f"/v1/customers/{obj['id']}/sources", [], has_more=False)


def _subscriptions(ctx: Ctx, customer: str, params: JsonObject) -> JsonObject:
    """The customer's current subscriptions (canceled ones only when `status` asks for them)."""
    from stripe_emulator.resources.subscriptions import SUBSCRIPTION

    assert SUBSCRIPTION.render is not None
    render = SUBSCRIPTION.render
    page = fetch_page(ctx, SUBSCRIPTION, {**params, "customer": customer})
    data = [render(ctx, row.load()) for row in page.rows]
    return list_envelope(f"/v1/customers/{customer}/subscriptions", data, page.has_more)


def _existing(ctx: Ctx) -> str:
    customer = ctx.path_params["id"]
    row = ctx.store.get(ctx.scope, "customer", customer)
    if row is None or row.deleted:
        raise resource_missing("customer", customer, param="customer")
    return customer


def list_subscriptions(ctx: Ctx) -> JsonObject:
    """`GET /v1/customers/{id}/subscriptions`: that customer's subscriptions, paged."""
    from stripe_emulator.resources.subscriptions import SUBSCRIPTION

    params = ctx.coerce(
        Obj(fields={**PAGINATION, **CREATED, "status": SUBSCRIPTION.list_filters["status"].spec})
    )
    return _subscriptions(ctx, _existing(ctx), params)


def list_sources(ctx: Ctx) -> JsonObject:
    """`GET /v1/customers/{id}/sources`: always empty (no legacy sources are emulated)."""
    params = ctx.coerce(Obj(fields={**PAGINATION, "object": Str()}))
    parse_limit(params.get("limit"))
    return list_envelope(f"/v1/customers/{_existing(ctx)}/sources", [], has_more=False)


CUSTOMER = Resource(
    object="customer",
    path="/v1/customers",
    id_prefix="cus",
    create_params=CREATE,
    build=build,
    update_params=UPDATE,
    apply_update=update,
    deletable=True,
    retrieve_deleted=True,
    list_filters={
        "email": ListFilter("k1", Str(max_length=512)),
        # Without the filter Stripe leaves test-clock customers out.
        "test_clock": ListFilter(
            "k2",
            Str(),
            default="",
            to_conditions=lambda value: [Condition("k2", (value or None,))],
        ),
    },
    slots=lambda obj: (obj.get("email"), obj.get("test_clock")),
    expandable={
        "default_source": "source",
        "test_clock": "test_helpers.test_clock",
        "invoice_settings.default_payment_method": "payment_method",
    },
    includable=("sources", "subscriptions", "tax_ids"),
    include=include,
)


def delete_discount(ctx: Ctx) -> JsonObject:
    """`DELETE /v1/customers/{id}/discount`: remove the customer's discount."""
    ctx.coerce(Obj())
    customer = load(ctx, CUSTOMER, ctx.path_params["id"])
    discount = customer.get("discount")
    if discount is None:
        raise ApiError(
            404,
            f"No active discount for customer: '{customer['id']}'",
            code="resource_missing",
            param="customer",
        )
    customer["discount"] = None
    save(ctx, CUSTOMER, customer, new=False)
    # A deleted discount has no `end` (fixtures3 `deleted_discount`).
    return {**{k: v for k, v in discount.items() if k != "end"}, "deleted": True}


def register(emulator: Emulator) -> None:
    """Add customers and their discount endpoint."""
    emulator.add_resource(CUSTOMER)
    emulator.router.add("GET", "/v1/customers/{id}/subscriptions", list_subscriptions)
    emulator.router.add("GET", "/v1/customers/{id}/sources", list_sources)
    emulator.router.add("DELETE", "/v1/customers/{id}/discount", delete_discount)
