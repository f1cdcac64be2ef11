"""Subscription states of revlens' own account: stored only when newer than what is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from revlens.billing.models import BillingAccount, BillingSubscription

# (subscription id) → (its current state, Stripe's clock when it was read)
Refetch = Callable[[str], tuple[dict[str, Any], int]]

SUBSCRIPTION_EVENTS = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
INVOICE_EVENTS = frozenset({"invoice.paid", "invoice.payment_failed"})
BILLING_EVENTS = SUBSCRIPTION_EVENTS | INVOICE_EVENTS
REVLENS_METADATA = "revlens_account"


def _first_item(obj: dict[str, Any]) -> dict[str, Any]:
    items = obj.get("items")
    data = items.get("data") if isinstance(items, dict) else None
    return data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def price_of(obj: dict[str, Any]) -> str | None:
    """Return the price id of a subscription's (single) item."""
    price = _first_item(obj).get("price")
    if isinstance(price, dict):
        price = price.get("id")
    return price if isinstance(price, str) else None


def _unpaid_since(obj: dict[str, Any], seen_at: int) -> int:
    """When the period that is not paid began: its invoice's creation, else the period start."""
    invoice = obj.get("latest_invoice")
    if isinstance(invoice, dict) and isinstance(invoice.get("created"), int):
        return int(invoice["created"])
    item = _first_item(obj)
    start = _int_or_none(item.get("current_period_start")) or _int_or_none(
        obj.get("current_period_start")
    )
    return start if start is not None else seen_at


def is_ours(session: Session, obj: dict[str, Any]) -> bool:
    """Whether a subscription of the platform account is one revlens sold."""
    metadata = obj.get("metadata")
    if isinstance(metadata, dict) and metadata.get(REVLENS_METADATA):
        return True
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    found = session.scalars(
        select(BillingAccount.account_id).where(BillingAccount.customer_id == str(customer))
    ).first()
    return found is not None


def record_subscription(
    session: Session, *, obj: dict[str, Any], seen_at: int, now: datetime
) -> BillingSubscription | None:
    """Store a subscription's state seen at Stripe time `seen_at` unless a newer one is stored.

    A state as old as the stored one replaces it: callers re-read Stripe on such ties when they
    can (see `apply_billing_event`). Returns the row, or None when the state was older.
    """
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    row = session.get(BillingSubscription, obj["id"], with_for_update=True)
    if row is not None and row.source_ts > seen_at:
        return None
    status = str(obj.get("status"))
    item = _first_item(obj)
    if row is None:
        row = BillingSubscription(stripe_id=str(obj["id"]), customer_id=str(customer))
        session.add(row)
    was_past_due = row.status == "past_due" and row.past_due_since is not None
    if status == "past_due":
        row.past_due_since = row.past_due_since if was_past_due else _unpaid_since(obj, seen_at)
    else:
        row.past_due_since = None
    row.customer_id = str(customer)
    row.price_id = price_of(obj)
    row.status = status
    row.cancel_at_period_end = bool(obj.get("cancel_at_period_end"))
    row.current_period_end = _int_or_none(item.get("current_period_end")) or _int_or_none(
        obj.get("current_period_end")
    )
    row.trial_end = _int_or_none(obj.get("trial_end"))
    row.source_ts = seen_at
    row.updated_at = now
    row.data = obj
    session.flush()
    return row


def invoice_subscription(invoice: dict[str, Any]) -> str | None:
    """Return the subscription an invoice bills (basil and later: under `parent`)."""
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    found = details.get("subscription") if isinstance(details, dict) else None
    found = found or invoice.get("subscription")
    if isinstance(found, dict):
        found = found.get("id")
    return found if isinstance(found, str) else None


def _invoice_is_ours(session: Session, invoice: dict[str, Any], subscription_id: str) -> bool:
    """Whether an invoice bills a subscription revlens sold (known, or its metadata says so)."""
    if session.get(BillingSubscription, subscription_id) is not None:
        return True
    parent = invoice.get("parent")
    details = parent.get("subscription_details") if isinstance(parent, dict) else None
    metadata = details.get("metadata") if isinstance(details, dict) else None
    return bool(isinstance(metadata, dict) and metadata.get(REVLENS_METADATA)) or is_ours(
        session, {"customer": invoice.get("customer")}
    )


def _record_payment(session: Session, *, kind: str, subscription_id: str, at: int) -> None:
    row = session.get(BillingSubscription, subscription_id, with_for_update=True)
    if row is None:
        return
    if kind == "invoice.paid":
        row.last_paid_at = max(row.last_paid_at or 0, at)
    else:
        row.last_payment_failed_at = max(row.last_payment_failed_at or 0, at)


def apply_billing_event(
    session: Session, *, event: dict[str, Any], refetch: Refetch | None, now: datetime
) -> str | None:
    """Apply one event of revlens' own account; return the subscription it concerned.

    Order-proof: a state is kept only when its event is newer than the stored state; on a tie
    (Stripe's seconds) and for invoice events, which carry no subscription state, the current
    subscription is re-read when `refetch` is given. Applying an event twice changes nothing.
    """
    kind = str(event.get("type"))
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if kind not in BILLING_EVENTS or not isinstance(obj, dict) or "id" not in obj:
        return None
    created = int(event["created"])
    if kind in SUBSCRIPTION_EVENTS:
        if not is_ours(session, obj):
            return None
        stored = session.get(BillingSubscription, obj["id"])
        if stored is not None and stored.source_ts == created and refetch is not None:
            obj, created = refetch(str(obj["id"]))
        record_subscription(session, obj=obj, seen_at=created, now=now)
        return str(obj["id"])
    subscription_id = invoice_subscription(obj)
    if subscription_id is None or not _invoice_is_ours(session, obj, subscription_id):
        return None
    _record_payment(session, kind=kind, subscription_id=subscription_id, at=created)
    if refetch is not None:
        current, seen_at = refetch(subscription_id)
        if is_ours(session, current):
            record_subscription(session, obj=current, seen_at=seen_at, now=now)
            _record_payment(session, kind=kind, subscription_id=subscription_id, at=created)
    return subscription_id
