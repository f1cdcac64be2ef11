"""Evidence about a subscription's past, one source at a time: events, invoice lines, fields.

Each source yields observations (instant, order, kind, payload, source id) that the timeline folds
in time order; `order` settles ties at one instant (full states last, so they win).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from revlens.analytics import payloads
from revlens.analytics.model import (
    TERMINAL_STATUSES,
    Discount,
    Instant,
    Item,
    Status,
)
from revlens.analytics.payloads import JSON, Catalog

_EVENT_ORDER = {"created": 0, "updated": 1, "deleted": 2}
_DELINQUENT = frozenset({Status.PAST_DUE, Status.UNPAID})


@dataclass(frozen=True, slots=True)
class State:
    """A subscription's state as one payload shows it."""

    status: Status
    items: tuple[Item, ...]
    discounts: tuple[Discount, ...]
    ended_at: Instant | None
    trial_start: Instant | None
    trial_end: Instant | None
    truncated: bool = False

    def same_as(self, other: State) -> bool:
        """Return whether the parts that change MRR are equal (those a capped list shows)."""
        if (self.status, self.discounts) != (other.status, other.discounts):
            return False
        if self.truncated:
            return set(self.items) <= set(other.items)
        return self.items == other.items


def read_state(subscription: JSON, catalog: Catalog) -> State:
    """Return the state a subscription payload of any API version shows."""
    items, truncated = payloads.subscription_items(subscription, catalog)
    return State(
        status=Status(subscription.get("status") or "active"),
        items=items,
        discounts=payloads.subscription_discounts(subscription, catalog),
        ended_at=end_of_service(subscription),
        trial_start=subscription.get("trial_start"),
        trial_end=subscription.get("trial_end"),
        truncated=truncated,
    )


def end_of_service(subscription: JSON) -> Instant | None:
    """Return when service ended: `ended_at`, else the period end when cancelled at period end."""
    if subscription.get("ended_at"):
        return int(subscription["ended_at"])
    if subscription.get("status") not in (Status.CANCELED, Status.INCOMPLETE_EXPIRED):
        return None
    if subscription.get("cancel_at_period_end"):
        return payloads.current_period(subscription)[1]
    cancel_at = subscription.get("cancel_at")
    return int(cancel_at) if cancel_at else None


# An observation: (instant, order at that instant, kind, payload, source id).
Observation = tuple[Instant, int, str, Any, str]


def subscription_events(events: Iterable[JSON], subscription_id: str) -> list[JSON]:
    """Return this subscription's events, duplicates dropped, in the order they happened."""
    unique: dict[str, JSON] = {}
    for event in events:
        kind = str(event.get("type", ""))
        obj = (event.get("data") or {}).get("object") or {}
        if kind.startswith("customer.subscription.") and obj.get("id") == subscription_id:
            unique.setdefault(str(event.get("id")), event)
    return sorted(
        unique.values(),
        key=lambda e: (int(e["created"]), _EVENT_ORDER.get(e["type"].rsplit(".", 1)[-1], 1)),
    )


def invoices_of(invoices: Iterable[JSON], subscription_id: str) -> list[JSON]:
    """Return this subscription's finalized invoices, oldest first."""
    found = [
        invoice
        for invoice in invoices
        if payloads.invoice_subscription(invoice) == subscription_id
        and invoice.get("status") != "draft"
    ]
    return sorted(found, key=lambda invoice: int(invoice.get("created") or 0))


def invoice_observations(
    invoices: Sequence[JSON], catalog: Catalog, known: Mapping[str, Item]
) -> tuple[list[Observation], list[str]]:
    """Return item observations from invoice lines, and warnings about truncated line lists."""
    observations: list[Observation] = []
    warnings: list[str] = []
    for invoice in invoices:
        lines = invoice.get("lines") or {}
        if lines.get("has_more"):
            warnings.append(f"invoice {invoice.get('id')}: lines has_more; pass every page")
        regular: dict[int, dict[str, Item]] = {}
        for line in lines.get("data") or ():
            if not payloads.line_is_subscription(line):
                continue
            price = payloads.line_price(line, catalog)
            if price is None or not price.recurring:
                continue
            key = payloads.line_subscription_item(line) or price.id
            period = line.get("period") or {}
            at = int(period.get("start") or invoice.get("created") or 0)
            discounts = known[key].discounts if key in known else ()
            item = Item(key, price, int(line.get("quantity") or 0) or 1, discounts)
            source = str(invoice.get("id"))
            if payloads.line_is_proration(line):
                # "Unused time" (negative) ends the old item, "remaining time" starts the new one.
                if int(line.get("amount") or 0) < 0:
                    observations.append((at, 1, "item_end", (key, price.id), source))
                else:
                    observations.append((at, 2, "item_start", item, source))
            else:
                regular.setdefault(at, {})[key] = item
        for at, items in regular.items():
            ordered = tuple(sorted(items.values(), key=lambda i: i.id))
            observations.append((at, 0, "items", ordered, str(invoice.get("id"))))
    return observations, warnings


def delinquent_since(invoices: Sequence[JSON], until: Instant | None) -> Instant | None:
    """Return when the oldest invoice still unpaid at `until` was finalized."""
    for invoice in invoices:
        transitions = invoice.get("status_transitions") or {}
        finalized = transitions.get("finalized_at") or invoice.get("created")
        paid_at = transitions.get("paid_at")
        if finalized is None or (until is not None and finalized >= until):
            continue
        unpaid = not payloads.invoice_paid(invoice) and invoice.get("status") in (
            "open",
            "uncollectible",
        )
        if unpaid or (until is not None and paid_at is not None and paid_at > until):
            return int(finalized)
    return None


def inferred_statuses(
    state: State, start: Instant, invoices: Sequence[JSON], until: Instant | None, reason: str
) -> list[Observation]:
    """Return status observations implied by one state's fields, for a time no event covers."""
    source = "inferred"
    found: list[Observation] = []
    begin = start
    ended = state.ended_at
    if (
        state.trial_end is not None
        and state.trial_end > start
        and (state.trial_start is not None or state.status is Status.TRIALING)
    ):
        found.append((max(state.trial_start or start, start), 0, "status", Status.TRIALING, source))
        begin = state.trial_end
        if state.status is Status.TRIALING:
            return found
    final = state.status
    if final in TERMINAL_STATUSES:
        running = Status.INCOMPLETE if final is Status.INCOMPLETE_EXPIRED else Status.ACTIVE
        if ended is None or begin < ended:
            found.append((begin, 0, "status", running, source))
        if reason == "payment_failed":
            since = delinquent_since(invoices, ended)
            if since is not None and since > begin and (ended is None or since < ended):
                found.append((since, 0, "status", Status.PAST_DUE, source))
        if ended is not None:
            found.append((ended, 0, "status", final, source))
        return found
    if final in _DELINQUENT:
        found.append((begin, 0, "status", Status.ACTIVE, source))
        since = delinquent_since(invoices, until)
        found.append((max(since or begin, begin), 0, "status", final, source))
        return found
    found.append((begin, 0, "status", final, source))
    return found
