"""Reference MRR from a scenario's ground truth, written from metrics.md §1-§3 (preset
`standard`), independent of `revlens.analytics`.

MRR of a customer at the end of a UTC day is read at the day's last second: each subscription
is in the state of its last timeline entry at or before that instant. Only `active` and
`past_due` subscriptions count; metered prices and `once` discounts never change MRR; a
`repeating` discount applies while the instant is before its `end` (preset `stripe`: only
`forever` discounts count). Arithmetic is exact
(`Fraction`); each customer's total is rounded once, half away from zero.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fractions import Fraction
from typing import Any

JsonObject = dict[str, Any]
DAY = 86400
COUNTING = ("active", "past_due")
# The coupon durations that reduce MRR, per preset the ground truth can check (metrics.md §5).
DURATIONS = {"standard": frozenset({"forever", "repeating"}), "stripe": frozenset({"forever"})}
# Months per interval unit (metrics.md §2: F = 365/12 for day, 52/12 for week).
PER_MONTH = {
    "day": Fraction(365, 12),
    "week": Fraction(52, 12),
    "month": Fraction(1),
    "year": Fraction(1, 12),
}


def _amount(value: Any) -> Fraction:
    return Fraction(str(value)) if value is not None else Fraction(0)


def period_amount(price: Mapping[str, Any], quantity: int) -> Fraction:
    """Return what one billing period of `quantity` costs under `price` (exact)."""
    if price.get("usage_type") == "metered" or price.get("type") != "recurring":
        return Fraction(0)
    if price.get("billing_scheme") == "tiered":
        tiers = price["tiers"]
        if price["tiers_mode"] == "volume":
            for tier in tiers:
                if tier["up_to"] is None or quantity <= tier["up_to"]:
                    return _amount(tier["unit_amount_decimal"]) * quantity + _amount(
                        tier["flat_amount_decimal"]
                    )
            return Fraction(0)
        total, below = Fraction(0), 0
        for tier in tiers:
            if quantity <= below:
                break
            top = quantity if tier["up_to"] is None else min(quantity, tier["up_to"])
            total += _amount(tier["unit_amount_decimal"]) * (top - below)
            total += _amount(tier["flat_amount_decimal"])
            below = top
        return total
    units = quantity
    transform = price.get("transform_quantity")
    if transform:
        units, remainder = divmod(quantity, transform["divide_by"])
        units += 1 if remainder and transform["round"] == "up" else 0
    return _amount(price["unit_amount_decimal"]) * units


def monthly(amount: Fraction, price: Mapping[str, Any]) -> Fraction:
    """Normalise a per-period amount of `price`'s interval to a month."""
    return amount * PER_MONTH[price["interval"]] / price["interval_count"]


def state_at(timeline: list[JsonObject], instant: int) -> JsonObject | None:
    """Return the timeline entry in force at `instant` (None before the subscription)."""
    found = None
    for entry in timeline:
        if entry["at"] > instant:
            break
        found = entry
    return found


def subscription_mrr(
    state: JsonObject,
    currency: str,
    prices: Mapping[str, JsonObject],
    coupons: Mapping[str, JsonObject],
    instant: int,
    *,
    durations: frozenset[str] = DURATIONS["standard"],
) -> Fraction:
    """Return one subscription's exact MRR in the given state at `instant`."""
    if state["status"] not in COUNTING:
        return Fraction(0)
    total = Fraction(0)
    basis = None
    for item in state["items"]:
        price = prices[item["price"]]
        if price.get("usage_type") == "metered":
            continue
        basis = basis or price
        total += monthly(period_amount(price, item["quantity"]), price)
    for discount in state["discounts"]:
        coupon = coupons[discount["coupon"]]
        if coupon["duration"] not in durations:
            continue
        if coupon["duration"] == "repeating" and not instant < discount["end"]:
            continue
        if instant < discount["start"]:
            continue
        if coupon.get("percent_off") is not None:
            total *= 1 - Fraction(str(coupon["percent_off"])) / 100
        elif coupon.get("currency") == currency and basis is not None:
            total -= monthly(Fraction(coupon["amount_off"]), basis)
        total = max(total, Fraction(0))
    return total


def round_half_away(value: Fraction) -> int:
    """Round to an integer, halves away from zero."""
    sign = -1 if value < 0 else 1
    whole, rest = divmod(abs(value), 1)
    return sign * int(whole + (1 if rest >= Fraction(1, 2) else 0))


def days(truth: JsonObject) -> Iterator[int]:
    """Yield the start (00:00 UTC) of every day of the scenario."""
    day = truth["start"] // DAY * DAY
    while day < truth["end"]:
        yield day
        day += DAY


def customer_mrr(truth: JsonObject, preset: str = "standard") -> dict[str, dict[int, int]]:
    """Return every customer's MRR (minor units of its account currency) at each day's end."""
    durations = DURATIONS[preset]
    result: dict[str, dict[int, int]] = {}
    for account in truth["accounts"]:
        prices, coupons = account["prices"], account["coupons"]
        for customer in account["customers"]:
            series: dict[int, int] = {}
            for day in days(truth):
                instant = day + DAY - 1
                exact = Fraction(0)
                for sub in customer["subscriptions"]:
                    state = state_at(sub["timeline"], instant)
                    if state is not None:
                        exact += subscription_mrr(
                            state, sub["currency"], prices, coupons, instant, durations=durations
                        )
                series[day] = round_half_away(exact)
            result[customer["id"]] = series
    return result
