"""Plans as revlens.toml declares them: what each costs, its trial, and what it unlocks.

Plans are settings: `revlens.config` reads them through `parse_billing`, so this module imports
nothing of revlens beyond the standard library.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FEATURES = ("accounts", "history_days", "csv_export", "api")
PLAN_KEYS = (
    "name",
    "price",
    "amount",
    "currency",
    "interval",
    "trial_days",
    "free",
    "unlocks",
)
BILLING_KEYS = ("grace_days", "plans")
INTERVALS = ("day", "week", "month", "year")
DEFAULT_GRACE_DAYS = 7
FREE_TIER_KEY = "free"


class PlanError(ValueError):
    """A plan in revlens.toml that cannot be used; `where` names it (billing.plans.KEY...)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class Unlocks:
    """What a plan gives; None means unlimited."""

    accounts: int | None = None
    history_days: int | None = None
    csv_export: bool = True
    api: bool = True


# Without a free plan in revlens.toml, an account that pays nothing gets this.
DEFAULT_FREE_UNLOCKS = Unlocks(accounts=1, history_days=90, csv_export=False, api=False)
# Without any plan at all, billing is off and nothing is gated.
EVERYTHING = Unlocks()


@dataclass(frozen=True)
class Plan:
    """One plan: a free tier, or a recurring Stripe price (given, or made by `billing setup`)."""

    key: str
    name: str
    unlocks: Unlocks
    free: bool = False
    price: str | None = None  # an existing price_…; otherwise `billing setup` creates one
    amount: int | None = None  # minor units, for `billing setup`
    currency: str | None = None
    interval: str = "month"
    trial_days: int = 0

    @property
    def lookup_key(self) -> str:
        """The price's lookup_key in Stripe, by which `billing setup` finds what it made."""
        return f"revlens_plan_{self.key}"


@dataclass(frozen=True)
class BillingConfig:
    """The [billing] section: plans in display order and the grace period of past_due."""

    plans: tuple[Plan, ...] = ()
    grace_days: int = DEFAULT_GRACE_DAYS

    @property
    def enabled(self) -> bool:
        """Whether revlens charges at all (some plan is declared)."""
        return bool(self.plans)

    @property
    def paid_plans(self) -> tuple[Plan, ...]:
        """The plans with a Stripe price."""
        return tuple(plan for plan in self.plans if not plan.free)

    @property
    def free_plan(self) -> Plan:
        """The tier of accounts that pay nothing (or whose subscription lapsed)."""
        for plan in self.plans:
            if plan.free:
                return plan
        unlocks = DEFAULT_FREE_UNLOCKS if self.enabled else EVERYTHING
        return Plan(key=FREE_TIER_KEY, name="Free", unlocks=unlocks, free=True)

    def plan(self, key: str) -> Plan | None:
        """Return the plan with this key."""
        return next((plan for plan in self.plans if plan.key == key), None)


def _hint(name: str, known: tuple[str, ...]) -> str:
    close = [k for k in known if k.startswith(name)] or difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]}?)" if close else f" (known: {', '.join(known)})"


def _int(where: str, value: object, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PlanError(where, f"expected a whole number ≥ {minimum}, got {value!r}")
    return value


def _bool(where: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise PlanError(where, f"expected true or false, got {value!r}")
    return value


def parse_unlocks(where: str, raw: object) -> Unlocks:
    """Return what a plan unlocks; an unknown feature is an error that names it."""
    if not isinstance(raw, Mapping):
        raise PlanError(where, "expected a table such as { accounts = 3, csv_export = true }")
    for name in raw:
        if name not in FEATURES:
            raise PlanError(f"{where}.{name}", "unknown feature" + _hint(str(name), FEATURES))
    accounts = raw.get("accounts")
    history = raw.get("history_days")
    return Unlocks(
        accounts=None if accounts is None else _int(f"{where}.accounts", accounts, minimum=1),
        history_days=None if history is None else _int(f"{where}.history_days", history, minimum=1),
        csv_export=_bool(f"{where}.csv_export", raw.get("csv_export", False)),
        api=_bool(f"{where}.api", raw.get("api", False)),
    )


def parse_plan(key: str, raw: object) -> Plan:
    """Return one plan of [billing.plans.KEY], or raise PlanError naming what is wrong."""
    where = f"billing.plans.{key}"
    if not key.replace("_", "").replace("-", "").isalnum() or len(key) > 40:
        raise PlanError(where, "a plan key has letters, digits, - and _ only (40 at most)")
    if not isinstance(raw, Mapping):
        raise PlanError(where, "expected a table")
    for name in raw:
        if name not in PLAN_KEYS:
            raise PlanError(f"{where}.{name}", "unknown plan setting" + _hint(str(name), PLAN_KEYS))
    name = raw.get("name", key)
    if not isinstance(name, str) or not name.strip():
        raise PlanError(f"{where}.name", "expected a non-empty string")
    unlocks = parse_unlocks(f"{where}.unlocks", raw.get("unlocks", {}))
    free = _bool(f"{where}.free", raw.get("free", False))
    trial = _int(f"{where}.trial_days", raw.get("trial_days", 0), minimum=0)
    if free:
        extra = [k for k in ("price", "amount", "currency", "trial_days") if k in raw]
        if extra:
            raise PlanError(f"{where}.{extra[0]}", "a free plan has no price or trial")
        return Plan(key=key, name=name.strip(), unlocks=unlocks, free=True)
    price = raw.get("price")
    amount = raw.get("amount")
    if price is None and amount is None:
        raise PlanError(
            where,
            "has no price: set `price` to an existing price_… or `amount`, `currency` and "
            "`interval` for `revlens billing setup` to create (or `free = true`)",
        )
    if price is not None and (not isinstance(price, str) or not price.startswith("price_")):
        raise PlanError(f"{where}.price", f"expected a Stripe price id (price_…), got {price!r}")
    currency = raw.get("currency")
    interval = raw.get("interval", "month")
    if interval not in INTERVALS:
        raise PlanError(f"{where}.interval", f"expected one of {', '.join(INTERVALS)}")
    if amount is not None:
        amount = _int(f"{where}.amount", amount, minimum=1)
        if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
            raise PlanError(f"{where}.currency", "expected a three-letter ISO code such as usd")
        currency = currency.lower()
    return Plan(
        key=key,
        name=name.strip(),
        unlocks=unlocks,
        price=price,
        amount=amount,
        currency=currency if isinstance(currency, str) else None,
        interval=str(interval),
        trial_days=trial,
    )


def parse_billing(raw: object) -> BillingConfig:
    """Return the [billing] section of revlens.toml, or raise PlanError naming what is wrong."""
    if not isinstance(raw, Mapping):
        raise PlanError("billing", "expected a table")
    for name in raw:
        if name not in BILLING_KEYS:
            raise PlanError(f"billing.{name}", "unknown setting" + _hint(str(name), BILLING_KEYS))
    grace = _int("billing.grace_days", raw.get("grace_days", DEFAULT_GRACE_DAYS), minimum=0)
    plans_raw: Any = raw.get("plans", {})
    if not isinstance(plans_raw, Mapping):
        raise PlanError("billing.plans", "expected tables [billing.plans.KEY]")
    plans = tuple(parse_plan(str(key), value) for key, value in plans_raw.items())
    if sum(plan.free for plan in plans) > 1:
        raise PlanError("billing.plans", "at most one plan may be free")
    if plans and not any(not plan.free for plan in plans):
        raise PlanError("billing.plans", "declares no paid plan")
    return BillingConfig(plans=plans, grace_days=grace)
