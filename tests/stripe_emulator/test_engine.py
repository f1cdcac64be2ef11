"""The billing engine: what falls due as the clock moves, checked on objects and events."""

from __future__ import annotations

import stripe

from .clocked import DAY, T0, Clocked, at, clocked

__all__ = ["clocked"]


def test_quarterly_price_renews_every_three_months(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price(3000, count=3))
    clocked.advance(at(2025, 2, 1))
    assert [i.created for i in clocked.invoices(sub.id)] == [
        T0,
        at(2024, 4, 30),
        at(2024, 7, 31),
        at(2024, 10, 31),
        at(2025, 1, 31),
    ]
    assert all(i.amount_paid == 3000 for i in clocked.invoices(sub.id))


def test_future_billing_cycle_anchor_prorates_then_renews_on_it(clocked: Clocked) -> None:
    anchor = at(2024, 2, 15)
    sub = clocked.subscribe(clocked.customer(), clocked.price(2900), billing_cycle_anchor=anchor)
    assert sub.billing_cycle_anchor == anchor
    first = clocked.invoices(sub.id)[0]
    # 15 of the 31 days from 15 January to 15 February.
    assert first.amount_paid == round(2900 * 15 / 31)
    clocked.advance(at(2024, 4, 1))
    assert [i.created for i in clocked.invoices(sub.id)][1:] == [anchor, at(2024, 3, 15)]


def test_coupon_durations(clocked: Clocked) -> None:
    client, opts = clocked.client, clocked.opts
    price = clocked.price(1000)
    once = client.v1.coupons.create({"percent_off": 50, "duration": "once"}, opts)
    repeating = client.v1.coupons.create(
        {"amount_off": 300, "currency": "usd", "duration": "repeating", "duration_in_months": 2},
        opts,
    )
    forever = client.v1.coupons.create({"percent_off": 10, "duration": "forever"}, opts)
    subs = {
        name: clocked.subscribe(clocked.customer(), price, discounts=[{"coupon": coupon.id}])
        for name, coupon in (("once", once), ("repeating", repeating), ("forever", forever))
    }
    clocked.advance(at(2024, 5, 15))
    paid = {name: [i.amount_paid for i in clocked.invoices(s.id)] for name, s in subs.items()}
    assert paid == {
        "once": [500, 1000, 1000, 1000],
        "repeating": [700, 700, 1000, 1000],
        "forever": [900, 900, 900, 900],
    }


def test_trial_with_a_card_warns_then_charges(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price(1500), trial_period_days=14)
    assert sub.status == "trialing"
    clocked.advance(T0 + 11 * DAY)
    warned = clocked.events("customer.subscription.trial_will_end")
    assert [(e.data.object["id"], e.created) for e in warned] == [(sub.id, T0 + 11 * DAY)]
    assert clocked.subscription(sub.id).status == "trialing"
    clocked.advance(T0 + 15 * DAY)
    assert clocked.subscription(sub.id).status == "active"
    invoices = clocked.invoices(sub.id)
    assert [(i.billing_reason, i.amount_paid, i.created) for i in invoices] == [
        ("subscription_create", 0, T0),
        ("subscription_cycle", 1500, T0 + 14 * DAY),
    ]
    item = clocked.subscription(sub.id)["items"].data[0]
    assert item.current_period_end == at(2024, 3, 14)


def test_trial_without_a_card_pauses_when_asked(clocked: Clocked) -> None:
    sub = clocked.subscribe(
        clocked.customer(card=None),
        clocked.price(),
        trial_period_days=7,
        trial_settings={"end_behavior": {"missing_payment_method": "pause"}},
    )
    assert sub.trial_settings.end_behavior.missing_payment_method == "pause"
    clocked.advance(T0 + 8 * DAY)
    assert clocked.subscription(sub.id).status == "paused"
    assert [e.created for e in clocked.events("customer.subscription.paused")] == [T0 + 7 * DAY]
    assert len(clocked.invoices(sub.id)) == 1
    clocked.advance(T0 + 70 * DAY)  # a paused subscription does not renew
    assert len(clocked.invoices(sub.id)) == 1


def test_trial_without_a_card_by_default_invoices_and_goes_past_due(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(card=None), clocked.price(), trial_period_days=7)
    clocked.advance(T0 + 7 * DAY)
    assert clocked.subscription(sub.id).status == "past_due"
    latest = clocked.invoices(sub.id)[-1]
    assert (latest.status, latest.attempt_count, latest.next_payment_attempt) == (
        "open",
        1,
        T0 + 10 * DAY,
    )


def test_trial_without_a_card_cancels_when_asked(clocked: Clocked) -> None:
    sub = clocked.subscribe(
        clocked.customer(card=None),
        clocked.price(),
        trial_period_days=7,
        trial_settings={"end_behavior": {"missing_payment_method": "cancel"}},
    )
    clocked.advance(T0 + 8 * DAY)
    ended = clocked.subscription(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", T0 + 7 * DAY)


def test_cancel_at_period_end_ends_at_the_period_end(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price())
    clocked.advance(T0 + 5 * DAY)
    updated = clocked.client.v1.subscriptions.update(
        sub.id, {"cancel_at_period_end": True}, clocked.opts
    )
    assert (updated.cancel_at, updated.canceled_at) == (at(2024, 2, 29), T0 + 5 * DAY)
    clocked.advance(at(2024, 3, 2))
    ended = clocked.subscription(sub.id)
    assert (ended.status, ended.ended_at, ended.canceled_at) == (
        "canceled",
        at(2024, 2, 29),
        T0 + 5 * DAY,
    )
    assert len(clocked.invoices(sub.id)) == 1
    deleted = clocked.events("customer.subscription.deleted")
    assert [e.created for e in deleted] == [at(2024, 2, 29)]


def test_cancel_at_mid_period(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price(), cancel_at=T0 + 10 * DAY)
    clocked.advance(T0 + 20 * DAY)
    ended = clocked.subscription(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", T0 + 10 * DAY)


def test_pause_collection_voids_renewals_until_it_resumes(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price())
    clocked.client.v1.subscriptions.update(
        sub.id,
        {"pause_collection": {"behavior": "void", "resumes_at": at(2024, 3, 15)}},
        clocked.opts,
    )
    clocked.advance(at(2024, 4, 15))
    assert [i.status for i in clocked.invoices(sub.id)] == ["paid", "void", "paid"]
    resumed = clocked.subscription(sub.id)
    assert (resumed.status, resumed.pause_collection) == ("active", None)


def test_failing_card_is_retried_then_the_subscription_is_canceled(clocked: Clocked) -> None:
    customer = clocked.customer()
    sub = clocked.subscribe(customer, clocked.price(2000))
    clocked.set_card(customer, "pm_card_chargeCustomerFail")
    renewal = at(2024, 2, 29)
    clocked.advance(renewal)
    assert clocked.subscription(sub.id).status == "past_due"
    invoice = clocked.invoices(sub.id)[-1]
    assert (invoice.status, invoice.attempt_count, invoice.next_payment_attempt) == (
        "open",
        1,
        renewal + 3 * DAY,
    )
    clocked.advance(renewal + 14 * DAY)
    invoice = clocked.invoices(sub.id)[-1]
    assert (invoice.attempt_count, invoice.next_payment_attempt) == (3, renewal + 15 * DAY)
    clocked.advance(renewal + 16 * DAY)
    failed = [e.created for e in clocked.events("invoice.payment_failed")]
    assert failed == [renewal, renewal + 3 * DAY, renewal + 8 * DAY, renewal + 15 * DAY]
    ended = clocked.subscription(sub.id)
    assert (ended.status, ended.ended_at) == ("canceled", renewal + 15 * DAY)
    assert ended.cancellation_details.reason == "payment_failed"
    assert clocked.invoices(sub.id)[-1].status == "open"


def test_exhausted_retries_can_leave_the_subscription_unpaid(clocked: Clocked) -> None:
    account = clocked.opts["stripe_account"]
    url = f"/_emulator/accounts/{account}/billing_settings"
    changed = clocked.control.post(
        url,
        json={
            "retry_days": [2],
            "subscription_after_retries": "unpaid",
            "invoice_after_retries": "uncollectible",
        },
    )
    assert changed.json() == {
        "account": account,
        "retry_days": [2],
        "subscription_after_retries": "unpaid",
        "invoice_after_retries": "uncollectible",
    }
    assert clocked.control.post(url, json={"retry_days": [0]}).status_code == 400
    assert clocked.control.post(url, json={"colour": "red"}).status_code == 400
    assert clocked.control.get("/_emulator/accounts/acct_nope/billing_settings").status_code == 404
    customer = clocked.customer()
    sub = clocked.subscribe(customer, clocked.price(2000))
    clocked.set_card(customer, "pm_card_chargeCustomerFail")
    clocked.advance(at(2024, 3, 5))
    assert clocked.subscription(sub.id).status == "unpaid"
    assert clocked.invoices(sub.id)[-1].status == "uncollectible"
    clocked.advance(at(2024, 4, 1))  # unpaid: invoices keep coming, without a charge
    latest = clocked.invoices(sub.id)[-1]
    assert (latest.created, latest.status, latest.attempt_count) == (at(2024, 3, 31), "open", 0)
    clocked.set_card(customer, "pm_card_visa")
    clocked.client.v1.invoices.pay(latest.id, options=clocked.opts)
    assert clocked.subscription(sub.id).status == "active"


def test_failed_payment_recovers_on_a_retry(clocked: Clocked) -> None:
    customer = clocked.customer()
    sub = clocked.subscribe(customer, clocked.price(2000))
    clocked.set_card(customer, "pm_card_chargeCustomerFail")
    clocked.advance(at(2024, 3, 1))
    assert clocked.subscription(sub.id).status == "past_due"
    clocked.set_card(customer, "pm_card_visa")
    clocked.advance(at(2024, 3, 4))
    invoice = clocked.invoices(sub.id)[-1]
    assert (invoice.status, invoice.attempt_count) == ("paid", 2)
    assert invoice.status_transitions.paid_at == at(2024, 2, 29) + 3 * DAY
    assert clocked.subscription(sub.id).status == "active"


def test_incomplete_subscription_expires_after_23_hours(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer("pm_card_chargeCustomerFail"), clocked.price())
    assert sub.status == "incomplete"
    clocked.advance(T0 + 22 * 3600)
    assert clocked.subscription(sub.id).status == "incomplete"
    clocked.advance(T0 + DAY)
    expired = clocked.subscription(sub.id)
    assert (expired.status, expired.ended_at) == ("incomplete_expired", T0 + 23 * 3600)
    assert clocked.invoices(sub.id)[0].status == "void"
    listed = clocked.client.v1.subscriptions.list({"status": "incomplete_expired"}, clocked.opts)
    assert [s.id for s in listed.data] == [sub.id]


def test_renewals_take_application_fees_and_can_be_disputed(clocked: Clocked) -> None:
    customer = clocked.customer()
    clocked.subscribe(customer, clocked.price(10_000), application_fee_percent=5)
    clocked.set_card(customer, "pm_card_createDispute")
    clocked.advance(at(2024, 3, 1))
    account = clocked.opts["stripe_account"]
    fees = [f for f in clocked.client.v1.application_fees.list().data if f.account == account]
    assert [f.amount for f in fees] == [500, 500]
    disputes = clocked.client.v1.disputes.list(options=clocked.opts).data
    assert [d.amount for d in disputes] == [10_000]
    assert disputes[0].created == at(2024, 2, 29)


def test_quantity_change_prorates_into_the_next_renewal(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price(3000))
    item = sub["items"].data[0]
    clocked.advance(T0 + 14 * DAY)
    clocked.client.v1.subscriptions.update(
        sub.id, {"items": [{"id": item.id, "quantity": 2}]}, clocked.opts
    )
    clocked.advance(at(2024, 3, 1))
    renewal = clocked.invoices(sub.id)[-1]
    lines = clocked.client.v1.invoices.line_items.list(
        renewal.id, {"limit": 100}, clocked.opts
    ).data
    prorations = sorted(
        line.amount
        for line in lines
        if line.parent is not None
        and line.parent.subscription_item_details is not None
        and line.parent.subscription_item_details.proration
    )
    # 15 of the 29 days of February are left after 14 February.
    assert prorations == [-round(3000 * 15 / 29), round(6000 * 15 / 29)]
    assert renewal.subtotal == 6000 + sum(prorations)


def test_the_ticker_runs_due_work_in_wall_clock_time(clocked: Clocked) -> None:
    sub = clocked.subscribe(clocked.customer(), clocked.price())
    engine = clocked.server.emulator.engine
    clocked.advance(at(2024, 2, 28, 23))
    assert engine.tick() == 0
    clocked.control.post("/_emulator/clock/advance", json={"by": 0})  # runs on from here
    clock = clocked.server.emulator.clock
    clock.advance(3600)  # an hour of wall time, as the ticker would see it
    assert engine.tick() == 1
    assert clocked.invoices(sub.id)[-1].billing_reason == "subscription_cycle"
    assert isinstance(clocked.subscription(sub.id), stripe.Subscription)
