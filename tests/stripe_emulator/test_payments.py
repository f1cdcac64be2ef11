"""Payment methods, payment intents and charges: test cards, declines, capture, events."""

from __future__ import annotations

import pytest
import stripe

from .conftest import Connected


def _types(client: stripe.StripeClient, account: Connected) -> list[str]:
    events = client.v1.events.list({"limit": 100}, account.opts).data
    return [event.type for event in reversed(events)]


def test_confirmed_intent_charges_with_fee_and_events(
    client: stripe.StripeClient, account: Connected
) -> None:
    intent = client.v1.payment_intents.create(
        {
            "amount": 2000,
            "currency": "usd",
            "payment_method": "pm_card_visa",
            "confirm": True,
            "payment_method_types": ["card"],
        },
        account.opts,
    )
    assert intent.status == "succeeded"
    assert intent.amount_received == 2000
    assert intent.payment_method is not None
    assert intent.payment_method != "pm_card_visa"
    assert isinstance(intent.latest_charge, str)
    charge = client.v1.charges.retrieve(
        intent.latest_charge, {"expand": ["balance_transaction"]}, account.opts
    )
    assert (charge.status, charge.paid, charge.captured, charge.amount_captured) == (
        "succeeded",
        True,
        True,
        2000,
    )
    assert charge.payment_method_details is not None
    assert charge.payment_method_details.card is not None
    assert charge.payment_method_details.card.last4 == "4242"
    txn = charge.balance_transaction
    assert isinstance(txn, stripe.BalanceTransaction)
    assert (txn.amount, txn.fee, txn.net, txn.type, txn.status) == (
        2000,
        88,
        1912,
        "payment",
        "pending",
    )
    assert txn.fee_details[0].type == "stripe_fee"
    assert _types(client, account) == [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ]
    listed = client.v1.charges.list({"payment_intent": intent.id}, account.opts).data
    assert [c.id for c in listed] == [charge.id]


def test_declined_card_raises_card_error_and_keeps_the_failure(
    client: stripe.StripeClient, account: Connected
) -> None:
    intent = client.v1.payment_intents.create(
        {"amount": 1500, "currency": "usd", "payment_method_types": ["card"]}, account.opts
    )
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.confirm(
            intent.id, {"payment_method": "pm_card_chargeDeclined"}, account.opts
        )
    error = caught.value
    assert error.http_status == 402
    assert error.code == "card_declined"
    assert error.error is not None
    assert error.error.decline_code == "generic_decline"
    assert error.error.payment_intent is not None
    assert error.error.payment_intent.id == intent.id
    failed = client.v1.payment_intents.retrieve(intent.id, options=account.opts)
    assert failed.status == "requires_payment_method"
    assert failed.last_payment_error is not None
    assert failed.last_payment_error.decline_code == "generic_decline"
    assert isinstance(failed.latest_charge, str)
    charge = client.v1.charges.retrieve(failed.latest_charge, options=account.opts)
    assert (charge.status, charge.paid, charge.failure_code) == ("failed", False, "card_declined")
    assert charge.balance_transaction is None
    assert _types(client, account)[-2:] == ["charge.failed", "payment_intent.payment_failed"]


def test_insufficient_funds_decline_code(client: stripe.StripeClient, account: Connected) -> None:
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_intents.create(
            {
                "amount": 500,
                "currency": "usd",
                "payment_method": "pm_card_chargeDeclinedInsufficientFunds",
                "confirm": True,
            },
            account.opts,
        )
    assert caught.value.error is not None
    assert caught.value.error.decline_code == "insufficient_funds"


def test_manual_capture_of_part_of_the_amount(
    client: stripe.StripeClient, account: Connected
) -> None:
    intent = client.v1.payment_intents.create(
        {
            "amount": 1000,
            "currency": "eur",
            "payment_method": "pm_card_mastercard",
            "capture_method": "manual",
            "confirm": True,
        },
        account.opts,
    )
    assert (intent.status, intent.amount_capturable) == ("requires_capture", 1000)
    captured = client.v1.payment_intents.capture(
        intent.id, {"amount_to_capture": 600}, account.opts
    )
    assert (captured.status, captured.amount_received) == ("succeeded", 600)
    assert isinstance(captured.latest_charge, str)
    charge = client.v1.charges.retrieve(captured.latest_charge, options=account.opts)
    assert (charge.amount_captured, charge.amount_refunded, charge.captured) == (600, 400, True)
    assert "charge.captured" in _types(client, account)


def test_cancel_intent(client: stripe.StripeClient, account: Connected) -> None:
    intent = client.v1.payment_intents.create({"amount": 100, "currency": "usd"}, account.opts)
    canceled = client.v1.payment_intents.cancel(
        intent.id, {"cancellation_reason": "abandoned"}, account.opts
    )
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert canceled.canceled_at is not None
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(
            intent.id, {"payment_method": "pm_card_visa"}, account.opts
        )
    assert caught.value.code == "payment_intent_unexpected_state"


def test_attach_detach_and_declining_cards(client: stripe.StripeClient, account: Connected) -> None:
    customer = client.v1.customers.create({"email": "pm@x.test"}, account.opts)
    attached = client.v1.payment_methods.attach(
        "pm_card_amex", {"customer": customer.id}, account.opts
    )
    assert attached.customer == customer.id
    assert attached.card is not None
    assert attached.card.brand == "amex"
    listed = client.v1.customers.payment_methods.list(customer.id, {}, account.opts).data
    assert [pm.id for pm in listed] == [attached.id]
    with pytest.raises(stripe.CardError) as caught:
        client.v1.payment_methods.attach(
            "pm_card_chargeDeclined", {"customer": customer.id}, account.opts
        )
    assert caught.value.code == "card_declined"
    fails_later = client.v1.payment_methods.attach(
        "pm_card_chargeCustomerFail", {"customer": customer.id}, account.opts
    )
    assert fails_later.customer == customer.id
    detached = client.v1.payment_methods.detach(attached.id, options=account.opts)
    assert detached.customer is None
    types = _types(client, account)
    assert types.count("payment_method.attached") == 2
    assert "payment_method.detached" in types
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(
            {
                "amount": 700,
                "currency": "usd",
                "customer": customer.id,
                "payment_method": fails_later.id,
                "confirm": True,
            },
            account.opts,
        )


def test_setup_intent_attaches_the_card(client: stripe.StripeClient, account: Connected) -> None:
    customer = client.v1.customers.create({}, account.opts)
    setup = client.v1.setup_intents.create(
        {"customer": customer.id, "payment_method": "pm_card_visa", "confirm": True},
        account.opts,
    )
    assert setup.status == "succeeded"
    assert isinstance(setup.payment_method, str)
    card = client.v1.payment_methods.retrieve(setup.payment_method, options=account.opts)
    assert card.customer == customer.id
    with pytest.raises(stripe.CardError):
        client.v1.setup_intents.create(
            {"customer": customer.id, "payment_method": "pm_card_chargeDeclined", "confirm": True},
            account.opts,
        )
    assert "setup_intent.setup_failed" in _types(client, account)


def test_legacy_charge_with_source_token(client: stripe.StripeClient, account: Connected) -> None:
    charge = client.v1.charges.create(
        {"amount": 999, "currency": "usd", "source": "tok_visa", "description": "legacy"},
        account.opts,
    )
    assert (charge.status, charge.amount_captured, charge.payment_intent) == (
        "succeeded",
        999,
        None,
    )
    txn = client.v1.balance_transactions.retrieve(
        str(charge.balance_transaction), options=account.opts
    )
    assert (txn.type, txn.fee, txn.net) == ("charge", 59, 940)
    with pytest.raises(stripe.CardError) as caught:
        client.v1.charges.create(
            {"amount": 999, "currency": "usd", "source": "tok_chargeDeclined"}, account.opts
        )
    assert caught.value.error is not None
    assert caught.value.error.charge is not None


def test_zero_decimal_currency_fee(client: stripe.StripeClient, account: Connected) -> None:
    intent = client.v1.payment_intents.create(
        {"amount": 1000, "currency": "jpy", "payment_method": "pm_card_jp", "confirm": True},
        account.opts,
    )
    assert intent.amount_received == 1000
    txns = client.v1.balance_transactions.list({"currency": "jpy"}, account.opts).data
    assert [(t.amount, t.fee, t.net, t.currency) for t in txns] == [(1000, 29, 971, "jpy")]
    balance = client.v1.balance.retrieve(options=account.opts)
    assert [(p.amount, p.currency) for p in balance.pending] == [(971, "jpy")]
    assert [(a.amount, a.currency) for a in balance.available] == [(0, "jpy")]


def test_charge_update_emits_charge_updated(
    client: stripe.StripeClient, account: Connected
) -> None:
    charge = client.v1.charges.create(
        {"amount": 300, "currency": "usd", "source": "tok_mastercard"}, account.opts
    )
    client.v1.charges.update(charge.id, {"description": "renamed"}, account.opts)
    event = client.v1.events.list({"type": "charge.updated"}, account.opts).data[0]
    assert event.data.object["description"] == "renamed"
    assert event.data.previous_attributes is not None
    assert event.data.previous_attributes.to_dict() == {"description": None}
