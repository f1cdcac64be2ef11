"""The wire layer: headers, unknown URLs and params, idempotency, malformed input."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import httpx
import pytest
import stripe
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stripe_emulator.config import PINNED_API_VERSION
from tests.stripe_emulator.conftest import Connected


def test_every_response_has_request_id_and_json(http: httpx.Client) -> None:
    for response in (
        http.get("/v1/customers"),
        http.get("/v1/nope"),
        http.post("/v1/customers", data={"bogus": "1"}),
    ):
        assert response.headers["request-id"].startswith("req_")
        assert response.headers["content-type"] == "application/json"
        assert response.headers["stripe-version"] == PINNED_API_VERSION


def test_stripe_version_header_is_accepted_and_ignored(http: httpx.Client) -> None:
    response = http.get("/v1/customers", headers={"Stripe-Version": "2020-08-27"})
    assert response.status_code == 200
    assert response.headers["stripe-version"] == PINNED_API_VERSION


def test_unknown_url_is_stripes_404(http: httpx.Client) -> None:
    response = http.get("/v1/widgets")
    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith(
        "Unrecognized request URL (GET: /v1/widgets)."
    )


def test_unknown_parameter_is_rejected_with_param(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.customers.create({"colour": "red"})  # type: ignore[typeddict-unknown-key]
    assert caught.value.code == "parameter_unknown"
    assert caught.value.param == "colour"
    assert caught.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as nested:
        client.v1.customers.create({"address": {"planet": "Mars"}})  # type: ignore[typeddict-unknown-key]
    assert nested.value.param == "address[planet]"


def test_error_envelope_has_doc_url_and_request_log_url(http: httpx.Client) -> None:
    error = http.get("/v1/customers/cus_missing").json()["error"]
    assert error == {
        "code": "resource_missing",
        "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
        "message": "No such customer: 'cus_missing'",
        "param": "id",
        "request_log_url": error["request_log_url"],
        "type": "invalid_request_error",
    }
    assert error["request_log_url"].startswith("https://dashboard.stripe.com/test/logs/req_")


def test_idempotent_replay_returns_the_stored_response(http: httpx.Client) -> None:
    key = str(uuid.uuid4())
    first = http.post("/v1/customers", data={"email": "i@x.test"}, headers={"Idempotency-Key": key})
    again = http.post("/v1/customers", data={"email": "i@x.test"}, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["original-request"] == first.headers["request-id"]
    assert "idempotent-replayed" not in first.headers


def test_idempotency_key_reused_with_other_params_is_an_error(client: stripe.StripeClient) -> None:
    key = str(uuid.uuid4())
    client.v1.customers.create({"email": "one@x.test"}, {"idempotency_key": key})
    with pytest.raises(stripe.IdempotencyError) as caught:
        client.v1.customers.create({"email": "two@x.test"}, {"idempotency_key": key})
    assert caught.value.http_status == 400
    assert f"Try using a key other than '{key}'" in str(caught.value)


def test_idempotency_keys_are_scoped_per_account(
    client: stripe.StripeClient, account: Connected
) -> None:
    key = str(uuid.uuid4())
    on_platform = client.v1.customers.create({"email": "a@x.test"}, {"idempotency_key": key})
    on_account = client.v1.customers.create(
        {"email": "b@x.test"}, {"idempotency_key": key, **account.opts}
    )
    assert on_platform.id != on_account.id


def test_failed_validation_is_not_remembered(http: httpx.Client) -> None:
    key = str(uuid.uuid4())
    bad = http.post("/v1/customers", data={"bogus": "1"}, headers={"Idempotency-Key": key})
    good = http.post("/v1/customers", data={"bogus": "1"}, headers={"Idempotency-Key": key})
    assert bad.status_code == good.status_code == 400
    assert "idempotent-replayed" not in good.headers


def test_sdk_retry_with_same_key_does_not_create_twice(
    client: stripe.StripeClient, account: Connected
) -> None:
    key = str(uuid.uuid4())
    first = client.v1.customers.create({"name": "once"}, {"idempotency_key": key, **account.opts})
    second = client.v1.customers.create({"name": "once"}, {"idempotency_key": key, **account.opts})
    assert first.id == second.id
    assert len(client.v1.customers.list({}, account.opts).data) == 1


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.binary(max_size=300),
    path=st.sampled_from(
        ["/v1/customers", "/v1/prices", "/v1/coupons", "/v1/products", "/v1/accounts"]
    ),
)
def test_arbitrary_bodies_never_crash_the_emulator(
    http: httpx.Client, body: bytes, path: str
) -> None:
    response = http.post(
        path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code in (200, 400, 404)
    assert "error" in response.json() or response.status_code == 200


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(query=st.text(max_size=80))
def test_arbitrary_list_queries_never_crash_the_emulator(http: httpx.Client, query: str) -> None:
    response = http.get("/v1/customers?" + quote(query, safe="=&[]"))
    assert response.status_code in (200, 400, 404)
    assert response.json()["object"] == "list" if response.status_code == 200 else True
