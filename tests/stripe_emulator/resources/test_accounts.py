"""Accounts: the platform, connected accounts, and deletion cutting the connection."""

from __future__ import annotations

import pytest
import stripe

from stripe_emulator.platform import Platform


def test_platform_account(client: stripe.StripeClient, platform: Platform) -> None:
    account = client.v1.accounts.retrieve_current()
    assert account.id == platform.account_id
    assert account.object == "account"


def test_create_retrieve_update_list_connected_account(client: stripe.StripeClient) -> None:
    created = client.v1.accounts.create(
        {
            "type": "standard",
            "country": "GB",
            "email": "owner@x.test",
            "business_profile": {"name": "Acme Ltd"},
        }
    )
    assert created.id.startswith("acct_")
    assert created.type == "standard"
    assert (created.country, created.default_currency, created.email) == (
        "GB",
        "gbp",
        "owner@x.test",
    )
    assert created.settings is not None
    assert created.settings.dashboard is not None
    assert created.settings.dashboard.display_name == "Acme Ltd"
    assert created.business_profile is not None
    assert created.business_profile.name == "Acme Ltd"
    assert created.charges_enabled is True
    as_itself = client.v1.accounts.retrieve_current({}, {"stripe_account": created.id})
    assert as_itself.id == created.id
    updated = client.v1.accounts.update(
        created.id,
        {"metadata": {"tier": "gold"}, "settings": {"dashboard": {"display_name": "Acme"}}},
    )
    assert updated.metadata.to_dict() == {"tier": "gold"}
    assert updated.settings is not None
    assert updated.settings.dashboard is not None
    assert updated.settings.dashboard.display_name == "Acme"
    assert created.id in [a.id for a in client.v1.accounts.list({"limit": 100})]
    express = client.v1.accounts.create({"type": "express"})
    assert express.type == "express"
    assert express.charges_enabled is False


def test_deleting_an_account_revokes_access(client: stripe.StripeClient) -> None:
    account = client.v1.accounts.create({"type": "standard"})
    client.v1.customers.create({}, {"stripe_account": account.id})
    deleted = client.v1.accounts.delete(account.id)
    assert deleted.to_dict() == {"id": account.id, "object": "account", "deleted": True}
    with pytest.raises(stripe.PermissionError) as caught:
        client.v1.customers.list({}, {"stripe_account": account.id})
    assert caught.value.error is not None
    assert caught.value.error.code == "account_invalid"
    assert account.id not in [a.id for a in client.v1.accounts.list({"limit": 100})]


def test_connection_revocation_hook_for_later_oauth(
    client: stripe.StripeClient, emulator_server: object
) -> None:
    from stripe_emulator.server import EmulatorServer

    assert isinstance(emulator_server, EmulatorServer)
    account = client.v1.accounts.create({"type": "standard"})
    emulator = emulator_server.emulator
    assert emulator.connections.revoke(account.id, now=emulator.clock.now()) is True
    with pytest.raises(stripe.PermissionError):
        client.v1.accounts.retrieve(account.id)
