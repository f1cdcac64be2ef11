"""Collecting a payment method: the seam where Stripe Elements or Checkout would plug in.

The subscribe flow asks a `PaymentCollector` for a page (template and context) and, when that
page is submitted, for the payment method it collected. Everything after that (customer,
subscription, state) is the collector-independent service. An Elements collector would render
the card element and post back the `pm_…` it creates; a Checkout collector (mode `setup`)
would redirect and read the payment method from the session on return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


class PaymentRefused(ValueError):
    """The submitted page carries no usable payment method; the message says why."""


@dataclass(frozen=True)
class PaymentPage:
    """What the web layer renders to collect a payment method."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


class PaymentCollector(Protocol):
    """Renders a page that collects a payment method and reads the result of its submission."""

    def page(self) -> PaymentPage:
        """Return the page to render inside the subscribe form."""

    def payment_method(self, form: Mapping[str, str]) -> str:
        """Return the payment method (`pm_…`) the submitted page collected, or raise."""


# The emulator's (and Stripe test mode's) payment methods, standing in for card entry.
TEST_CARDS: tuple[tuple[str, str], ...] = (
    ("pm_card_visa", "Visa ending 4242 (succeeds)"),
    ("pm_card_mastercard", "Mastercard ending 4444 (succeeds)"),
    ("pm_card_chargeCustomerFail", "Visa ending 0341 (attaches, later charges fail)"),
    ("pm_card_chargeDeclined", "Visa ending 0002 (declined)"),
)


@dataclass(frozen=True)
class TestCardCollector:
    """Our own page: pick one of the test payment methods (test mode only)."""

    cards: tuple[tuple[str, str], ...] = TEST_CARDS

    def page(self) -> PaymentPage:
        """Return the card picker."""
        return PaymentPage("billing/test_cards.html", {"cards": self.cards})

    def payment_method(self, form: Mapping[str, str]) -> str:
        """Return the test payment method picked; refuse anything else."""
        chosen = (form.get("payment_method") or "").strip()
        if not chosen:
            raise PaymentRefused("Choose a card.")
        if chosen not in {card for card, _ in self.cards}:
            raise PaymentRefused(f"payment_method: {chosen!r} is not one of the test cards.")
        return chosen
