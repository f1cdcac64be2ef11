"""Full analytics recompute of 50,000 synthetic customers over 3 years; prints one JSON line.

Run: .venv/bin/python bench/analytics_recompute.py [--customers N] [--seed S]
Measures (1) building every customer's contribution (MRR step functions, daily values, explained
movements, trials) into the ledger and (2) aggregating a 3-year daily series from it.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from dataclasses import replace
from datetime import date
from fractions import Fraction

from revlens.analytics.days import instant_of
from revlens.analytics.ledger import Ledger, contribution
from revlens.analytics.model import (
    Coupon,
    CustomerHistory,
    Discount,
    Duration,
    Interval,
    Item,
    Price,
    Span,
    Status,
    SubscriptionTimeline,
    Trial,
)
from revlens.analytics.presets import PRESETS
from revlens.analytics.series import compute_series

START = date(2022, 1, 1)
END = date(2024, 12, 31)
DAY = 86_400

PRICES = [
    Price("price_basic_m", "usd", Fraction(1_900)),
    Price("price_pro_m", "usd", Fraction(4_900)),
    Price("price_team_m", "usd", Fraction(1_200)),
    Price("price_pro_y", "usd", Fraction(49_000), Interval.YEAR),
    Price("price_quarter", "usd", Fraction(12_000), Interval.MONTH, 3),
]
COUPONS = [
    Coupon("co_forever", Duration.FOREVER, percent_off=Fraction(20)),
    Coupon("co_three", Duration.REPEATING, percent_off=Fraction(50), duration_in_months=3),
    Coupon("co_once", Duration.ONCE, amount_off=1_000, currency="usd"),
]


def synthetic_subscription(rng: random.Random, customer: str, n: int) -> SubscriptionTimeline:
    """Return a subscription with a trial, plan and seat changes, past-due spells, maybe an end."""
    first = instant_of(START)
    horizon = instant_of(END)
    at = rng.randint(first, horizon - 30 * DAY)
    sub_id = f"sub_{customer}_{n}"
    spans: list[Span] = []
    plan = rng.choice(PRICES)
    quantity = rng.randint(1, 10) if plan.id == "price_team_m" else 1
    discounts: tuple[Discount, ...] = ()
    if rng.random() < 0.2:
        coupon = rng.choice(COUPONS)
        end = at + 90 * DAY if coupon.duration is Duration.REPEATING else None
        discounts = (Discount(f"di_{sub_id}", coupon, at, end),)
    trial = None
    status = Status.TRIALING if rng.random() < 0.3 else Status.ACTIVE
    event = 0
    while at < horizon:
        item = Item(f"si_{sub_id}", plan, quantity)
        since = at if status is Status.PAST_DUE else None
        spans.append(Span(at, None, status, (item,), discounts, since, (f"evt_{sub_id}_{event}",)))
        event += 1
        step = rng.randint(20, 400) * DAY
        following = at + step
        if status is Status.TRIALING:
            following = at + 14 * DAY
            converted = rng.random() < 0.6
            trial = Trial(following, converted)
            status = Status.ACTIVE if converted else Status.CANCELED
        elif status is Status.PAST_DUE:
            following = at + rng.randint(2, 40) * DAY
            status = Status.ACTIVE if rng.random() < 0.7 else Status.CANCELED
        else:
            roll = rng.random()
            if roll < 0.15:
                status = Status.CANCELED
            elif roll < 0.3:
                status = Status.PAST_DUE
            elif roll < 0.65:
                quantity = max(1, quantity + rng.choice((-2, -1, 1, 2, 3)))
            else:
                plan = rng.choice(PRICES)
        if following >= horizon:
            break
        spans[-1] = replace(spans[-1], end=following)
        at = following
        if status is Status.CANCELED:
            item = Item(f"si_{sub_id}", plan, quantity)
            spans.append(Span(at, None, status, (item,), discounts, None, (f"evt_{sub_id}_x",)))
            return SubscriptionTimeline(
                sub_id, customer, "usd", tuple(spans), ended_at=at, trial=trial
            )
    return SubscriptionTimeline(sub_id, customer, "usd", tuple(spans), trial=trial)


def synthetic_customers(count: int, seed: int) -> list[CustomerHistory]:
    """Return `count` customers with one to three subscriptions each."""
    rng = random.Random(seed)
    customers = []
    for n in range(count):
        customer_id = f"cus_{n}"
        subscriptions = tuple(
            synthetic_subscription(rng, customer_id, k)
            for k in range(rng.choices((1, 2, 3), weights=(75, 20, 5))[0])
        )
        customers.append(CustomerHistory(customer_id, subscriptions))
    return customers


def main() -> None:
    """Build the data, time the recompute and the aggregation, print one JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    customers = synthetic_customers(args.customers, args.seed)
    settings = PRESETS["standard"]

    began = time.perf_counter()
    ledger = Ledger(settings)
    for customer in customers:
        ledger.put(contribution(customer, settings))
    recompute = time.perf_counter() - began

    began = time.perf_counter()
    series = compute_series(
        ledger, currency="usd", start=START.toordinal() - 1, end=END.toordinal(), interval="day"
    )
    aggregate = time.perf_counter() - began

    began = time.perf_counter()
    monthly = compute_series(
        ledger, currency="usd", start=START.toordinal() - 1, end=END.toordinal(), interval="month"
    )
    aggregate_monthly = time.perf_counter() - began

    began = time.perf_counter()
    ledger.put(contribution(customers[0], settings))
    one_customer = time.perf_counter() - began

    movements = sum(len(c.movements) for c in ledger.contributions())
    print(
        json.dumps(
            {
                "bench": "analytics_recompute",
                "customers": len(customers),
                "subscriptions": sum(len(c.subscriptions) for c in customers),
                "spans": sum(len(s.spans) for c in customers for s in c.subscriptions),
                "movements": movements,
                "days": len(series.rows),
                "full_recompute_s": round(recompute, 3),
                "daily_series_3y_s": round(aggregate, 3),
                "monthly_series_3y_s": round(aggregate_monthly, 3),
                "one_customer_recompute_ms": round(one_customer * 1000, 3),
                "final_mrr": series.rows[-1].mrr,
                "final_mrr_monthly_matches": monthly.rows[-1].mrr == series.rows[-1].mrr,
            }
        )
    )


if __name__ == "__main__":
    main()
