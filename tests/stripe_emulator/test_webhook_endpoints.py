"""Webhook endpoints: CRUD, the secret shown once, the Connect flag."""

from __future__ import annotations

import httpx
import pytest
import stripe

from .conftest import Connected


def test_create_returns_secret_once(client: stripe.StripeClient, account: Connected) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        {
            "url": "https://example.test/hooks",
            "enabled_events": ["invoice.paid", "customer.subscription.updated"],
            "description": "mirror",
        },
        account.opts,
    )
    assert endpoint.id.startswith("we_")
    assert endpoint.secret is not None
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.status == "enabled"
    assert endpoint.enabled_events == ["invoice.paid", "customer.subscription.updated"]
    fetched = client.v1.webhook_endpoints.retrieve(endpoint.id, options=account.opts)
    assert "secret" not in fetched
    assert fetched.url == "https://example.test/hooks"
    listed = client.v1.webhook_endpoints.list({}, account.opts).data
    assert [e.id for e in listed] == [endpoint.id]
    assert "secret" not in listed[0]


def test_update_disable_and_delete(client: stripe.StripeClient, account: Connected) -> None:
    endpoint = client.v1.webhook_endpoints.create(
        {"url": "https://example.test/a", "enabled_events": ["*"]}, account.opts
    )
    updated = client.v1.webhook_endpoints.update(
        endpoint.id,
        {"disabled": True, "url": "https://example.test/b", "enabled_events": ["charge.failed"]},
        account.opts,
    )
    assert (updated.status, updated.url, updated.enabled_events) == (
        "disabled",
        "https://example.test/b",
        ["charge.failed"],
    )
    deleted = client.v1.webhook_endpoints.delete(endpoint.id, options=account.opts)
    assert deleted.deleted is True
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.webhook_endpoints.retrieve(endpoint.id, options=account.opts)


def test_connect_flag_is_accepted_and_kept_private(http: httpx.Client) -> None:
    created = http.post(
        "/v1/webhook_endpoints",
        data={"url": "https://example.test/c", "enabled_events[0]": "*", "connect": "true"},
    ).json()
    assert "connect" not in created
    row = http.get(f"/v1/webhook_endpoints/{created['id']}").json()
    assert "connect" not in row
    http.delete(f"/v1/webhook_endpoints/{created['id']}")


def test_bad_url_and_missing_events_are_rejected(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.webhook_endpoints.create({"url": "ftp://x", "enabled_events": ["*"]})
    assert caught.value.param == "url"
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.webhook_endpoints.create({"url": "https://x.test"})  # type: ignore[typeddict-item]
    assert missing.value.param == "enabled_events"
