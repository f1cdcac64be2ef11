"""Reading subscription parameters: prices of `items[N]`, discounts, trials, payment methods."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.billing.periods import DAY
from stripe_emulator.errors import invalid
from stripe_emulator.resources.base import JsonObject
from stripe_emulator.resources.shapes import missing_reference

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx


def resolve_price(ctx: Ctx, spec: JsonObject, param: str, currency: str | None) -> JsonObject:
    """Return the recurring price an `items[N]` hash names (`price`, `plan` or `price_data`)."""
    from stripe_emulator.resources.prices import create_price

    if spec.get("price_data"):
        data = dict(spec["price_data"])
        recurring = data.get("recurring") or {}
        if "interval_count" in recurring:
            recurring["interval_count"] = int(recurring["interval_count"])
        data["recurring"] = recurring
        if "unit_amount" in data:
            data["unit_amount"] = int(data["unit_amount"])
        return create_price(ctx, data)
    price_id = spec.get("price") or spec.get("plan")
    if price_id is None:
        raise invalid(
            "Missing required param: price.", param=f"{param}[price]", code="parameter_missing"
        )
    row = ctx.store.get(ctx.scope, "price", price_id)
    if row is None:
        raise missing_reference("price", price_id, f"{param}[price]")
    price = row.load()
    if price["type"] != "recurring":
        raise invalid(
            "The price specified is set to `type=one_time` but this field only accepts prices "
            "with `type=recurring`.",
            param=f"{param}[price]",
        )
    if currency is not None and price["currency"] != currency:
        raise invalid(
            "All prices on a subscription must have the same `currency`.", param=f"{param}[price]"
        )
    return price


def discounts_from(ctx: Ctx, params: JsonObject, subscription_id: str, customer: str) -> list[str]:
    """Return the ids of the subscription-level discounts `params` ask for (made as needed)."""
    entries = list(params.get("discounts") or [])
    if params.get("coupon"):
        entries.append({"coupon": params["coupon"]})
    if params.get("promotion_code"):
        entries.append({"promotion_code": params["promotion_code"]})
    return discount_ids(ctx, entries, "discounts", customer=customer, subscription=subscription_id)


def item_discounts_from(
    ctx: Ctx, change: JsonObject, param: str, subscription: JsonObject, item_id: str
) -> list[str]:
    """Return the ids of an item's discounts (`items[N][discounts]`), made as needed."""
    return discount_ids(
        ctx,
        list(change.get("discounts") or []),
        f"{param}[discounts]",
        customer=subscription["customer"],
        subscription=subscription["id"],
        subscription_item=item_id,
    )


def discount_ids(
    ctx: Ctx,
    entries: list[JsonObject],
    param: str,
    *,
    customer: str,
    subscription: str,
    subscription_item: str | None = None,
) -> list[str]:
    """Return discount ids for `discounts[N]` entries: existing ones, or new from coupons."""
    from stripe_emulator.resources.discounts import make_discount, redeem_coupon

    ids: list[str] = []
    for index, entry in enumerate(entries):
        if entry.get("discount"):
            ids.append(entry["discount"])
            continue
        promotion = entry.get("promotion_code")
        coupon_id = entry.get("coupon")
        if promotion:
            row = ctx.store.get(ctx.scope, "promotion_code", promotion)
            if row is None:
                raise missing_reference("promotion code", promotion, "promotion_code")
            coupon_id = row.load()["promotion"]["coupon"]
        coupon = redeem_coupon(ctx, str(coupon_id), f"{param}[{index}][coupon]")
        discount = make_discount(
            ctx,
            coupon,
            customer=customer,
            subscription=subscription,
            subscription_item=subscription_item,
            promotion_code=promotion,
        )
        ctx.store.insert(ctx.scope, "discount", {**discount, "created": ctx.now()})
        ids.append(discount["id"])
    return ids


def trial_end_from(ctx: Ctx, params: JsonObject, prices: list[JsonObject]) -> int | None:
    now = ctx.now()
    raw = params.get("trial_end")
    if raw is not None and raw != "now":
        try:
            value = int(raw)
        except ValueError:
            raise invalid(
                "Invalid trial_end: must be an integer or `now`.", param="trial_end"
            ) from None
        if value <= now:
            raise invalid("Invalid timestamp: must be in the future.", param="trial_end")
        return value
    if raw == "now":
        return None
    days = params.get("trial_period_days")
    if days is None and params.get("trial_from_plan"):
        days = (prices[0]["recurring"] or {}).get("trial_period_days")
    return now + days * DAY if days else None


def check_payment_method(ctx: Ctx, payment_method: str | None, customer: str) -> None:
    if payment_method is None:
        return
    row = ctx.store.get(ctx.scope, "payment_method", payment_method)
    if row is None or row.load()["customer"] != customer:
        raise invalid(
            f"The customer does not have a payment method with the ID {payment_method}. The "
            "payment method must be attached to the customer.",
            param="default_payment_method",
        )
