"""Discounts (`di_…`): never fetched by id, embedded in customers (and later subscriptions)."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import ApiError
from stripe_emulator.resources.base import JsonObject, Resource
from stripe_emulator.resources.shapes import missing_reference
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx


def _render(_ctx: Ctx, obj: JsonObject) -> JsonObject:
    """Hide the store's `created` (kept for ordering; a discount has no such field)."""
    obj.pop("created", None)
    return obj


DISCOUNT = Resource(
    object="discount",
    listable=False,
    expandable={
        "customer": "customer",
        "promotion_code": "promotion_code",
        "source.coupon": "coupon",
    },
    render=_render,
)


def add_months(instant: int, months: int) -> int:
    """Return the same day and time `months` calendar months later (clamped to month end)."""
    moment = datetime.fromtimestamp(instant, UTC)
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return int(moment.replace(year=year, month=month, day=day).timestamp())


def redeem_coupon(ctx: Ctx, coupon_id: str, param: str) -> dict[str, Any]:
    """Check a coupon can be applied now, count the redemption, and return it."""
    scope: Scope = ctx.scope
    row = ctx.store.get(scope, "coupon", coupon_id)
    if row is None or row.deleted:
        raise missing_reference("coupon", coupon_id, param)
    coupon = row.load()
    if not coupon["valid"]:
        raise ApiError(400, f"Coupon expired: {coupon_id}", code="coupon_expired", param=param)
    coupon["times_redeemed"] += 1
    maximum = coupon.get("max_redemptions")
    if maximum is not None and coupon["times_redeemed"] >= maximum:
        coupon["valid"] = False
    ctx.store.update(scope, "coupon", coupon)
    return coupon


def make_discount(
    ctx: Ctx,
    coupon: dict[str, Any],
    *,
    customer: str | None = None,
    promotion_code: str | None = None,
    subscription: str | None = None,
    subscription_item: str | None = None,
) -> dict[str, Any]:
    """Return a new discount object for a redeemed coupon."""
    start = ctx.now()
    end = None
    if coupon["duration"] == "repeating" and coupon.get("duration_in_months"):
        end = add_months(start, int(coupon["duration_in_months"]))
    return {
        "id": ctx.new_id("di", 24),
        "object": "discount",
        "checkout_session": None,
        "customer": customer,
        "customer_account": None,
        "end": end,
        "invoice": None,
        "invoice_item": None,
        "promotion_code": promotion_code,
        "source": {"coupon": coupon["id"], "type": "coupon"},
        "start": start,
        "subscription": subscription,
        "subscription_item": subscription_item,
    }
