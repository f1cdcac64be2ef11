"""The analytics inputs read from the mirror: customer histories and the account's cash book.

Histories come from the stored subscriptions (items complete: the backfill pages them to the
end), their invoices (lines complete), the customers (customer-level discounts), the catalog of
prices and coupons, and every stored `customer.subscription.*` event. Each subscription's current
state counts from when revlens read it (`source_ts`), never earlier.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, Text, cast, distinct, func, select
from sqlalchemy.orm import Session

from revlens.analytics import payloads
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
    invoices = [data for data, _ in _rows(session, account_id, "invoice", customers)]
    subscriptions = _rows(session, account_id, "subscription", customers)
    wanted = (
        {str(payloads.object_id(data.get("customer")) or "") for data, _ in subscriptions}
        if customers is None
        else set(customers)
    )
    stored = {
        str(data["id"]): data
        for data, _ in _rows(session, account_id, "customer", sorted(wanted))
        if str(data["id"]) in wanted
    }
    return assemble(
        known,
        subscriptions=subscriptions,
        events=events,
        invoices=invoices,
        customers=stored,
        wanted=wanted,
    )


def assemble(
    known: Catalog,
    *,
    subscriptions: Iterable[tuple[dict[str, Any], int]],
    events: Iterable[dict[str, Any]],
    invoices: Iterable[dict[str, Any]],
    customers: Mapping[str, dict[str, Any]],
    wanted: Collection[str],
) -> list[CustomerHistory]:
    """Return the histories of the `wanted` customers from their parsed mirror rows."""
    by_subscription: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        obj = (event.get("data") or {}).get("object") or {}
        by_subscription.setdefault(str(obj.get("id")), []).append(event)
    invoiced: dict[str, list[dict[str, Any]]] = {}
    for data in invoices:
        owner = invoice_subscription(data)
        if owner:
            invoiced.setdefault(owner, []).append(data)
    timelines: dict[str, list[SubscriptionTimeline]] = {}
    for data, source_ts in subscriptions:
        timeline = build_timeline(
            data,
            events=by_subscription.get(str(data["id"]), ()),
            invoices=invoiced.get(str(data["id"]), ()),
            catalog=known,
            as_of=source_ts,
        )
        timelines.setdefault(timeline.customer, []).append(timeline)
    return [
        build_customer(
            customers.get(customer, customer),
            sorted(timelines.get(customer, ()), key=lambda t: t.id),
            catalog=known,
        )
        for customer in sorted(wanted)
    ]


@dataclass(slots=True)
class Bundle:
    """One customer's mirror rows as stored JSON text, for a worker to parse."""

    customer: str
    data: str | None = None
    subscriptions: list[tuple[str, int]] = field(default_factory=list)
    invoices: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)


def bundles(session: Session, *, account_id: str) -> tuple[list[Bundle], list[dict[str, Any]]]:
    """Return every customer with a subscription, its rows unparsed, sorted by customer.

    Rows are grouped by their promoted customer column, events by their indexed owner; the few
    without one are parsed here. Also return those parsed events, for the owner index.
    """
    # Core, not the ORM: its row loading cost a fifth of the reading, and nothing is pending.
    connection = session.connection()
    found: dict[str, Bundle] = {}
    owner_of_subscription: dict[str, str] = {}
    query = select(
        MirroredObject.stripe_id, MirroredObject.customer_id, _text(MirroredObject.data)
    ).add_columns(MirroredObject.source_ts)
    for stripe_id, column, text, source_ts in connection.execute(
        query.where(
            MirroredObject.account_id == account_id,
            MirroredObject.object_type == "subscription",
            MirroredObject.deleted_at.is_(None),
        )
    ):
        customer = column
        if customer is None:
            parsed = orjson.loads(text)
            customer = str(payloads.object_id(parsed.get("customer")) or "")
        owner_of_subscription[stripe_id] = customer
        bundle = found.get(customer) or found.setdefault(customer, Bundle(customer))
        bundle.subscriptions.append((text, int(source_ts)))
    for column, text in connection.execute(
        select(MirroredObject.customer_id, _text(MirroredObject.data)).where(
            MirroredObject.account_id == account_id,
            MirroredObject.object_type == "invoice",
            MirroredObject.deleted_at.is_(None),
        )
    ):
        customer = column
        if customer is None:
            customer = owner_of_subscription.get(invoice_subscription(orjson.loads(text)) or "", "")
        if customer in found:
            found[customer].invoices.append(text)
    for customer, text in connection.execute(
        select(MirroredObject.customer_id, _text(MirroredObject.data)).where(
            MirroredObject.account_id == account_id,
            MirroredObject.object_type == "customer",
            MirroredObject.deleted_at.is_(None),
        )
    ):
        if customer in found:
            found[customer].data = text
    unindexed: list[dict[str, Any]] = []
    owners = select(MetricEventOwner.customer_id).where(
        MetricEventOwner.account_id == account_id,
        MetricEventOwner.event_id == StripeEvent.event_id,
    )
    events = select(owners.scalar_subquery(), _text(StripeEvent.data)).where(
        StripeEvent.account_id == account_id, StripeEvent.type.like(SUBSCRIPTION_EVENTS)
    )
    for owner, text in connection.execute(events):
        customer = owner
        if customer is None:
            event = orjson.loads(text)
            unindexed.append(event)
            customer = event_owners([event]).get(str(event.get("id")))
            if customer is None:
                obj = (event.get("data") or {}).get("object") or {}
                customer = owner_of_subscription.get(str(obj.get("id")))
        if customer in found:
            found[customer].events.append(text)
    return [found[customer] for customer in sorted(found)], unindexed


def bundle_histories(known: Catalog, chunk: Iterable[Bundle]) -> list[CustomerHistory]:
    """Return the histories of the bundles' customers (what `histories` returns for them)."""
    found: list[CustomerHistory] = []
    for bundle in chunk:
        customer = orjson.loads(bundle.data) if bundle.data is not None else None
        found.extend(
            assemble(
                known,
                subscriptions=[(orjson.loads(t), ts) for t, ts in bundle.subscriptions],
                events=[orjson.loads(text) for text in bundle.events],
                invoices=[orjson.loads(text) for text in bundle.invoices],
                customers=(
                    {bundle.customer: customer}
                    if customer is not None and str(customer.get("id")) == bundle.customer
                    else {}
                ),
                wanted=(bundle.customer,),
            )
        )
    return found


def customer_count(session: Session, *, account_id: str) -> int:
    """Return about how many customers have a subscription (by the promoted customer column)."""
    query = select(func.count(distinct(MirroredObject.customer_id))).where(
        MirroredObject.account_id == account_id,
        MirroredObject.object_type == "subscription",
        MirroredObject.deleted_at.is_(None),
    )
    return int(session.scalar(query) or 0)


def cash_book(session: Session, *, account_id: str, timezone: str = "UTC") -> CashByDay:
    """Return the account's daily cash per currency from the mirrored payments."""
    connection = session.connection()
    found = {
        object_type: [
            orjson.loads(text)
            for text in connection.scalars(
                select(_text(MirroredObject.data)).where(
                    MirroredObject.account_id == account_id,
                    MirroredObject.object_type == object_type,
                    MirroredObject.deleted_at.is_(None),
                )
            )
        ]
        for object_type in CASH_TYPES
    }
    return cash_by_day(
        charges=found["charge"],
        refunds=found["refund"],
        disputes=found["dispute"],
        balance_transactions=found["balance_transaction"],
        timezone=timezone,
    )
