"""Reads through the SDK's transport with bodies decoded by revlens (`fetch.get_json`).

A stand-in for Stripe records what the SDK sent and answers with chosen bodies: the request must
be the SDK's own, a success decodes to plain dicts, and every failure is the SDK's error class.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import stripe
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from revlens.config import Settings
from revlens.stripe_api.budget import Budgets
from revlens.stripe_api.client import API_VERSION, StripeClients
from revlens.stripe_api.fetch import Fetcher, StripeUnavailable, get_json
from tests.live_server import live_server

ACCOUNT = "acct_1FetchTestAccount"
PAGE = {
    "object": "list",
    "url": "/v1/customers",
    "has_more": True,
    "data": [
        {"id": "cus_2", "object": "customer", "created": 20, "metadata": {"a b": "ü"}},
        {"id": "cus_1", "object": "customer", "created": 10, "address": None},
    ],
}


@pytest.fixture
def stand_in() -> Iterator[tuple[str, list[Request]]]:
    """A fake Stripe on a free port; yields its URL and the requests it received."""
    seen: list[Request] = []

    async def customers(request: Request) -> Response:
        seen.append(request)
        return JSONResponse(PAGE, headers={"Request-Id": "req_fetchtest"})

    async def broken(request: Request) -> Response:
        seen.append(request)
        return Response(b'{"object": "list", "data": [', media_type="application/json")

    async def array(request: Request) -> Response:
        seen.append(request)
        return Response(b"[1, 2]", media_type="application/json")

    async def missing(request: Request) -> Response:
        seen.append(request)
        error = {"type": "invalid_request_error", "code": "resource_missing", "message": "No such"}
        return JSONResponse({"error": error}, status_code=404)

    app = Starlette(
        routes=[
            Route("/v1/customers", customers),
            Route("/v1/broken", broken),
            Route("/v1/array", array),
            Route("/v1/customers/cus_gone", missing),
        ]
    )
    with live_server(app) as url:
        yield url, seen


@pytest.fixture
def clients(
    stand_in: tuple[str, list[Request]], make_settings: Callable[..., Settings]
) -> StripeClients:
    url, _ = stand_in
    settings = make_settings(
        REVLENS_STRIPE_SECRET_KEY="sk_test_fetchtestkey",
        REVLENS_STRIPE_API_BASE=url,
        REVLENS_STRIPE_CONNECT_BASE=url,
    )
    return StripeClients(settings)


def test_a_page_is_the_sdks_request_and_decodes_to_plain_dicts(
    stand_in: tuple[str, list[Request]], clients: StripeClients
) -> None:
    _, seen = stand_in
    body, headers = get_json(
        clients.for_account(ACCOUNT),
        "/v1/customers",
        {"limit": 100, "created": {"gte": 5, "lt": 30}, "starting_after": "cus_9"},
    )
    assert body == PAGE
    assert type(body) is dict
    assert type(body["data"][0]["metadata"]) is dict
    assert headers["Request-Id"] == "req_fetchtest"
    (request,) = seen
    assert request.method == "GET"
    assert request.headers["Stripe-Account"] == ACCOUNT
    assert request.headers["Authorization"] == "Bearer sk_test_fetchtestkey"
    assert request.headers["Stripe-Version"] == API_VERSION
    assert request.headers["User-Agent"].startswith("Stripe/v1 PythonBindings/")
    # Stripe's form encoding of nested parameters, as the SDK writes it.
    assert dict(request.query_params) == {
        "limit": "100",
        "created[gte]": "5",
        "created[lt]": "30",
        "starting_after": "cus_9",
    }


def test_the_fetcher_reads_pages_through_it(clients: StripeClients) -> None:
    fetcher = Fetcher(clients, Budgets(livemode=False))
    before = int(time.time())
    page = fetcher.list_page(ACCOUNT, "/v1/customers", {})
    assert [obj["id"] for obj in page.data] == ["cus_2", "cus_1"]
    assert page.has_more is True
    # The server's Date header: whole seconds, refreshed by uvicorn once a second.
    assert before - 2 <= page.server_time <= int(time.time())


@pytest.mark.parametrize(
    ("path", "start"),
    [("/v1/broken", b'{"object": "list", "data": ['), ("/v1/array", b"[1, 2]")],
)
def test_a_body_that_is_no_json_object_is_the_sdks_api_error(
    clients: StripeClients, path: str, start: bytes
) -> None:
    with pytest.raises(stripe.APIError) as raised:
        get_json(clients.for_account(ACCOUNT), path, {})
    assert raised.value.http_status == 200
    assert f"Invalid response body from API: {start!r}" in str(raised.value)


def test_an_error_answer_raises_the_sdks_error_class(clients: StripeClients) -> None:
    with pytest.raises(stripe.InvalidRequestError) as raised:
        get_json(clients.for_account(ACCOUNT), "/v1/customers/cus_gone", {})
    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    # The fetcher does not retry it: its policy sees the SDK's class and status.
    fetcher = Fetcher(clients, Budgets(livemode=False), sleep=lambda _: None)
    with pytest.raises(StripeUnavailable) as unavailable:
        fetcher.retrieve(ACCOUNT, "/v1/customers/cus_gone")
    assert isinstance(unavailable.value.error, stripe.InvalidRequestError)


def test_each_call_is_one_request_and_the_platform_sends_no_stripe_account(
    stand_in: tuple[str, list[Request]], clients: StripeClients
) -> None:
    _, seen = stand_in
    answers: list[Any] = [get_json(clients.platform(), "/v1/customers", {})[0] for _ in range(3)]
    assert answers == [PAGE] * 3
    assert len(seen) == 3
    assert all("Stripe-Account" not in request.headers for request in seen)
