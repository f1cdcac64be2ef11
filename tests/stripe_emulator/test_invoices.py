"""Invoice items and invoices: drafts, totals, finalize, pay, void, paging, and renewals."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe

from stripe_emulator.billing.lifecycle import renew
from stripe_emulator.billing.system import system_ctx
from stripe_emulator.resources.crud import load
from stripe_emulator.resources.subscriptions import SUBSCRIPTION
from stripe_emulator.server import EmulatorServer
from stripe_emulator.store import Scope

from .conftest import Connected, make_client


def _customer(client: stripe.StripeClient, account: Connected, card: str = "pm_card_visa") -> str:
    customer = client.v1.customers.create({"name": "Inv"}, account.opts)
    method = client.v1.payment_methods.attach(card, {"customer": customer.id}, account.opts)
    client.v1.customers.update(
        customer.id, {"invoice_settings": {"default_payment_method": method.id}}, account.opts
    )
    return customer.id


def _draft(client: stripe.StripeClient, account: Connected, customer: str) -> stripe.Invoice:
    client.v1.invoice_items.create(
        {"customer": customer, "amount": 1200, "currency": "usd", "description": "Setup"},
        account.opts,
    )
    client.v1.invoice_items.create(
        {"customer": customer, "amount": 800, "currency": "usd"}, account.opts
    )
    return client.v1.invoices.create(
        {"customer": customer, "pending_invoice_items_behavior": "include"}, account.opts
    )


def test_draft_finalize_pay(client: stripe.StripeClient, account: Connected) -> None:
    customer = _customer(client, account)
    draft = _draft(client, account, customer)
    assert (draft.status, draft.billing_reason, draft.total, draft.number) == (
        "draft",
        "manual",
        2000,
        None,
    )
    assert sorted(line.amount for line in draft.lines.data) == [800, 1200]
    assert client.v1.invoice_items.list({"pending": True}, account.opts).data == []
    finalized = client.v1.invoices.finalize_invoice(draft.id, options=account.opts)
    assert finalized.status == "open"
    assert finalized.number is not None
    assert finalized.number.endswith("-0001")
    assert finalized.status_transitions.finalized_at is not None
    paid = client.v1.invoices.pay(draft.id, options=account.opts)
    assert (paid.status, paid.amount_paid, paid.amount_remaining) == ("paid", 2000, 0)
    assert paid.status_transitions.paid_at is not None
    types = [e.type for e in client.v1.events.list({"type": "invoice.*"}, account.opts).data]
    assert types == [
        "invoice.payment_succeeded",
        "invoice.paid",
        "invoice.finalized",
        "invoice.created",
    ]
    items = client.v1.invoice_items.list({"invoice": draft.id}, account.opts).data
    assert len(items) == 2
    # `payments` is left out unless expanded, in a retrieve as in a list.
    assert "payments" not in client.v1.invoices.retrieve(draft.id, options=account.opts)
    listed = client.v1.invoices.list({"customer": customer}, account.opts).data
    assert [i.id for i in listed] == [draft.id]
    assert "payments" not in listed[0]
    assert [line.amount for line in listed[0].lines.data] == [
        line.amount for line in draft.lines.data
    ]


def test_declined_payment_keeps_the_invoice_open(
    client: stripe.StripeClient, account: Connected
) -> None:
    customer = _customer(client, account, "pm_card_chargeCustomerFail")
    draft = _draft(client, account, customer)
    client.v1.invoices.finalize_invoice(draft.id, options=account.opts)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.invoices.pay(draft.id, options=account.opts)
    assert caught.value.error is not None
    assert caught.value.error.decline_code == "generic_decline"
    invoice = client.v1.invoices.retrieve(draft.id, options=account.opts)
    assert (invoice.status, invoice.attempt_count, invoice.attempted) == ("open", 1, True)
    failed = client.v1.events.list({"type": "invoice.payment_failed"}, account.opts).data
    assert failed[0].data.object["attempt_count"] == 1


def test_void_uncollectible_delete_and_out_of_band(
    client: stripe.StripeClient, account: Connected
) -> None:
    customer = _customer(client, account)
    first = _draft(client, account, customer)
    client.v1.invoices.finalize_invoice(first.id, options=account.opts)
    voided = client.v1.invoices.void_invoice(first.id, options=account.opts)
    assert voided.status == "void"
    assert voided.status_transitions.voided_at is not None
    second = _draft(client, account, customer)
    client.v1.invoices.finalize_invoice(second.id, options=account.opts)
    lost = client.v1.invoices.mark_uncollectible(second.id, options=account.opts)
    assert lost.status == "uncollectible"
    recovered = client.v1.invoices.pay(second.id, {"paid_out_of_band": True}, account.opts)
    assert recovered.status == "paid"
    third = client.v1.invoices.create({"customer": customer}, account.opts)
    deleted = client.v1.invoices.delete(third.id, options=account.opts)
    assert deleted.deleted is True
    types = [e.type for e in client.v1.events.list({"limit": 100}, account.opts).data]
    for wanted in ("invoice.voided", "invoice.marked_uncollectible", "invoice.deleted"):
        assert wanted in types
    statuses = {
        i.id: i.status for i in client.v1.invoices.list({"customer": customer}, account.opts).data
    }
    assert statuses == {first.id: "void", second.id: "paid"}
    assert [i.id for i in client.v1.invoices.list({"status": "void"}, account.opts).data] == [
        first.id
    ]


def test_invoice_item_events_and_editing(client: stripe.StripeClient, account: Connected) -> None:
    customer = _customer(client, account)
    item = client.v1.invoice_items.create(
        {"customer": customer, "amount": 500, "currency": "eur"}, account.opts
    )
    assert (item.amount, item.proration, item.invoice) == (500, False, None)
    client.v1.invoice_items.delete(item.id, options=account.opts)
    types = [e.type for e in client.v1.events.list({"type": "invoiceitem.*"}, account.opts).data]
    assert types == ["invoiceitem.deleted", "invoiceitem.created"]


def test_invoice_with_twelve_lines_pages(client: stripe.StripeClient, account: Connected) -> None:
    customer = _customer(client, account)
    for n in range(12):
        client.v1.invoice_items.create(
            {"customer": customer, "amount": 100 + n, "currency": "usd"}, account.opts
        )
    invoice = client.v1.invoices.create(
        {"customer": customer, "pending_invoice_items_behavior": "include"}, account.opts
    )
    assert (len(invoice.lines.data), invoice.lines.has_more) == (10, True)
    assert invoice.lines.url == f"/v1/invoices/{invoice.id}/lines"
    page = client.v1.invoices.line_items.list(invoice.id, {"limit": 5}, account.opts)
    amounts = [line.amount for line in page.auto_paging_iter()]
    assert sorted(amounts) == [100 + n for n in range(12)]
    assert invoice.total == sum(amounts)


def test_renewal_by_the_engine(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(now=1_800_000_000)
    client = make_client(server)
    account = Connected("", {})
    customer = _customer(client, account)
    product = client.v1.products.create({"name": "Gold"})
    price = client.v1.prices.create(
        {
            "product": product.id,
            "unit_amount": 1000,
            "currency": "usd",
            "recurring": {"interval": "month"},
        }
    )
    sub = client.v1.subscriptions.create({"customer": customer, "items": [{"price": price.id}]})
    end = sub["items"].data[0].current_period_end
    emulator = server.emulator
    emulator.clock.advance(end - emulator.clock.now())  # type: ignore[attr-defined]
    scope = Scope(emulator.platform.account_id, False)
    ctx = system_ctx(emulator, scope)
    with emulator.store.transaction():
        invoice = renew(ctx, load(ctx, SUBSCRIPTION, sub.id))
    assert invoice is not None
    renewed = client.v1.invoices.retrieve(invoice["id"])
    assert (renewed.billing_reason, renewed.status, renewed.amount_paid) == (
        "subscription_cycle",
        "paid",
        1000,
    )
    assert renewed.lines.data[0].period.start == end
    item = client.v1.subscriptions.retrieve(sub.id)["items"].data[0]
    assert item.current_period_start == end
    event = client.v1.events.list({"type": "invoice.paid", "limit": 1}).data[0]
    assert event["request"]["id"] is None
    assert event["request"]["idempotency_key"] is None
    client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    emulator.clock.advance(item.current_period_end - emulator.clock.now())  # type: ignore[attr-defined]
    with emulator.store.transaction():
        assert renew(ctx, load(ctx, SUBSCRIPTION, sub.id)) is None
    ended = client.v1.subscriptions.retrieve(sub.id)
    assert ended.status == "canceled"
    assert ended.ended_at == item.current_period_end
