"""Promotion codes (`promo_…`): customer-facing codes for a coupon."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.errors import ApiError, invalid
from stripe_emulator.params import Bool, Currency, Enum, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.shapes import ACTIVE, METADATA, merge_metadata, missing_reference
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

CURRENCY_OPTIONS = Obj(fields={})
RESTRICTIONS = Obj(
    fields={
        "currency_options": CURRENCY_OPTIONS,
        "first_time_transaction": Bool(),
        "minimum_amount": Int(minimum=0),
        "minimum_amount_currency": Currency(),
    }
)
CREATE = Obj(
    fields={
        "active": ACTIVE,
        "code": Str(max_length=500),
        "customer": Str(),
        "customer_account": Str(),
        "expires_at": Int(),
        "max_redemptions": Int(minimum=1),
        "metadata": METADATA,
        "promotion": Obj(
            fields={"coupon": Str(), "type": Enum(values=("coupon",))}, required=("type",)
        ),
        "restrictions": RESTRICTIONS,
        # Pre-clover shape, still sent by `stripe trigger promotion_code.created`.
        "coupon": Str(),
    }
)
UPDATE = Obj(
    fields={
        "active": ACTIVE,
        "metadata": METADATA,
        "restrictions": Obj(fields={"currency_options": CURRENCY_OPTIONS}),
    }
)


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new promotion code for an existing coupon."""
    promotion = params.get("promotion") or {}
    coupon_id = promotion.get("coupon") or params.get("coupon")
    param = "promotion[coupon]" if "promotion" in params else "coupon"
    if coupon_id is None:
        raise invalid(
            "Missing required param: promotion.", param="promotion", code="parameter_missing"
        )
    coupon = ctx.store.get(ctx.scope, "coupon", coupon_id)
    if coupon is None or coupon.deleted:
        raise missing_reference("coupon", coupon_id, param)
    customer = params.get("customer")
    if customer is not None and ctx.store.get(ctx.scope, "customer", customer) is None:
        raise missing_reference("customer", customer, "customer")
    code = params.get("code") or ctx.emulator.ids.code(8)
    clash = ctx.store.list_page(
        ctx.scope,
        "promotion_code",
        limit=1,
        conditions=[Condition("k1", ("1",)), Condition("k2", (code,))],
    )
    if clash.rows and params.get("active", True):
        raise ApiError(
            400, f"An active promotion code with `code: {code}` already exists.", param="code"
        )
    restrictions = params.get("restrictions") or {}
    return {
        "id": object_id,
        "object": "promotion_code",
        "active": params.get("active", True),
        "code": code,
        "created": ctx.now(),
        "customer": customer,
        "customer_account": None,
        "expires_at": params.get("expires_at"),
        "livemode": ctx.livemode,
        "max_redemptions": params.get("max_redemptions"),
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "promotion": {"coupon": coupon_id, "type": "coupon"},
        "restrictions": {
            "first_time_transaction": restrictions.get("first_time_transaction", False),
            "minimum_amount": restrictions.get("minimum_amount"),
            "minimum_amount_currency": restrictions.get("minimum_amount_currency"),
        },
        "times_redeemed": 0,
    }


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update (active, metadata, currency restrictions)."""
    if "active" in params:
        obj["active"] = params["active"]
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    return obj


def _flag(value: bool) -> str:
    return "1" if value else "0"


PROMOTION_CODE = Resource(
    object="promotion_code",
    path="/v1/promotion_codes",
    id_prefix="promo",
    id_length=24,
    noun="promotion code",
    create_params=CREATE,
    build=build,
    update_params=UPDATE,
    apply_update=update,
    list_filters={
        "active": ListFilter("k1", Bool()),
        "code": ListFilter("k2", Str(max_length=500)),
        "coupon": ListFilter("k3", Str()),
        "customer": ListFilter("k4", Str()),
        "customer_account": ListFilter("$.customer_account", Str()),
    },
    slots=lambda obj: (
        _flag(obj["active"]),
        obj["code"],
        obj["promotion"]["coupon"],
        obj["customer"],
    ),
    expandable={"promotion.coupon": "coupon", "customer": "customer"},
)


def register(emulator: Emulator) -> None:
    """Add promotion codes."""
    emulator.add_resource(PROMOTION_CODE)
