"""The list of resource modules the emulator serves; later parts append theirs here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.resources import (
    accounts,
    application_fees,
    balance,
    charges,
    coupons,
    customers,
    discounts,
    disputes,
    events,
    invoice_items,
    invoice_payments,
    invoices,
    payment_intents,
    payment_methods,
    plans,
    prices,
    products,
    promotion_codes,
    refunds,
    setup_intents,
    subscription_items,
    subscriptions,
    tax_ids,
    tax_rates,
    test_clocks,
    webhook_endpoints,
)

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

MODULES = (
    accounts,
    customers,
    tax_ids,
    products,
    prices,
    plans,
    coupons,
    promotion_codes,
    tax_rates,
)

# Payments, billing and events, served by the same generic machinery.
PAYMENT_MODULES = (
    events,
    webhook_endpoints,
    payment_methods,
    payment_intents,
    setup_intents,
    charges,
    refunds,
    disputes,
    balance,
    application_fees,
    invoice_items,
    invoices,
    invoice_payments,
    subscriptions,
    subscription_items,
    test_clocks,
)


def install_resources(emulator: Emulator) -> None:
    """Register every resource definition and its routes."""
    emulator.registry.add(discounts.DISCOUNT)
    for module in (*MODULES, *PAYMENT_MODULES):
        module.register(emulator)
