"""Subscription changes that restart the billing cycle now: an early trial end, a new interval."""

from __future__ import annotations

import stripe

from .clocked import DAY, T0, Clocked, at, clocked

__all__ = ["clocked"]


def _lines(clocked: Clocked, invoice: stripe.Invoice) -> list[tuple[int, bool]]:
    """Return (amount, proration) per line of an invoice, in amount order."""
    lines = clocked.client.v1.invoices.line_items.list(invoice.id, {"limit": 100}, clocked.opts)
    return sorted(
        (
            line.amount,
            bool(
                line.parent is not None
                and line.parent.subscription_item_details is not None
                and line.parent.subscription_item_details.proration
            ),
        )
        for line in lines.data
    )


def test_trial_end_now_invoices_at_once_and_restarts_the_cycle(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price(1500), trial_period_days=14)
    now = T0 + 2 * DAY
    clocked.advance(now)
    updated = clocked.client.v1.subscriptions.update(sub.id, {"trial_end": "now"}, clocked.opts)
    assert (updated.status, updated.trial_end, updated.billing_cycle_anchor) == (
        "active",
        now,
        now,
    )
    item = updated["items"].data[0]
    assert (item.current_period_start, item.current_period_end) == (now, at(2024, 3, 2))
    invoices = clocked.invoices(sub.id)
    assert [(i.billing_reason, i.status, i.amount_paid, i.created) for i in invoices] == [
        ("subscription_create", "paid", 0, sub.created),
        ("subscription_update", "paid", 1500, now),
    ]
    assert updated.latest_invoice == invoices[-1].id
    changed = [
        e
        for e in clocked.events("customer.subscription.updated")
        if e.data.previous_attributes.to_dict().get("status") == "trialing"
    ]
    assert [(e.created, e.data.object["status"]) for e in changed] == [(now, "active")]
    # The trial's old end passes without an invoice; the next one comes a month after `now`.
    clocked.advance(at(2024, 3, 3))
    assert [(i.billing_reason, i.created) for i in clocked.invoices(sub.id)[2:]] == [
        ("subscription_cycle", at(2024, 3, 2))
    ]
    assert clocked.events("customer.subscription.trial_will_end") == []


def test_trial_end_now_with_a_failing_card_goes_past_due(clocked: Clocked) -> None:
    customer = clocked.customer("pm_card_chargeCustomerFail")
    sub = clocked.subscribe(customer, clocked.price(1500), trial_period_days=14)
    clocked.advance(T0 + DAY)
    updated = clocked.client.v1.subscriptions.update(sub.id, {"trial_end": "now"}, clocked.opts)
    assert updated.status == "past_due"
    latest = clocked.invoices(sub.id)[-1]
    assert (latest.billing_reason, latest.status, latest.attempt_count, latest.amount_due) == (
        "subscription_update",
        "open",
        1,
        1500,
    )
    assert latest.next_payment_attempt == T0 + DAY + 3 * DAY


def test_month_to_year_resets_the_anchor_and_invoices_now(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price(1000))
    item = sub["items"].data[0]
    yearly = clocked.price(12000, interval="year")
    now = at(2024, 2, 15)
    clocked.advance(now)
    updated = clocked.client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "price": yearly}]}, clocked.opts
    )
    assert (updated.status, updated.billing_cycle_anchor) == ("active", now)
    changed = updated["items"].data[0]
    assert (changed.price.id, changed.current_period_start, changed.current_period_end) == (
        yearly,
        now,
        at(2025, 2, 15),
    )
    latest = clocked.invoices(sub.id)[-1]
    assert (latest.billing_reason, latest.status, latest.created) == (
        "subscription_update",
        "paid",
        now,
    )
    # The unused 14 of February's 29 days of the monthly price are credited; the year is
    # charged whole, and nothing for the rest of the old month at the new price.
    credit = -round(1000 * 14 / 29)
    assert _lines(clocked, latest) == [(credit, True), (12000, False)]
    assert latest.amount_paid == 12000 + credit
    # No monthly renewals any more: the next invoice is a year after the change.
    clocked.advance(at(2024, 6, 1))
    assert clocked.invoices(sub.id)[-1].id == latest.id


def test_same_interval_price_change_keeps_the_cycle(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price(1000))
    item = sub["items"].data[0]
    clocked.advance(at(2024, 2, 15))
    updated = clocked.client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "price": clocked.price(2000)}]}, clocked.opts
    )
    assert updated.billing_cycle_anchor == sub.billing_cycle_anchor
    assert updated["items"].data[0].current_period_end == at(2024, 2, 29)
    assert [i.billing_reason for i in clocked.invoices(sub.id)] == ["subscription_create"]


def test_billing_cycle_anchor_now_credits_the_unused_time(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price(2900))
    now = at(2024, 2, 15)
    clocked.advance(now)
    updated = clocked.client.v1.subscriptions.update(
        sub.id, {"billing_cycle_anchor": "now"}, clocked.opts
    )
    assert updated.billing_cycle_anchor == now
    assert updated["items"].data[0].current_period_end == at(2024, 3, 15)
    latest = clocked.invoices(sub.id)[-1]
    assert latest.billing_reason == "subscription_update"
    assert _lines(clocked, latest) == [(-round(2900 * 14 / 29), True), (2900, False)]
