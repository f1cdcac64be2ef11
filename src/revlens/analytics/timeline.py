"""Rebuild each subscription's history from stored Stripe JSON (metrics.md section 2).

Sources, most exact first: the stored `customer.subscription.*` events (each `data.object` is the
state from the event's instant; `previous_attributes` tells the state before the first one), then
invoice lines (recurring lines give the items of each service period, proration lines the instant
of a mid-period change), then the current object. Today's state is never projected backwards:
the current object only fills what no earlier source tells, or changes the state from the instant
it was observed. Service ends at `ended_at` (with `cancel_at_period_end`, the period end), never at
`canceled_at`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from itertools import groupby
from typing import Any

from revlens.analytics import evidence, payloads
from revlens.analytics.days import advance
from revlens.analytics.evidence import Observation, State
from revlens.analytics.model import (
    CONTRIBUTING_STATUSES,
    TERMINAL_STATUSES,
    CustomerHistory,
    Discount,
    Duration,
    Instant,
    Item,
    Span,
    Status,
    SubscriptionTimeline,
    Trial,
)
from revlens.analytics.mrr import cadence_of
from revlens.analytics.payloads import JSON, Catalog


@dataclass(frozen=True, slots=True)
class _Context:
    """What one subscription's reconstruction reads, gathered once."""

    id: str
    start: Instant
    observed_at: Instant
    current: State
    events: list[JSON]
    invoices: list[JSON]
    catalog: Catalog
    cancellation_reason: str


def _context(
    subscription: JSON,
    events: Iterable[JSON],
    invoices: Iterable[JSON],
    catalog: Catalog | None,
    as_of: Instant | None,
) -> _Context:
    subscription_id = str(subscription["id"])
    own_events = evidence.subscription_events(events, subscription_id)
    own_invoices = evidence.invoices_of(invoices, subscription_id)
    catalog = (catalog or Catalog()).including(subscription, own_events, own_invoices)
    current = evidence.read_state(subscription, catalog)
    start = int(subscription.get("start_date") or subscription.get("created") or 0)
    seen = [start, *(int(e["created"]) for e in own_events), current.ended_at or 0]
    seen += [int(i.get("created") or 0) for i in own_invoices]
    return _Context(
        id=subscription_id,
        start=start,
        observed_at=as_of if as_of is not None else max(seen),
        current=current,
        events=own_events,
        invoices=own_invoices,
        catalog=catalog,
        cancellation_reason=str(
            (subscription.get("cancellation_details") or {}).get("reason") or ""
        ),
    )


def _event_states(context: _Context) -> list[tuple[Instant, State, str]]:
    """Return the state each stored event shows, from the instant it happened."""
    found: list[tuple[Instant, State, str]] = []
    for event in context.events:
        state = evidence.read_state(event["data"]["object"], context.catalog)
        at = int(event["created"])
        if event["type"].endswith(".deleted"):
            at = state.ended_at or at
        found.append((at, state, str(event["id"])))
    if found and context.events[0]["type"].endswith(".created"):
        # A backdated subscription existed from its start date, before its creation event.
        at, state, source = found[0]
        found[0] = (min(at, context.start), state, source)
    return found


def _prior_state(context: _Context) -> State | None:
    """Return the state before the first stored event (None when the events start at creation)."""
    if not context.events:
        return context.current
    first = context.events[0]
    if first["type"].endswith(".created"):
        return None
    previous = (first.get("data") or {}).get("previous_attributes") or {}
    merged = payloads.deep_merge(first["data"]["object"], previous)
    return evidence.read_state(merged, context.catalog)


def _before_events(
    context: _Context, prior: State, boundary: Instant | None
) -> tuple[list[Observation], list[str]]:
    """Return observations for the time before the first event: statuses, invoice items."""
    known = {item.id: item for item in prior.items}
    found, warnings = evidence.invoice_observations(context.invoices, context.catalog, known)
    observations = [o for o in found if boundary is None or o[0] < boundary]
    if not any(o[2] == "items" and o[0] <= context.start for o in observations):
        # Items before the first invoice line: the earliest known ones, never today's by default.
        invoiced = sorted((o for o in observations if o[2] == "items"), key=lambda o: o[0])
        items = invoiced[0][3] if invoiced else prior.items
        observations.append((context.start, -1, "items", items, context.id))
    statuses = evidence.inferred_statuses(
        prior, context.start, context.invoices, boundary, context.cancellation_reason
    )
    observations += [o for o in statuses if boundary is None or o[0] < boundary]
    observations.append((context.start, -1, "discounts", prior.discounts, context.id))
    return observations, warnings


def _after_events(
    context: _Context,
    event_states: list[tuple[Instant, State, str]],
    observations: list[Observation],
) -> list[Observation]:
    """Return what the current object adds after the last event or invoice line."""
    current = context.current
    if event_states:
        last_at, last_state, _ = event_states[-1]
        if last_state.same_as(current):
            return []
        # The current object knows something no stored event told: date it as exactly as we can.
        if current.status in TERMINAL_STATUSES and current.ended_at is not None:
            at = current.ended_at
        elif last_state.status is Status.TRIALING and current.trial_end is not None:
            at = current.trial_end
        else:
            at = context.observed_at
        return [(max(at, last_at), 4, "state", current, context.id)]
    latest = _latest_items(observations) if context.invoices else None
    if latest is not None and latest[0] != current.items:
        return [(max(context.observed_at, latest[1]), 4, "items", current.items, context.id)]
    return []


def build_timeline(
    subscription: JSON,
    *,
    events: Iterable[JSON] = (),
    invoices: Iterable[JSON] = (),
    catalog: Catalog | None = None,
    as_of: Instant | None = None,
) -> SubscriptionTimeline:
    """Return the history of one subscription from its current object, events and invoices."""
    context = _context(subscription, events, invoices, catalog, as_of)
    event_states = _event_states(context)
    prior = _prior_state(context)
    observations: list[Observation] = []
    warnings: list[str] = []
    if prior is not None:
        boundary = event_states[0][0] if event_states else None
        observations, warnings = _before_events(context, prior, boundary)
    observations += [(at, 3, "state", state, source) for at, state, source in event_states]
    observations += _after_events(context, event_states, observations)
    current = context.current
    if current.truncated:
        warnings.append(f"subscription {context.id}: items has_more; pass every page")
    spans = _with_once_discounts(_sweep(observations, context.id), _once_discounts(context))
    return SubscriptionTimeline(
        id=context.id,
        customer=str(payloads.object_id(subscription.get("customer")) or ""),
        currency=str(subscription.get("currency") or "").lower(),
        spans=tuple(spans),
        ended_at=current.ended_at if current.status in TERMINAL_STATUSES else None,
        paid_through=_paid_through(context.invoices),
        trial=_trial(current, prior, context.invoices, spans, context.observed_at),
        billing_anchor=subscription.get("billing_cycle_anchor"),
        application_fee_percent=_fee_percent(subscription.get("application_fee_percent")),
        warnings=tuple(warnings),
    )


def _latest_items(observations: list[Observation]) -> tuple[tuple[Item, ...], Instant] | None:
    items: tuple[tuple[Item, ...], Instant] | None = None
    current: dict[str, Item] = {}
    for at, _, kind, payload, _ in sorted(observations, key=lambda o: (o[0], o[1])):
        if kind == "items":
            current = {item.id: item for item in payload}
        elif kind == "item_end" and payload[0] in current:
            current.pop(payload[0])
        elif kind == "item_start":
            current[payload.id] = payload
        else:
            continue
        items = (tuple(sorted(current.values(), key=lambda i: i.id)), at)
    return items


@dataclass(slots=True)
class _Fold:
    """The state being folded: what is known so far at the sweep's instant."""

    status: Status | None = None
    items: dict[str, Item] = field(default_factory=dict)
    discounts: tuple[Discount, ...] = ()

    def apply(self, kind: str, payload: Any) -> None:
        """Lay one observation over the state."""
        if kind == "state":
            self.status, self.discounts = payload.status, payload.discounts
            shown = {item.id: item for item in payload.items}
            # A capped `items` list (has_more) shows some items: the others stay as they were.
            self.items = {**self.items, **shown} if payload.truncated else shown
        elif kind == "status":
            self.status = payload
        elif kind == "items":
            self.items = {item.id: item for item in payload}
        elif kind == "item_end":
            key, price_id = payload
            if key in self.items and self.items[key].price.id == price_id:
                del self.items[key]
        elif kind == "item_start":
            self.items[payload.id] = payload
        elif kind == "discounts":
            self.discounts = payload


def _sweep(observations: list[Observation], subscription_id: str) -> list[Span]:
    """Fold observations in time order into contiguous spans of constant state."""
    spans: list[Span] = []
    fold = _Fold()
    ordered = sorted(observations, key=lambda o: (o[0], o[1]))
    for at, group in groupby(ordered, key=lambda o: o[0]):
        sources: list[str] = []
        for _, _, kind, payload, source in group:
            fold.apply(kind, payload)
            if source and source != "inferred" and source not in sources:
                sources.append(source)
        if fold.status is None:
            continue
        items = tuple(sorted(fold.items.values(), key=lambda i: i.id))
        last = spans[-1] if spans else None
        if last is not None and (last.status, last.items, last.discounts) == (
            fold.status,
            items,
            fold.discounts,
        ):
            continue
        since = at if fold.status is Status.PAST_DUE else None
        if last is not None:
            spans[-1] = replace(last, end=at)
            if fold.status is Status.PAST_DUE and last.status is Status.PAST_DUE:
                since = last.past_due_since
        span_sources = tuple(sources) or (subscription_id,)
        spans.append(Span(at, None, fold.status, items, fold.discounts, since, span_sources))
    return spans


def _once_discounts(context: _Context) -> list[Discount]:
    """Return the `once` discounts this subscription's invoices used.

    Stripe removes a `once` discount from the subscription as soon as its first invoice used
    it, often in the second it was added: the invoice is where it is found afterwards.
    """
    found: dict[str, Discount] = {}
    for invoice in context.invoices:
        for value in invoice.get("discounts") or ():
            discount = payloads.parse_discount(value, context.catalog)
            if discount is not None and discount.coupon.duration is Duration.ONCE:
                found.setdefault(discount.id, discount)
    return list(found.values())


def _with_once_discounts(spans: list[Span], once: Sequence[Discount]) -> list[Span]:
    """Keep each `once` discount on the spans of the billing period it covered.

    It ends with that period: whichever rule counts `once` discounts sees it there, and a
    customer discount is not used instead of it meanwhile (as on the invoice).
    """
    if not once:
        return spans
    result: list[Span] = []
    for span in spans:
        present = {discount.id for discount in span.discounts}
        added = []
        for discount in once:
            if discount.id in present or discount.start is None:
                continue
            ends = advance(discount.start, *cadence_of(span))
            if span.start < ends and (span.end is None or discount.start < span.end):
                added.append(replace(discount, end=ends))
        result.append(replace(span, discounts=(*span.discounts, *added)) if added else span)
    return result


def _paid_through(invoices: Sequence[JSON]) -> Instant | None:
    """Return the end of the last service period a paid invoice covered."""
    ends = [
        int(line["period"]["end"])
        for invoice in invoices
        if payloads.invoice_paid(invoice)
        for line in (invoice.get("lines") or {}).get("data") or ()
        if payloads.line_is_subscription(line)
        and not payloads.line_is_proration(line)
        and line.get("period")
    ]
    return max(ends) if ends else None


def _trial(
    current: State,
    prior: State | None,
    invoices: Sequence[JSON],
    spans: Sequence[Span],
    observed_at: Instant,
) -> Trial | None:
    """Return the trial that ended, if any, and whether the first invoice after it was paid."""
    state = prior or current
    trial_end = current.trial_end or state.trial_end
    had_trial = any(span.status is Status.TRIALING for span in spans)
    if trial_end is None or not had_trial or trial_end > observed_at:
        return None
    ended = current.ended_at
    if ended is not None and ended <= trial_end:
        return Trial(end=ended, converted=False)
    after = [
        invoice
        for invoice in invoices
        if int(invoice.get("created") or 0) >= trial_end - 3600
        and int(invoice.get("amount_due") or invoice.get("total") or 0) > 0
    ]
    if after:
        return Trial(end=trial_end, converted=payloads.invoice_paid(after[0]))
    converted = any(
        span.status in CONTRIBUTING_STATUSES for span in spans if span.start >= trial_end
    )
    return Trial(end=trial_end, converted=converted and not invoices)


def _fee_percent(value: Any) -> Fraction | None:
    return Fraction(str(value)) if value is not None else None


def build_customer(
    customer: JSON | str,
    timelines: Iterable[SubscriptionTimeline],
    *,
    catalog: Catalog | None = None,
) -> CustomerHistory:
    """Return a customer's history: its subscriptions and its customer-level discount."""
    if isinstance(customer, str):
        return CustomerHistory(customer, tuple(timelines))
    catalog = (catalog or Catalog()).including(customer)
    discount = payloads.parse_discount(customer.get("discount"), catalog)
    return CustomerHistory(
        id=str(customer["id"]),
        subscriptions=tuple(timelines),
        discounts=(discount,) if discount is not None else (),
    )


def build_customers(
    *,
    customers: Iterable[JSON] = (),
    subscriptions: Iterable[JSON],
    events: Iterable[JSON] = (),
    invoices: Iterable[JSON] = (),
    catalog: Catalog | None = None,
    as_of: Instant | None = None,
) -> list[CustomerHistory]:
    """Return every customer's history from stored objects (events and invoices of any shape)."""
    event_list, invoice_list = list(events), list(invoices)
    by_subscription_events: dict[str, list[JSON]] = {}
    for event in event_list:
        obj = (event.get("data") or {}).get("object") or {}
        if obj.get("object") == "subscription":
            by_subscription_events.setdefault(str(obj.get("id")), []).append(event)
    by_subscription_invoices: dict[str, list[JSON]] = {}
    for invoice in invoice_list:
        owner = payloads.invoice_subscription(invoice)
        if owner:
            by_subscription_invoices.setdefault(owner, []).append(invoice)
    timelines: dict[str, list[SubscriptionTimeline]] = {}
    for subscription in subscriptions:
        timeline = build_timeline(
            subscription,
            events=by_subscription_events.get(str(subscription["id"]), ()),
            invoices=by_subscription_invoices.get(str(subscription["id"]), ()),
            catalog=catalog,
            as_of=as_of,
        )
        timelines.setdefault(timeline.customer, []).append(timeline)
    known = {str(customer["id"]): customer for customer in customers}
    return [
        build_customer(known.get(customer_id, customer_id), found, catalog=catalog)
        for customer_id, found in sorted(timelines.items())
    ]
