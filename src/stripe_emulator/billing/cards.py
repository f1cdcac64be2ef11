"""Stripe's test cards: the `pm_card_*` / `tok_*` tokens, card numbers, and how each behaves."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from stripe_emulator.errors import ApiError


@dataclass(frozen=True)
class Decline:
    """How a charge on a card fails: Stripe's error code, decline code and message."""

    code: str
    decline_code: str | None
    message: str
    param: str | None = None


GENERIC = Decline("card_declined", "generic_decline", "Your card was declined.")


@dataclass(frozen=True)
class TestCard:
    """One test card: what it looks like and what happens when it is used."""

    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"
    # Fails when the card is attached or set up (Stripe checks the card then).
    attach_decline: Decline | None = None
    # Fails when the card is charged.
    charge_decline: Decline | None = None
    # The charge succeeds, then the cardholder disputes it: (reason, status).
    dispute: tuple[str, str] | None = None


def _declined(last4: str, decline: Decline) -> TestCard:
    return TestCard("visa", last4, attach_decline=decline, charge_decline=decline)


TEST_CARDS: dict[str, TestCard] = {
    "visa": TestCard("visa", "4242"),
    "visa_debit": TestCard("visa", "5556", funding="debit"),
    "mastercard": TestCard("mastercard", "4444"),
    "mastercard_debit": TestCard("mastercard", "8210", funding="debit"),
    "mastercard_prepaid": TestCard("mastercard", "5100", funding="prepaid"),
    "amex": TestCard("amex", "8431"),
    "discover": TestCard("discover", "1117"),
    "diners": TestCard("diners", "0004"),
    "jcb": TestCard("jcb", "0505", country="JP"),
    "unionpay": TestCard("unionpay", "0005", country="CN"),
    "gb": TestCard("visa", "0000", country="GB"),
    "jp": TestCard("visa", "0003", country="JP"),
    # Funds are available at once instead of pending (the balance detail is not modelled).
    "bypassPending": TestCard("visa", "0077"),
    "chargeDeclined": _declined("0002", GENERIC),
    "visa_chargeDeclined": _declined("0002", GENERIC),
    "chargeDeclinedInsufficientFunds": _declined(
        "9995", Decline("card_declined", "insufficient_funds", "Your card has insufficient funds.")
    ),
    "chargeDeclinedLostCard": _declined(
        "9987", Decline("card_declined", "lost_card", "Your card was declined.")
    ),
    "chargeDeclinedStolenCard": _declined(
        "9979", Decline("card_declined", "stolen_card", "Your card was declined.")
    ),
    "chargeDeclinedFraudulent": _declined(
        "0019", Decline("card_declined", "fraudulent", "Your card was declined.")
    ),
    "chargeDeclinedExpiredCard": _declined(
        "0069", Decline("expired_card", "expired_card", "Your card has expired.", "exp_month")
    ),
    "chargeDeclinedIncorrectCvc": _declined(
        "0127",
        Decline("incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc"),
    ),
    "chargeDeclinedProcessingError": _declined(
        "0119",
        Decline(
            "processing_error",
            "processing_error",
            "An error occurred while processing your card. Try again in a little bit.",
        ),
    ),
    "chargeCustomerFail": TestCard("visa", "0341", charge_decline=GENERIC),
    "createDispute": TestCard("visa", "0259", dispute=("fraudulent", "needs_response")),
    "createDisputeProductNotReceived": TestCard(
        "visa", "2685", dispute=("product_not_received", "needs_response")
    ),
    "createDisputeInquiry": TestCard("visa", "1976", dispute=("general", "warning_needs_response")),
}

# Full test numbers (as sent in `card[number]`) → token name.
NUMBERS = {
    "4242424242424242": "visa",
    "4000056655665556": "visa_debit",
    "5555555555554444": "mastercard",
    "5200828282828210": "mastercard_debit",
    "5105105105105100": "mastercard_prepaid",
    "371449635398431": "amex",
    "378282246310005": "amex",
    "6011111111111117": "discover",
    "3056930009020004": "diners",
    "3566002020360505": "jcb",
    "6200000000000005": "unionpay",
    "4000000000000077": "bypassPending",
    "4000000000000002": "chargeDeclined",
    "4000000000009995": "chargeDeclinedInsufficientFunds",
    "4000000000009987": "chargeDeclinedLostCard",
    "4000000000009979": "chargeDeclinedStolenCard",
    "4100000000000019": "chargeDeclinedFraudulent",
    "4000000000000069": "chargeDeclinedExpiredCard",
    "4000000000000127": "chargeDeclinedIncorrectCvc",
    "4000000000000119": "chargeDeclinedProcessingError",
    "4000000000000341": "chargeCustomerFail",
    "4000000000000259": "createDispute",
    "4000000000002685": "createDisputeProductNotReceived",
    "4000000000001976": "createDisputeInquiry",
}


def token_card(token: str) -> TestCard | None:
    """Return the test card a `pm_card_*` or `tok_*` token names, if any."""
    for prefix in ("pm_card_", "tok_"):
        if token.startswith(prefix):
            return TEST_CARDS.get(token[len(prefix) :])
    return None


def number_card(number: str) -> TestCard | None:
    """Return the test card for a full card number, if it is one of Stripe's."""
    name = NUMBERS.get(number.replace(" ", ""))
    return TEST_CARDS[name] if name is not None else None


def card_hash(card: TestCard, fingerprint: str, exp_month: int = 12, exp_year: int = 2034) -> Any:
    """Return the `card` hash of a card payment method."""
    return {
        "brand": card.brand,
        "checks": {
            "address_line1_check": None,
            "address_postal_code_check": None,
            "cvc_check": None,
        },
        "country": card.country,
        "display_brand": card.brand,
        "exp_month": exp_month,
        "exp_year": exp_year,
        "fingerprint": fingerprint,
        "funding": card.funding,
        "generated_from": None,
        "last4": card.last4,
        "networks": {"available": [card.brand], "preferred": None},
        "regulated_status": "unregulated",
        "three_d_secure_usage": {"supported": True},
        "wallet": None,
    }


class CardError(ApiError):
    """A 402 `card_error` that also names the charge, intent and payment method involved."""

    def __init__(self, decline: Decline, **related: Any) -> None:
        super().__init__(402, decline.message, type_="card_error", code=decline.code)
        self.param = decline.param
        self.decline_code = decline.decline_code
        self.related = related

    def body(self, request_log_url: str | None = None) -> dict[str, Any]:
        """Return the error envelope with `decline_code` and the related objects."""
        envelope = super().body(request_log_url)
        error = envelope["error"]
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        for key, value in self.related.items():
            if value is not None:
                error[key] = value
        envelope["error"] = dict(sorted(error.items()))
        return envelope
