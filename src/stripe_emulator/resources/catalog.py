"""The list of resource modules the emulator serves; later parts append theirs here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.resources import (
    accounts,
    coupons,
    customers,
    discounts,
    plans,
    prices,
    products,
    promotion_codes,
    tax_rates,
)

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

MODULES = (accounts, customers, products, prices, plans, coupons, promotion_codes, tax_rates)


def install_resources(emulator: Emulator) -> None:
    """Register every resource definition and its routes."""
    emulator.registry.add(discounts.DISCOUNT)
    for module in MODULES:
        module.register(emulator)
