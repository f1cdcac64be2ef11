"""Refunds, disputes, application fees and the balance they move."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import stripe

from stripe_emulator.server import EmulatorServer

from .conftest import Connected, make_client


def _pay(
    client: stripe.StripeClient, account: Connected, card: str = "pm_card_visa", **extra: object
) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        {"amount": 5000, "currency": "usd", "payment_method": card, "confirm": True, **extra},  # type: ignore[arg-type]
        account.opts,
    )


def test_partial_then_full_refund(client: stripe.StripeClient, account: Connected) -> None:
    intent = _pay(client, account)
    first = client.v1.refunds.create(
        {"payment_intent": intent.id, "amount": 1500, "reason": "requested_by_customer"},
        account.opts,
    )
    assert (first.amount, first.status, first.reason) == (
        1500,
        "succeeded",
        "requested_by_customer",
    )
    charge = client.v1.charges.retrieve(str(intent.latest_charge), options=account.opts)
    assert (charge.amount_refunded, charge.refunded) == (1500, False)
    rest = client.v1.refunds.create({"charge": charge.id}, account.opts)
    assert rest.amount == 3500
    charge = client.v1.charges.retrieve(charge.id, {"expand": ["refunds"]}, account.opts)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    assert charge.refunds is not None
    assert [r.id for r in charge.refunds.data] == [rest.id, first.id]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create({"charge": charge.id}, account.opts)
    txn = client.v1.balance_transactions.retrieve(
        str(first.balance_transaction), options=account.opts
    )
    assert (txn.type, txn.amount, txn.fee, txn.net) == ("refund", -1500, 0, -1500)
    refunded = client.v1.events.list({"type": "charge.refunded"}, account.opts).data
    assert len(refunded) == 2
    assert refunded[0].data.object["refunded"] is True
    assert refunded[0].data.previous_attributes is not None
    assert refunded[0].data.previous_attributes.to_dict() == {
        "amount_refunded": 1500,
        "refunded": False,
    }
    assert len(client.v1.refunds.list({"charge": charge.id}, account.opts).data) == 2
    # In lists too, `refunds` is there only when expanded.
    listed = client.v1.charges.list({"limit": 100}, account.opts).data
    assert [c.id for c in listed if c.id == charge.id] == [charge.id]
    assert all("refunds" not in c for c in listed)
    expanded = client.v1.charges.list({"expand": ["data.refunds"]}, account.opts).data
    (ours,) = [c for c in expanded if c.id == charge.id]
    assert [r.id for r in ours.refunds.data] == [rest.id, first.id]
    assert all(c.refunds.data == [] for c in expanded if c.id != charge.id)


def test_dispute_card_opens_dispute_with_fee(
    client: stripe.StripeClient, account: Connected
) -> None:
    intent = _pay(client, account, "pm_card_createDispute")
    assert intent.status == "succeeded"
    disputes = client.v1.disputes.list({"payment_intent": intent.id}, account.opts).data
    assert len(disputes) == 1
    dispute = disputes[0]
    assert (dispute.status, dispute.reason, dispute.amount) == (
        "needs_response",
        "fraudulent",
        5000,
    )
    withdrawal = dispute.balance_transactions[0]
    assert (withdrawal.amount, withdrawal.fee, withdrawal.net, withdrawal.type) == (
        -5000,
        1500,
        -6500,
        "adjustment",
    )
    charge = client.v1.charges.retrieve(str(intent.latest_charge), options=account.opts)
    assert charge.disputed is True
    closed = client.v1.disputes.close(dispute.id, options=account.opts)
    assert closed.status == "lost"
    types = [e.type for e in client.v1.events.list({"type": "charge.dispute.*"}, account.opts).data]
    assert types == [
        "charge.dispute.closed",
        "charge.dispute.funds_withdrawn",
        "charge.dispute.created",
    ]


def test_winning_evidence_reinstates_funds(client: stripe.StripeClient, account: Connected) -> None:
    intent = _pay(client, account, "pm_card_createDispute")
    dispute = client.v1.disputes.list({"payment_intent": intent.id}, account.opts).data[0]
    won = client.v1.disputes.update(
        dispute.id, {"evidence": {"uncategorized_text": "winning_evidence"}}, account.opts
    )
    assert won.status == "won"
    assert [t.amount for t in won.balance_transactions] == [-5000, 5000]
    assert won.evidence_details.submission_count == 1
    types = [e.type for e in client.v1.events.list({"type": "charge.dispute.*"}, account.opts).data]
    assert types[:3] == [
        "charge.dispute.closed",
        "charge.dispute.funds_reinstated",
        "charge.dispute.updated",
    ]


def test_application_fee_visible_on_platform_only(
    client: stripe.StripeClient, account: Connected
) -> None:
    intent = _pay(client, account, application_fee_amount=250)
    charge = client.v1.charges.retrieve(str(intent.latest_charge), options=account.opts)
    assert charge.application_fee_amount == 250
    assert isinstance(charge.application_fee, str)
    assert client.v1.application_fees.list({}, account.opts).data == []
    fee = client.v1.application_fees.retrieve(
        charge.application_fee, {"expand": ["balance_transaction"]}
    )
    assert (fee.amount, fee.account, fee.charge, fee.refunded) == (
        250,
        account.id,
        charge.id,
        False,
    )
    txn = fee.balance_transaction
    assert isinstance(txn, stripe.BalanceTransaction)
    assert (txn.type, txn.amount, txn.net) == ("application_fee", 250, 250)
    listed = client.v1.application_fees.list({"charge": charge.id}).data
    assert [f.id for f in listed] == [fee.id]
    connected_txn = client.v1.balance_transactions.retrieve(
        str(charge.balance_transaction), options=account.opts
    )
    assert connected_txn.fee == 175 + 250
    assert [d.type for d in connected_txn.fee_details] == ["stripe_fee", "application_fee"]
    platform_event = client.v1.events.list({"type": "application_fee.created", "limit": 5}).data
    assert any(e.data.object["id"] == fee.id for e in platform_event)
    refund = client.v1.refunds.create(
        {"charge": charge.id, "amount": 2500, "refund_application_fee": True}, account.opts
    )
    assert refund.amount == 2500
    fee = client.v1.application_fees.retrieve(fee.id)
    assert (fee.amount_refunded, fee.refunded) == (125, False)


def test_application_fee_needs_a_connected_account(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(
            {"amount": 100, "currency": "usd", "application_fee_amount": 10}
        )
    assert caught.value.param == "application_fee_amount"


def test_balance_becomes_available_when_the_clock_passes(
    make_server: object,
) -> None:
    server: EmulatorServer = make_server(now=1_800_000_000)  # type: ignore[operator]
    client = make_client(server)
    client.v1.payment_intents.create(
        {"amount": 1000, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True}
    )
    balance = client.v1.balance.retrieve()
    assert [(b.amount, b.currency) for b in balance.pending] == [(941, "usd")]
    assert balance.available[0].amount == 0
    server.emulator.clock.advance(3 * 86400)  # type: ignore[attr-defined]
    balance = client.v1.balance.retrieve()
    assert balance.available[0].amount == 941
    assert balance.pending[0].amount == 0
    txn = client.v1.balance_transactions.list({}).data[0]
    assert txn.status == "available"


def test_fee_model_is_configurable(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(control=True)
    with httpx.Client(base_url=server.url) as control:
        assert control.get("/_emulator/fees").json() == {
            "percent": "2.9",
            "fixed": 30,
            "dispute_fee": 1500,
        }
        changed = control.post("/_emulator/fees", json={"percent": 1.5, "fixed": 0})
        assert changed.json()["percent"] == "1.5"
        assert control.post("/_emulator/fees", json={"bogus": 1}).status_code == 400
    client = make_client(server)
    charge = client.v1.charges.create({"amount": 1000, "currency": "usd", "source": "tok_visa"})
    txn = client.v1.balance_transactions.retrieve(str(charge.balance_transaction))
    assert (txn.fee, txn.net) == (15, 985)
