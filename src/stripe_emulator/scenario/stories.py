"""Customer stories: what happens to each generated customer, and when (pure, seeded).

A story is a list of steps at strictly increasing instants. The same seed, account and
customer index always give the same story, whatever else the scenario contains.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

DAY = 86400
MONTH = 365.25 / 12 * DAY
# (story, weight): the mix of a generated customer base.
MIX: tuple[tuple[str, int], ...] = (
    ("steady", 26),
    ("trial_converts", 8),
    ("trial_pauses", 3),
    ("trial_lapses", 3),
    ("upgrade", 9),
    ("downgrade", 5),
    ("seats", 8),
    ("tiered", 5),
    ("cancel_now", 6),
    ("cancel_at_period_end", 6),
    ("reactivate", 4),
    ("fail_recover", 4),
    ("fail_churn", 3),
    ("refund", 2),
    ("dispute", 1),
    ("metered", 2),
    ("weekly", 2),
    ("enterprise", 1),
)
PLANS = ("starter", "pro", "pro_quarterly", "pro_annual", "business_annual")
MONTHLY = ("starter", "pro")
COUPON_ODDS = (("once", 5), ("repeating", 5), ("forever", 3), ("forever_amount", 2), (None, 85))


@dataclass(frozen=True)
class Step:
    """One thing a customer does at an instant."""

    at: int
    kind: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Story:
    """A customer's story: its name and its steps."""

    name: str
    steps: list[Step]


def _pick(rng: random.Random, weighted: tuple[tuple[Any, int], ...]) -> Any:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def signup_time(
    rng: random.Random, start: int, end: int, bursts: list[int], growth: float = 0.0
) -> int:
    """Return when a customer signs up: spread out, or on one of the account's burst days.

    With `growth` (a monthly rate), signups grow by that much every month (their density is
    exponential in time); without, they are spread evenly.
    """
    if bursts and rng.random() < 0.15:
        return rng.choice(bursts) + rng.randrange(DAY)
    span = max(end - start - 2 * DAY, 1)
    if growth <= 0:
        return start + rng.randrange(span)
    rate = math.log1p(growth) / MONTH  # per second
    # The inverse of the distribution function of a density growing as e^(rate * t) on [0, span).
    offset = math.log1p(rng.random() * math.expm1(rate * span)) / rate
    return start + min(int(offset), span - 1)


def tell(rng: random.Random, *, signup: int, end: int, force: str | None = None) -> Story:
    """Return a customer's story starting at `signup`; `force` picks the story."""
    name = force or _pick(rng, MIX)
    base: dict[str, Any] = {
        "plan": rng.choice(PLANS),
        "quantity": 1,
        "coupon": _pick(rng, COUPON_ODDS),
        "card": "pm_card_visa",
    }
    return Story(name, TELLERS[name](rng, name, signup, end, base))


Teller = Callable[[random.Random, str, int, int, dict[str, Any]], list[Step]]


def _plain(
    rng: random.Random, name: str, signup: int, end: int, base: dict[str, Any]
) -> list[Step]:
    if name == "dispute":
        base["card"] = "pm_card_createDispute"
    elif name == "metered":
        base.update(plan="starter", metered=True)
    elif name == "weekly":
        base.update(plan="weekly", coupon=None)
    elif name == "enterprise":
        # More than ten items, so invoices with more than ten lines.
        base.update(plan="pro", addons=True, coupon=None)
    steps = [Step(signup, "signup", base)]
    if name == "refund" and signup + 2 * DAY < end:
        steps.append(Step(signup + 2 * DAY, "refund"))
    return steps


def _trial(
    rng: random.Random, name: str, signup: int, end: int, base: dict[str, Any]
) -> list[Step]:
    base.update(plan=rng.choice(MONTHLY), trial_days=rng.choice((7, 14, 30)))
    if name != "trial_converts":
        base["card"] = None
        base["pause_on_missing"] = name == "trial_pauses"
    return [Step(signup, "signup", base)]


def _change_plan(
    rng: random.Random, name: str, signup: int, end: int, base: dict[str, Any]
) -> list[Step]:
    low, high = "starter", "pro"
    base["plan"] = low if name == "upgrade" else high
    steps = [Step(signup, "signup", base)]
    later = _later(rng, signup, end)
    if later is not None:
        steps.append(Step(later, "change_price", {"plan": high if name == "upgrade" else low}))
    return steps


def _quantities(
    rng: random.Random, name: str, signup: int, end: int, base: dict[str, Any]
) -> list[Step]:
    base["plan"] = "seat" if name == "seats" else rng.choice(("volume", "graduated"))
    base["quantity"] = rng.randint(1, 30)
    steps = [Step(signup, "signup", base)]
    at: int | None = signup
    for _ in range(rng.randint(1, 3)):
        at = _later(rng, at or signup, end)
        if at is None:
            break
        steps.append(Step(at, "set_quantity", {"quantity": rng.randint(1, 60)}))
    return steps


def _cancel(
    rng: random.Random, name: str, signup: int, end: int, base: dict[str, Any]
) -> list[Step]:
    steps = [Step(signup, "signup", base)]
    later = _later(rng, signup, end)
    if later is None:
        return steps
    steps.append(
        Step(later, "cancel_at_period_end" if name == "cancel_at_period_end" else "cancel_now")
    )
    back = _later(rng, later, end)
    if name == "reactivate" and back is not None:
        again = {"plan": rng.choice(PLANS), "quantity": 1, "coupon": None, "card": None}
        steps.append(Step(back, "signup", again))
    return steps


def _failing(
    rng: random.Random, name: str, signup: int, end: int, base: dict[str, Any]
) -> list[Step]:
    base["plan"] = rng.choice(MONTHLY)
    steps = [Step(signup, "signup", base)]
    renewal = _renewal_index(rng, signup, end)
    if renewal is not None:
        args = {"renewal": renewal, "recover": name == "fail_recover"}
        steps.append(Step(signup + 1, "card_fails", args))
    return steps


TELLERS: dict[str, Teller] = {
    "steady": _plain,
    "refund": _plain,
    "dispute": _plain,
    "metered": _plain,
    "weekly": _plain,
    "enterprise": _plain,
    "trial_converts": _trial,
    "trial_pauses": _trial,
    "trial_lapses": _trial,
    "upgrade": _change_plan,
    "downgrade": _change_plan,
    "seats": _quantities,
    "tiered": _quantities,
    "cancel_now": _cancel,
    "cancel_at_period_end": _cancel,
    "reactivate": _cancel,
    "fail_recover": _failing,
    "fail_churn": _failing,
}


def _later(rng: random.Random, after: int, end: int) -> int | None:
    """Return an instant at least a day after `after` and a day before `end`, if any."""
    low, high = after + DAY, end - DAY
    if high <= low:
        return None
    return low + rng.randrange(high - low)


def _renewal_index(rng: random.Random, signup: int, end: int) -> int | None:
    """Return which monthly renewal (1-based) starts failing, leaving 20 days to play out."""
    months = (end - signup) // (31 * DAY)
    if months < 2:
        return None
    return rng.randint(1, months - 1)
