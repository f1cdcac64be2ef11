"""Currencies and the fee model: Stripe's processing fee, dispute fee, and zero-decimal rules."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    from stripe_emulator.store import Store

ZERO_DECIMAL = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
THREE_DECIMAL = frozenset(("bhd", "jod", "kwd", "omr", "tnd"))
_META_KEY = "fee_model"


def exponent(currency: str) -> int:
    """Return how many minor-unit digits a currency has (0 for JPY, 3 for KWD, else 2)."""
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def minor_units(major: Decimal, currency: str) -> int:
    """Convert an amount in major units (1.50) to the currency's minor units, rounding half up."""
    scaled = major * (Decimal(10) ** exponent(currency))
    return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount: int, percent: Decimal | float | str) -> int:
    """Return `percent` % of a minor-unit amount, rounded half up to a whole minor unit."""
    value = Decimal(amount) * Decimal(str(percent)) / Decimal(100)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class FeeModel:
    """Stripe's pricing as the emulator charges it.

    Fixed amounts are given in minor units of a two-decimal currency (30 = $0.30) and converted
    by each currency's exponent, so JPY pays ¥0 fixed and KWD 0.300.
    """

    percent: str = "2.9"
    fixed: int = 30
    dispute_fee: int = 1500

    def _fixed_in(self, cents: int, currency: str) -> int:
        return minor_units(Decimal(cents) / Decimal(100), currency)

    def processing_fee(self, amount: int, currency: str) -> int:
        """Return the fee for a successful charge of `amount` minor units."""
        return percent_of(amount, self.percent) + self._fixed_in(self.fixed, currency)

    def dispute(self, currency: str) -> int:
        """Return the fee withheld when a dispute is opened."""
        return self._fixed_in(self.dispute_fee, currency)


def load_fee_model(store: Store) -> FeeModel:
    """Return the configured fee model (the default until changed)."""
    raw = store.meta_get(_META_KEY)
    if raw is None:
        return FeeModel()
    return FeeModel(**orjson.loads(raw))


def save_fee_model(store: Store, model: FeeModel) -> None:
    """Persist a fee model for the balance transactions created from now on."""
    Decimal(model.percent)  # rejects a malformed percentage before it is stored
    store.meta_set(_META_KEY, orjson.dumps(asdict(model)).decode())
