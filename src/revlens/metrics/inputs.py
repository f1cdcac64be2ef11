"""The analytics inputs read from the mirror: customer histories and the account's cash book.

Histories come from the stored subscriptions (items complete: the backfill pages them to the
end), their invoices (lines complete), the customers (customer-level discounts), the catalog of
prices and coupons, and every stored `customer.subscription.*` event. Each subscription's current
state counts from when revlens read it (`source_ts`), never earlier.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, Text, cast, select
from sqlalchemy.orm import Session

from revlens.analytics.cash import CashByDay, cash_by_day
from revlens.analytics.model import CustomerHistory, SubscriptionTimeline
from revlens.analytics.payloads import Catalog, invoice_subscription
from revlens.analytics.timeline import build_customer, build_timeline
from revlens.metrics.models import MetricEventOwner
from revlens.mirror.models import MirroredObject, StripeEvent

SUBSCRIPTION_EVENTS = "customer.subscription.%"
DISCOUNT_EVENTS = "customer.discount.%"
CASH_TYPES = ("charge", "refund", "dispute", "balance_transaction")
# Large `IN (...)` lists are cut into chunks that every backend accepts.
CHUNK = 500


def _text(column: Any) -> ColumnElement[str]:
    """Read a JSON column as its text: orjson parses it several times faster than the driver."""
    return cast(column, Text)


def _objects(
    account_id: str, object_type: str, customers: Collection[str] | None
) -> Select[str, int]:
    query = select(_text(MirroredObject.data), MirroredObject.source_ts).where(
        MirroredObject.account_id == account_id,
        MirroredObject.object_type == object_type,
        MirroredObject.deleted_at.is_(None),
    )
    if customers is not None:
        query = query.where(MirroredObject.customer_id.in_(customers))
    return query


def _chunks(customers: Collection[str] | None) -> Iterable[list[str] | None]:
    if customers is None:
        yield None
        return
    ordered = sorted(customers)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def _rows(
    session: Session, account_id: str, object_type: str, customers: Collection[str] | None
) -> list[tuple[dict[str, Any], int]]:
    found: list[tuple[dict[str, Any], int]] = []
    for chunk in _chunks(customers):
        rows = session.execute(_objects(account_id, object_type, chunk))
        found.extend((orjson.loads(text), int(source_ts)) for text, source_ts in rows)
    return found


def _events(
    session: Session, account_id: str, like: str, customers: Collection[str] | None
) -> list[dict[str, Any]]:
    """Return the stored events of a type pattern (of some customers only, through the index)."""
    query = select(_text(StripeEvent.data)).where(
        StripeEvent.account_id == account_id, StripeEvent.type.like(like)
    )
    if customers is None:
        return [orjson.loads(text) for text in session.scalars(query)]
    found: list[dict[str, Any]] = []
    for chunk in _chunks(customers):
        owned = select(MetricEventOwner.event_id).where(
            MetricEventOwner.account_id == account_id,
            MetricEventOwner.customer_id.in_(chunk or []),
        )
        chunk_query = query.where(StripeEvent.event_id.in_(owned))
        found.extend(orjson.loads(text) for text in session.scalars(chunk_query))
    return found


def catalog(
    session: Session, *, account_id: str, customers: Collection[str] | None = None
) -> Catalog:
    """Return the account's prices (plans too) and coupons, and the discounts it knows by id.

    With `customers`, only the discounts of those customers.
    """
    prices: dict[str, dict[str, Any]] = {}
    for object_type in ("plan", "price"):  # a price wins over the plan that shares its id
        for data, _ in _rows(session, account_id, object_type, None):
            prices[str(data["id"])] = data
    coupons = {str(data["id"]): data for data, _ in _rows(session, account_id, "coupon", None)}
    # Subscriptions name their discounts by id: the objects come from `customer.discount.*`
    # events and from the mirrored discounts (expanded from subscriptions).
    discounts: dict[str, dict[str, Any]] = {}
    events = _events(session, account_id, DISCOUNT_EVENTS, customers)
    for event in sorted(events, key=lambda e: int(e.get("created") or 0)):
        obj = (event.get("data") or {}).get("object") or {}
        if isinstance(obj.get("id"), str):
            discounts[obj["id"]] = obj
    for data, _ in _rows(session, account_id, "discount", customers):
        discounts[str(data["id"])] = data
    return Catalog(prices=prices, coupons=coupons, discounts=discounts)


def subscription_events(
    session: Session, *, account_id: str, customers: Collection[str] | None
) -> list[dict[str, Any]]:
    """Return the stored `customer.subscription.*` events (of some customers only, if given)."""
    return _events(session, account_id, SUBSCRIPTION_EVENTS, customers)


def event_owners(events: Iterable[dict[str, Any]]) -> dict[str, str]:
    """Return the customer of each subscription or discount event, by event id."""
    found: dict[str, str] = {}
    for event in events:
        kind = str(event.get("type") or "")
        if not kind.startswith(("customer.subscription.", "customer.discount.")):
            continue
        obj = (event.get("data") or {}).get("object") or {}
        owner = obj.get("customer")
        if isinstance(owner, dict):
            owner = owner.get("id")
        if isinstance(owner, str) and owner and isinstance(event.get("id"), str):
            found[event["id"]] = owner
    return found


def histories(
    session: Session,
    *,
    account_id: str,
    customers: Collection[str] | None = None,
    events: Iterable[dict[str, Any]] | None = None,
) -> list[CustomerHistory]:
    """Return the history of every customer with a subscription (or of the customers given).

    `events` are the stored subscription events when the caller already read them.
    """
    known = catalog(session, account_id=account_id, customers=customers)
    if events is None:
        events = subscription_events(session, account_id=account_id, customers=customers)
    by_subscription: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        obj = (event.get("data") or {}).get("object") or {}
        by_subscription.setdefault(str(obj.get("id")), []).append(event)
    invoices: dict[str, list[dict[str, Any]]] = {}
    for data, _ in _rows(session, account_id, "invoice", customers):
        owner = invoice_subscription(data)
        if owner:
            invoices.setdefault(owner, []).append(data)
    timelines: dict[str, list[SubscriptionTimeline]] = {}
    for data, source_ts in _rows(session, account_id, "subscription", customers):
        timeline = build_timeline(
            data,
            events=by_subscription.get(str(data["id"]), ()),
            invoices=invoices.get(str(data["id"]), ()),
            catalog=known,
            as_of=source_ts,
        )
        timelines.setdefault(timeline.customer, []).append(timeline)
    wanted = set(timelines) if customers is None else set(customers)
    stored = {
        str(data["id"]): data
        for data, _ in _rows(session, account_id, "customer", sorted(wanted))
        if str(data["id"]) in wanted
    }
    return [
        build_customer(
            stored.get(customer, customer),
            sorted(timelines.get(customer, ()), key=lambda t: t.id),
            catalog=known,
        )
        for customer in sorted(wanted)
    ]


def cash_book(session: Session, *, account_id: str, timezone: str = "UTC") -> CashByDay:
    """Return the account's daily cash per currency from the mirrored payments."""
    found = {
        object_type: [data for data, _ in _rows(session, account_id, object_type, None)]
        for object_type in CASH_TYPES
    }
    return cash_by_day(
        charges=found["charge"],
        refunds=found["refund"],
        disputes=found["dispute"],
        balance_transactions=found["balance_transaction"],
        timezone=timezone,
    )
