"""What a price charges for a quantity over one full period: per unit, tiered, or metered."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

JsonObject = dict[str, Any]


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _units(price: JsonObject, quantity: int) -> int:
    transform = price.get("transform_quantity")
    if not transform:
        return quantity
    divided, remainder = divmod(quantity, int(transform["divide_by"]))
    return divided + (1 if remainder and transform["round"] == "up" else 0)


def _tiered(tiers: list[JsonObject], mode: str, quantity: int) -> Decimal:
    if mode == "volume":
        for tier in tiers:
            if tier["up_to"] is None or quantity <= int(tier["up_to"]):
                unit = _decimal(tier.get("unit_amount_decimal") or tier.get("unit_amount"))
                flat = _decimal(tier.get("flat_amount_decimal") or tier.get("flat_amount"))
                return unit * quantity + flat
        return Decimal(0)
    total, below = Decimal(0), 0
    for tier in tiers:
        if quantity <= below:
            break
        top = quantity if tier["up_to"] is None else min(quantity, int(tier["up_to"]))
        unit = _decimal(tier.get("unit_amount_decimal") or tier.get("unit_amount"))
        flat = _decimal(tier.get("flat_amount_decimal") or tier.get("flat_amount"))
        total += unit * (top - below) + flat
        below = top
    return total


def period_amount(price: JsonObject, quantity: int) -> int:
    """Return the amount for `quantity` over a full period (metered prices bill usage: 0 here)."""
    recurring = price.get("recurring") or {}
    if recurring.get("usage_type") == "metered":
        return 0
    if price.get("billing_scheme") == "tiered" and price.get("tiers"):
        exact = _tiered(price["tiers"], price.get("tiers_mode") or "volume", quantity)
    else:
        unit = price.get("unit_amount_decimal") or price.get("unit_amount")
        exact = _decimal(unit) * _units(price, quantity)
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
