"""What each generated account sells: products, prices and coupons, in its own currency."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]

# Accounts cycle through these countries; JP makes a zero-decimal (jpy) account.
COUNTRIES = (("US", "usd"), ("GB", "gbp"), ("JP", "jpy"), ("DE", "eur"))
ADDONS = 12


@dataclass(frozen=True)
class PriceSpec:
    """A price to create: its key in the plan mix and its `POST /v1/prices` parameters."""

    key: str
    params: JsonObject


def _recurring(interval: str, count: int = 1, usage: str = "licensed") -> JsonObject:
    return {"interval": interval, "interval_count": count, "usage_type": usage}


def price_specs() -> list[PriceSpec]:
    """Return the plan mix of an account (minor units: 2900 jpy is ¥2,900, 2900 usd $29)."""
    specs = [
        PriceSpec("starter", {"unit_amount": 2900, "recurring": _recurring("month")}),
        PriceSpec("pro", {"unit_amount": 9900, "recurring": _recurring("month")}),
        PriceSpec("pro_quarterly", {"unit_amount": 26700, "recurring": _recurring("month", 3)}),
        PriceSpec("pro_annual", {"unit_amount": 99000, "recurring": _recurring("year")}),
        PriceSpec("business_annual", {"unit_amount": 240000, "recurring": _recurring("year")}),
        PriceSpec("seat", {"unit_amount": 1500, "recurring": _recurring("month")}),
        PriceSpec("weekly", {"unit_amount": 700, "recurring": _recurring("week")}),
        PriceSpec(
            "volume",
            {
                "billing_scheme": "tiered",
                "tiers_mode": "volume",
                "tiers": [
                    {"up_to": 10, "unit_amount": 1000},
                    {"up_to": 50, "unit_amount": 800},
                    {"up_to": "inf", "unit_amount": 600},
                ],
                "recurring": _recurring("month"),
            },
        ),
        PriceSpec(
            "graduated",
            {
                "billing_scheme": "tiered",
                "tiers_mode": "graduated",
                "tiers": [
                    {"up_to": 5, "unit_amount": 2000, "flat_amount": 500},
                    {"up_to": "inf", "unit_amount": 1200},
                ],
                "recurring": _recurring("month"),
            },
        ),
        PriceSpec("metered", {"unit_amount": 10, "recurring": _recurring("month", 1, "metered")}),
    ]
    specs.extend(
        PriceSpec(f"addon{n}", {"unit_amount": (300 + 100 * n), "recurring": _recurring("month")})
        for n in range(ADDONS)
    )
    return specs


COUPONS: dict[str, JsonObject] = {
    "once": {"percent_off": 50, "duration": "once"},
    "repeating": {"percent_off": 20, "duration": "repeating", "duration_in_months": 3},
    "forever": {"percent_off": 10, "duration": "forever"},
    "forever_amount": {"amount_off": 500, "duration": "forever"},
}


@dataclass
class AccountCatalog:
    """The ids the emulator gave an account's prices and coupons, and their definitions."""

    account: str
    currency: str
    prices: dict[str, str] = field(default_factory=dict)
    coupons: dict[str, str] = field(default_factory=dict)
    price_json: dict[str, JsonObject] = field(default_factory=dict)
    coupon_json: dict[str, JsonObject] = field(default_factory=dict)
