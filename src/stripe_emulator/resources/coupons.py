"""Coupons (custom ids or 8-character codes): percent or amount off, for once/repeating/forever."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.errors import invalid
from stripe_emulator.params import AnyHash, Arr, Currency, Enum, Int, Num, Obj, Str
from stripe_emulator.resources.base import JsonObject, Resource
from stripe_emulator.resources.shapes import METADATA, merge_metadata

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

CREATE = Obj(
    fields={
        "amount_off": Int(minimum=1),
        "applies_to": Obj(fields={"products": Arr(item=Str())}),
        "currency": Currency(),
        "currency_options": AnyHash(),
        "duration": Enum(values=("forever", "once", "repeating")),
        "duration_in_months": Int(minimum=1),
        "id": Str(max_length=200),
        "max_redemptions": Int(minimum=1),
        "metadata": METADATA,
        "name": Str(max_length=40),
        "percent_off": Num(minimum=0.0, maximum=100.0),
        "redeem_by": Int(),
    }
)
UPDATE = Obj(
    fields={
        "metadata": METADATA,
        "name": Str(max_length=40, emptyable=True),
        "currency_options": AnyHash(),
    }
)


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new coupon after Stripe's consistency checks."""
    percent_off = params.get("percent_off")
    amount_off = params.get("amount_off")
    if (percent_off is None) == (amount_off is None):
        raise invalid(
            "You must pass exactly one of percent_off or amount_off.",
            param="percent_off" if percent_off is None else "amount_off",
        )
    if percent_off is not None and not 0 < percent_off <= 100:
        raise invalid(
            "Invalid percent_off: must be greater than 0 and at most 100", param="percent_off"
        )
    if amount_off is not None and "currency" not in params:
        raise invalid("You must pass currency when passing amount_off.", param="currency")
    duration = params.get("duration", "once")
    months = params.get("duration_in_months")
    if duration == "repeating" and months is None:
        raise invalid(
            "Missing required param: duration_in_months.",
            param="duration_in_months",
            code="parameter_missing",
        )
    if duration != "repeating" and months is not None:
        raise invalid(
            "duration_in_months may only be set when duration is `repeating`.",
            param="duration_in_months",
        )
    redeem_by = params.get("redeem_by")
    if redeem_by is not None and redeem_by <= ctx.now():
        raise invalid("Invalid redeem_by: must be in the future.", param="redeem_by")
    coupon: JsonObject = {
        "id": object_id,
        "object": "coupon",
        "amount_off": amount_off,
        "created": ctx.now(),
        "currency": params.get("currency") if amount_off else None,
        "duration": duration,
        "duration_in_months": months,
        "livemode": ctx.livemode,
        "max_redemptions": params.get("max_redemptions"),
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "name": params.get("name"),
        "percent_off": percent_off,
        "redeem_by": redeem_by,
        "times_redeemed": 0,
        "valid": True,
    }
    if "applies_to" in params:
        coupon["applies_to"] = {"products": params["applies_to"].get("products", [])}
    return coupon


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update (only name and metadata can change)."""
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    if "name" in params:
        obj["name"] = params["name"]
    if "currency_options" in params:
        obj["currency_options"] = params["currency_options"]
    return obj


def render(ctx: Ctx, obj: JsonObject) -> JsonObject:
    """Mark coupons past `redeem_by` invalid when shown."""
    redeem_by = obj.get("redeem_by")
    if redeem_by is not None and redeem_by <= ctx.now():
        obj["valid"] = False
    return obj


COUPON = Resource(
    object="coupon",
    path="/v1/coupons",
    id_prefix=None,
    id_length=8,
    custom_id=True,
    create_params=CREATE,
    build=build,
    update_params=UPDATE,
    apply_update=update,
    deletable=True,
    includable=("applies_to", "currency_options"),
    render=render,
)


def register(emulator: Emulator) -> None:
    """Add coupons."""
    emulator.add_resource(COUPON)
