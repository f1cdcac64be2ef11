"""What one subscription item bills per billing period, and per month."""

from __future__ import annotations

from fractions import Fraction

from revlens.analytics.model import BillingScheme, Price, Tier, TiersMode, UsageType
from revlens.analytics.money import monthly_factor

_ZERO = Fraction(0)


def billed_quantity(price: Price, quantity: int) -> int:
    """Return the quantity after `transform_quantity` (divide, then round up or down)."""
    if not price.transform_divide_by:
        return quantity
    whole, remainder = divmod(quantity, price.transform_divide_by)
    return whole + 1 if remainder and price.transform_round_up else whole


def _volume(tiers: tuple[Tier, ...], quantity: int) -> Fraction:
    for tier in tiers:
        if tier.up_to is None or quantity <= tier.up_to:
            return tier.unit_amount * quantity + tier.flat_amount
    return _ZERO  # no tier holds the quantity: Stripe rejects such prices, so nothing is billed


def _graduated(tiers: tuple[Tier, ...], quantity: int) -> Fraction:
    total = _ZERO
    lower = 0
    for index, tier in enumerate(tiers):
        # The first tier is always reached, so an `up_to: 0` flat-fee tier bills at quantity 0.
        if index and quantity <= lower:
            break
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        total += tier.unit_amount * max(upper - lower, 0) + tier.flat_amount
        if tier.up_to is None:
            break
        lower = tier.up_to
    return total


def period_amount(price: Price, quantity: int) -> Fraction:
    """Return the item amount per billing period before discounts (0 for non-MRR prices)."""
    if price.interval is None or price.usage_type is UsageType.METERED:
        return _ZERO
    billed = billed_quantity(price, quantity)
    if price.billing_scheme is BillingScheme.PER_UNIT:
        return price.unit_amount * billed
    if price.tiers_mode is TiersMode.GRADUATED:
        return _graduated(price.tiers, billed)
    return _volume(price.tiers, billed)


# Prices are few and immutable while items are many: the exact arithmetic is done once per pair.
# Keyed by identity (the catalog parses each price once): hashing a Price hashes its Fractions,
# which cost more than the lookup saved. Each entry holds its price, so no id is reused meanwhile.
_MONTHLY: dict[int, tuple[Price, dict[int, Fraction]]] = {}
_MONTHLY_PRICES = 4_096


def monthly_amount(price: Price, quantity: int) -> Fraction:
    """Return the item amount normalised to a month, before discounts."""
    entry = _MONTHLY.get(id(price))
    if entry is None or entry[0] is not price:
        if len(_MONTHLY) >= _MONTHLY_PRICES:
            _MONTHLY.clear()
        entry = _MONTHLY[id(price)] = (price, {})
    amounts = entry[1]
    amount = amounts.get(quantity)
    if amount is None:
        amount = amounts[quantity] = _monthly_amount(price, quantity)
    return amount


def _monthly_amount(price: Price, quantity: int) -> Fraction:
    if price.interval is None:
        return _ZERO
    return period_amount(price, quantity) * monthly_factor(price.interval, price.interval_count)
