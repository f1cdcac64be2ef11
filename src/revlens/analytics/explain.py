"""Explanations: what changed in a customer's subscriptions between two instants, and why."""

from __future__ import annotations

from dataclasses import dataclass

from revlens.analytics import discounts
from revlens.analytics.model import CustomerHistory, Discount, Instant, Item, Span
from revlens.analytics.mrr import (
    cadence_of,
    contributes,
    effective_instant,
    span_at,
    subscription_mrr,
)
from revlens.analytics.presets import MetricSettings


@dataclass(frozen=True, slots=True)
class Change:
    """One reason for a movement: a field of a subscription (or item) went from before to after.

    `field` is one of subscription, status, past_due_grace, item, price, quantity, discount,
    amount; `sources` are the Stripe event, invoice or subscription ids behind the new state.
    """

    subscription: str
    field: str
    before: str | None
    after: str | None
    item: str | None = None
    sources: tuple[str, ...] = ()


def _item_label(item: Item) -> str:
    return f"{item.price.id} x {item.quantity}"


def _discount_label(
    found: tuple[Discount, ...], settings: MetricSettings, at: Instant, span: Span
) -> str:
    cadence = cadence_of(span)
    counted = [d.id for d in found if discounts.counts(d, settings.discount_rule, at, cadence)]
    return ",".join(counted)


def _span_changes(
    subscription: str,
    old: Span,
    new: Span,
    settings: MetricSettings,
    instants: tuple[Instant, Instant],
) -> list[Change]:
    sources = new.sources
    changes: list[Change] = []
    if old.status is not new.status:
        changes.append(Change(subscription, "status", old.status, new.status, sources=sources))
    elif contributes(old, instants[0], settings) != contributes(new, instants[1], settings):
        changes.append(
            Change(subscription, "past_due_grace", "counted", "not counted", sources=sources)
        )
    old_items = {item.id: item for item in old.items}
    new_items = {item.id: item for item in new.items}
    for item_id in old_items.keys() | new_items.keys():
        was, now = old_items.get(item_id), new_items.get(item_id)
        if was is None or now is None:
            changes.append(
                Change(
                    subscription,
                    "item",
                    _item_label(was) if was else None,
                    _item_label(now) if now else None,
                    item=item_id,
                    sources=sources,
                )
            )
            continue
        if was.price.id != now.price.id:
            changes.append(
                Change(subscription, "price", was.price.id, now.price.id, item_id, sources)
            )
        if was.quantity != now.quantity:
            changes.append(
                Change(
                    subscription, "quantity", str(was.quantity), str(now.quantity), item_id, sources
                )
            )
        old_label = _discount_label(was.discounts, settings, instants[0], old)
        new_label = _discount_label(now.discounts, settings, instants[1], new)
        if old_label != new_label:
            changes.append(Change(subscription, "discount", old_label, new_label, item_id, sources))
    old_label = _discount_label(old.discounts, settings, instants[0], old)
    new_label = _discount_label(new.discounts, settings, instants[1], new)
    if old_label != new_label:
        changes.append(Change(subscription, "discount", old_label, new_label, sources=sources))
    return changes


def explain_day(
    customer: CustomerHistory, settings: MetricSettings, before: Instant, after: Instant
) -> tuple[Change, ...]:
    """Return the changes that moved the customer's MRR between two instants."""
    changes: list[Change] = []
    for timeline in customer.subscriptions:
        old_value = subscription_mrr(timeline, before, settings, customer.discounts)
        new_value = subscription_mrr(timeline, after, settings, customer.discounts)
        if old_value == new_value:
            continue
        instants = (
            effective_instant(timeline, before, settings),
            effective_instant(timeline, after, settings),
        )
        old, new = span_at(timeline, instants[0]), span_at(timeline, instants[1])
        found: list[Change] = []
        if old is None and new is not None:
            found.append(Change(timeline.id, "subscription", None, new.status, sources=new.sources))
        elif new is None and old is not None:
            found.append(Change(timeline.id, "subscription", old.status, None, sources=old.sources))
        elif old is not None and new is not None:
            found = _span_changes(timeline.id, old, new, settings, instants)
        if not found:  # e.g. a customer discount ended, or a new FX period began
            sources = new.sources if new is not None else ()
            found.append(
                Change(timeline.id, "amount", str(old_value), str(new_value), sources=sources)
            )
        changes.extend(found)
    return tuple(changes)
