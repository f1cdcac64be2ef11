"""Authentication, `Stripe-Account` scoping and test/live separation."""

from __future__ import annotations

import base64

import httpx
import pytest
import stripe

from stripe_emulator.platform import Platform
from stripe_emulator.server import EmulatorServer
from tests.stripe_emulator.conftest import Connected


def test_missing_key_is_401_with_stripes_message(emulator_server: EmulatorServer) -> None:
    response = httpx.get(emulator_server.url + "/v1/customers")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("You did not provide an API key.")
    assert response.headers["request-id"].startswith("req_")


def test_invalid_key_is_masked_and_raises_authentication_error(
    emulator_server: EmulatorServer,
) -> None:
    bad = stripe.StripeClient(
        "sk_test_wrongwrongwrong1234", base_addresses={"api": emulator_server.url}
    )
    with pytest.raises(stripe.AuthenticationError) as caught:
        bad.v1.customers.list()
    assert "Invalid API Key provided: sk_test_***************1234" in str(caught.value)


def test_publishable_key_cannot_call_the_api(
    emulator_server: EmulatorServer, platform: Platform
) -> None:
    response = httpx.get(
        emulator_server.url + "/v1/customers",
        headers={"Authorization": f"Bearer {platform.publishable_key_test}"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "secret_key_required"


def test_basic_auth_with_key_as_username_works(
    emulator_server: EmulatorServer, platform: Platform
) -> None:
    token = base64.b64encode(f"{platform.secret_key_test}:".encode()).decode()
    response = httpx.get(
        emulator_server.url + "/v1/customers", headers={"Authorization": f"Basic {token}"}
    )
    assert response.status_code == 200
    assert response.json()["object"] == "list"


def test_unconnected_account_is_account_invalid(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.PermissionError) as caught:
        client.v1.customers.list({}, {"stripe_account": "acct_doesnotexist01"})
    assert caught.value.http_status == 403
    assert caught.value.code is None
    assert caught.value.error is not None
    assert caught.value.error.code == "account_invalid"
    assert "does not have access to account 'acct_doesnotexist01'" in str(caught.value)
    assert "Application access may have been revoked." in str(caught.value)


def test_accounts_cannot_see_each_others_objects(client: stripe.StripeClient) -> None:
    first = client.v1.accounts.create({"type": "standard"})
    second = client.v1.accounts.create({"type": "standard"})
    mine = client.v1.customers.create({"email": "a@x.test"}, {"stripe_account": first.id})
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.retrieve(mine.id, {}, {"stripe_account": second.id})
    assert caught.value.code == "resource_missing"
    assert client.v1.customers.list({}, {"stripe_account": second.id}).data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve(mine.id)  # not on the platform either
    assert client.v1.customers.retrieve(mine.id, {}, {"stripe_account": first.id}).id == mine.id


def test_test_and_live_data_are_separate(
    client: stripe.StripeClient, live_client: stripe.StripeClient, account: Connected
) -> None:
    test_customer = client.v1.customers.create({}, account.opts)
    assert test_customer.livemode is False
    # The account was connected in test mode only, so a live key cannot act as it.
    with pytest.raises(stripe.PermissionError):
        live_client.v1.customers.list({}, account.opts)
    live_customer = live_client.v1.customers.create({"email": "live@x.test"})
    assert live_customer.livemode is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.retrieve(live_customer.id)
    assert live_customer.id not in [c.id for c in client.v1.customers.list({"limit": 100})]


def test_stripe_account_naming_the_platform_itself_is_allowed(
    client: stripe.StripeClient, platform: Platform
) -> None:
    account = client.v1.accounts.retrieve_current({}, {"stripe_account": platform.account_id})
    assert account.id == platform.account_id
