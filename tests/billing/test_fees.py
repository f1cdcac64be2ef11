"""Application fees: a direct charge on a connected account pays the platform (read_write only)."""

from __future__ import annotations

import pytest

from revlens.billing.fees import FeesUnavailable, create_fee_subscription, platform_fees
from tests.billing.conftest import Platform


def _connected_catalog(platform: Platform, account: str) -> tuple[str, str]:
    """A customer with a card and a 25.00/month price, in the connected account."""
    opts = {"stripe_account": account}
    client = platform.stripe
    price = client.v1.prices.create(
        {
            "currency": "usd",
            "unit_amount": 2500,
            "recurring": {"interval": "month"},
            "product_data": {"name": "Their product"},
        },
        opts,  # type: ignore[arg-type]
    )
    customer = client.v1.customers.create(
        {
            "email": "buyer@their.example",
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        },
        opts,  # type: ignore[arg-type]
    )
    return str(customer.id), str(price.id)


def test_fee_subscription_pays_the_platform(write_platform: Platform) -> None:
    platform = write_platform
    account = platform.connect("Their Shop", scope="read_write")
    customer, price = _connected_catalog(platform, account)
    created = create_fee_subscription(
        platform.database,
        platform.clients,
        platform.settings,
        account_id=account,
        customer=customer,
        price=price,
        application_fee_percent="12.5",
    )
    assert created["status"] == "active"
    assert created["application_fee_percent"] == 12.5
    # The subscription lives in the connected account, not in the platform's.
    assert platform.stripe.v1.subscriptions.list({"customer": customer}).data == []
    fees = platform_fees(platform.settings, platform.clients)
    assert [(fee.account, fee.amount, fee.currency) for fee in fees] == [(account, 313, "usd")]
    charge = platform.stripe.v1.charges.retrieve(fees[0].charge, {}, {"stripe_account": account})
    assert (charge.amount, charge.application_fee_amount) == (2500, 313)
    # A renewal charges again, with its own fee.
    platform.advance(32 * 86400)
    fees = platform_fees(platform.settings, platform.clients)
    assert [fee.amount for fee in fees] == [313, 313]
    platform.sign_in_operator()
    page = platform.client.get("/admin")
    assert page.text.count('data-fee="fee_') == 2
    assert f"<td>{account}</td>" in page.text


def test_bad_fee_requests_are_refused_with_the_reason(write_platform: Platform) -> None:
    platform = write_platform
    narrow = platform.connect("Narrow Shop", scope="read_only")
    for percent, problem in (
        ("0", "got '0'"),
        ("101", "got '101'"),
        ("1.234", "got '1.234'"),
        ("ten", "'ten' is not a number"),
    ):
        with pytest.raises(FeesUnavailable, match=f"application_fee_percent: .*{problem}"):
            create_fee_subscription(
                platform.database,
                platform.clients,
                platform.settings,
                account_id=narrow,
                customer="cus_x",
                price="price_x",
                application_fee_percent=percent,
            )
    with pytest.raises(FeesUnavailable, match="granted read_only only; it must reconnect"):
        create_fee_subscription(
            platform.database,
            platform.clients,
            platform.settings,
            account_id=narrow,
            customer="cus_x",
            price="price_x",
            application_fee_percent="10",
        )


def test_read_only_deployments_have_no_fees_and_say_why(platform: Platform) -> None:
    account = platform.connect("Read Only Shop")
    with pytest.raises(
        FeesUnavailable, match="this deployment connects accounts with the read_only"
    ):
        create_fee_subscription(
            platform.database,
            platform.clients,
            platform.settings,
            account_id=account,
            customer="cus_x",
            price="price_x",
            application_fee_percent="10",
        )
    with pytest.raises(FeesUnavailable, match="only a read_write platform may create charges"):
        platform_fees(platform.settings, platform.clients)
