"""A mirror of 50,000 customers over 3 years, written straight into the database (bench setup).

The synthetic histories of analytics_recompute.py become what the mirror would hold: each
subscription's current object, one `customer.subscription.*` event per change (created, updated,
deleted), the customers, the prices and coupons, and one charge with its balance transaction per
subscription. Built once per (customers, seed, URL) and reused: `ensure(url, customers, seed)`.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from analytics_recompute import PRICES, synthetic_customers
from revlens.accounts.service import Grant, record_connection
from revlens.analytics.model import Discount, Price, Span, SubscriptionTimeline
from revlens.db import migrate
from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.models import MirroredObject, StripeEvent

ACCOUNT = "acct_benchmetrics0001"
BATCH = 5_000


def price_json(price: Price) -> dict[str, Any]:
    """Return a price as Stripe shows it."""
    assert price.interval is not None
    return {
        "id": price.id,
        "object": "price",
        "active": True,
        "currency": price.currency,
        "unit_amount": int(price.unit_amount),
        "unit_amount_decimal": str(int(price.unit_amount)),
        "billing_scheme": "per_unit",
        "type": "recurring",
        "recurring": {
            "interval": price.interval.value,
            "interval_count": price.interval_count,
            "usage_type": "licensed",
        },
        "created": 1_600_000_000,
    }


def discount_json(discount: Discount) -> dict[str, Any]:
    """Return an expanded discount with its coupon."""
    coupon = discount.coupon
    return {
        "id": discount.id,
        "object": "discount",
        "start": discount.start,
        "end": discount.end,
        "source": {
            "type": "coupon",
            "coupon": {
                "id": coupon.id,
                "object": "coupon",
                "duration": coupon.duration.value,
                "percent_off": float(coupon.percent_off) if coupon.percent_off else None,
                "amount_off": coupon.amount_off,
                "currency": coupon.currency,
                "duration_in_months": coupon.duration_in_months,
            },
        },
    }


def subscription_state(timeline: SubscriptionTimeline, span: Span, created: int) -> dict[str, Any]:
    """Return the subscription object as it was during a span."""
    (item,) = span.items
    ended = span.status.value == "canceled"
    return {
        "id": timeline.id,
        "object": "subscription",
        "customer": timeline.customer,
        "currency": timeline.currency,
        "status": span.status.value,
        "created": created,
        "start_date": created,
        "billing_cycle_anchor": created,
        "cancel_at_period_end": False,
        "canceled_at": span.start if ended else None,
        "ended_at": span.start if ended else None,
        "trial_end": timeline.trial.end if timeline.trial else None,
        "discounts": [discount_json(d) for d in span.discounts],
        "items": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": item.id,
                    "object": "subscription_item",
                    "price": price_json(item.price),
                    "quantity": item.quantity,
                    "discounts": [],
                    "current_period_start": span.start,
                    "current_period_end": span.start + 30 * 86_400,
                }
            ],
        },
        "livemode": False,
    }


def _object_row(obj: dict[str, Any], *, customer: str | None, at: int) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT,
        "object_type": obj["object"],
        "stripe_id": obj["id"],
        "livemode": False,
        "created": obj.get("created"),
        "customer_id": customer,
        "status": obj.get("status"),
        "source_ts": at,
        "synced_at": utcnow(),
        "deleted_at": None,
        "data": obj,
    }


def rows(customers: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Return the mirror's object rows and event rows for the synthetic account."""
    histories = synthetic_customers(customers, seed)
    rng = random.Random(seed)
    objects: list[dict[str, Any]] = [
        _object_row(price_json(p), customer=None, at=1_600_000_000) for p in PRICES
    ]
    events: list[dict[str, Any]] = []
    now = max(s.start for h in histories for t in h.subscriptions for s in t.spans) + 86_400
    for history in histories:
        first = min(t.spans[0].start for t in history.subscriptions)
        customer = {
            "id": history.id,
            "object": "customer",
            "created": first,
            "email": f"{history.id}@bench.example",
            "name": f"Customer {history.id[4:]}",
            "discount": None,
            "livemode": False,
        }
        objects.append(_object_row(customer, customer=history.id, at=now))
        for timeline in history.subscriptions:
            created = timeline.spans[0].start
            state: dict[str, Any] = {}
            for index, span in enumerate(timeline.spans):
                previous = state
                state = subscription_state(timeline, span, created)
                kind = "created" if index == 0 else "updated"
                if span.status.value == "canceled":
                    kind = "deleted"
                changed = {k: previous[k] for k in ("status", "items", "discounts") if previous}
                event = {
                    "id": f"evt_{timeline.id}_{index}",
                    "object": "event",
                    "type": f"customer.subscription.{kind}",
                    "created": span.start,
                    "account": ACCOUNT,
                    "data": {
                        "object": state,
                        **({"previous_attributes": changed} if index else {}),
                    },
                }
                events.append(_event_row(event))
            objects.append(_object_row(state, customer=history.id, at=now))
            amount = int(rng.choice(PRICES).unit_amount)
            charge = {
                "id": f"ch_{timeline.id}",
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "captured": True,
                "currency": "usd",
                "status": "succeeded",
                "customer": history.id,
                "created": created,
            }
            fee = amount * 29 // 1000 + 30
            balance = {
                "id": f"txn_{timeline.id}",
                "object": "balance_transaction",
                "amount": amount,
                "fee": fee,
                "currency": "usd",
                "created": created,
                "source": charge["id"],
            }
            objects.append(_object_row(charge, customer=history.id, at=now))
            objects.append(_object_row(balance, customer=None, at=now))
    return objects, events


def _event_row(event: dict[str, Any]) -> dict[str, Any]:
    return {
        "account_id": ACCOUNT,
        "event_id": event["id"],
        "type": event["type"],
        "created": event["created"],
        "livemode": False,
        "api_version": "2026-06-24.dahlia",
        "source": "webhook",
        "received_at": utcnow(),
        "processed_at": utcnow(),
        "error": None,
        "data": event,
    }


def ensure(url: str, customers: int, seed: int) -> dict[str, Any]:
    """Migrate the database and fill the mirror unless it already holds this account."""
    database = Database.from_url(url)
    migrate.upgrade(database.engine)
    with database.read() as session:
        existing = session.scalar(
            select(func.count())
            .select_from(MirroredObject)
            .where(MirroredObject.account_id == ACCOUNT, MirroredObject.object_type == "customer")
        )
    began = time.perf_counter()
    if existing != customers:
        objects, events = rows(customers, seed)
        with database.unit_of_work() as session:
            grant = Grant(ACCOUNT, "Bench Co", False, "read_only", "read_only")
            record_connection(session, grant=grant, now=utcnow())
        for table, found in ((MirroredObject, objects), (StripeEvent, events)):
            for start in range(0, len(found), BATCH):
                with database.unit_of_work() as session:
                    session.execute(insert(table), found[start : start + BATCH])
    with database.read() as session:
        grouped = session.execute(
            select(MirroredObject.object_type, func.count())
            .where(MirroredObject.account_id == ACCOUNT)
            .group_by(MirroredObject.object_type)
        )
        counts = {row[0]: row[1] for row in grouped}
        counts["events"] = (
            session.scalar(
                select(func.count())
                .select_from(StripeEvent)
                .where(StripeEvent.account_id == ACCOUNT)
            )
            or 0
        )
    database.dispose()
    return {"setup_s": round(time.perf_counter() - began, 1), "rows": counts}
