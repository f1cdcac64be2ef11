"""Every response shape the emulator produces validates against Stripe's OpenAPI spec."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from tests.conftest import require_shared
from tests.contract.spec_schemas import Spec, load_spec


@pytest.fixture(scope="module")
def spec() -> Spec:
    """Return the loaded spec (skips when ../shared is absent)."""
    return load_spec(require_shared("stripe-oracles/openapi/spec3.2023-08-16.yaml"))


@pytest.fixture(scope="module")
def responses() -> list[tuple[str, str, int, Any]]:
    """Drive every emulated endpoint once and record (method, path, status, body)."""
    seen: list[tuple[str, str, int, Any]] = []
    with EmulatorServer(EmulatorConfig()) as server:
        key = server.emulator.platform.secret_key_test
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}) as c:

            def call(
                method: str,
                path: str,
                data: dict[str, Any] | None = None,
                params: dict[str, Any] | None = None,
                account: str | None = None,
            ) -> Any:
                headers = {"Stripe-Account": account} if account else {}
                response = c.request(method, path, data=data, params=params, headers=headers)
                seen.append((method, path, response.status_code, response.json()))
                return response.json()

            _scenario(call)
    return seen


def _scenario(call: Any) -> None:
    account = call(
        "POST",
        "/v1/accounts",
        {"type": "standard", "email": "o@x.test", "business_profile[name]": "Acme"},
    )["id"]
    call("GET", "/v1/account")
    call("GET", f"/v1/accounts/{account}")
    call("POST", f"/v1/accounts/{account}", {"metadata[k]": "v"})
    call("GET", "/v1/accounts")
    coupon = call(
        "POST",
        "/v1/coupons",
        {"percent_off": "20", "duration": "repeating", "duration_in_months": "3"},
        account=account,
    )["id"]
    call("POST", "/v1/coupons", {"amount_off": "500", "currency": "usd"}, account=account)
    call("GET", f"/v1/coupons/{coupon}", account=account)
    call("POST", f"/v1/coupons/{coupon}", {"name": "twenty"}, account=account)
    call("GET", "/v1/coupons", account=account)
    customer = call(
        "POST",
        "/v1/customers",
        {
            "email": "c@x.test",
            "name": "C",
            "address[city]": "Paris",
            "coupon": coupon,
            "shipping[name]": "C",
            "shipping[address][city]": "Paris",
            "metadata[a]": "b",
        },
        account=account,
    )["id"]
    call("GET", f"/v1/customers/{customer}", account=account)
    call("POST", f"/v1/customers/{customer}", {"description": "d"}, account=account)
    call("GET", "/v1/customers", account=account)
    call("DELETE", f"/v1/customers/{customer}/discount", account=account)
    product = call(
        "POST",
        "/v1/products",
        {
            "name": "P",
            "default_price_data[currency]": "usd",
            "default_price_data[unit_amount]": "100",
        },
        account=account,
    )["id"]
    call("GET", f"/v1/products/{product}", account=account)
    call("POST", f"/v1/products/{product}", {"description": "x"}, account=account)
    call("GET", "/v1/products", account=account)
    price = call(
        "POST",
        "/v1/prices",
        {
            "product": product,
            "currency": "usd",
            "unit_amount": "1500",
            "recurring[interval]": "month",
            "transform_quantity[divide_by]": "2",
            "transform_quantity[round]": "up",
            "lookup_key": "k",
        },
        account=account,
    )["id"]
    call(
        "POST",
        "/v1/prices",
        {
            "product": product,
            "currency": "usd",
            "billing_scheme": "tiered",
            "tiers_mode": "volume",
            "tiers[0][up_to]": "5",
            "tiers[0][unit_amount]": "10",
            "tiers[1][up_to]": "inf",
            "tiers[1][unit_amount]": "5",
            "recurring[interval]": "year",
        },
        account=account,
    )
    call("GET", f"/v1/prices/{price}", params={"expand[]": "tiers"}, account=account)
    call("POST", f"/v1/prices/{price}", {"nickname": "n"}, account=account)
    call("GET", "/v1/prices", params={"expand[]": "data.product"}, account=account)
    plan = call(
        "POST",
        "/v1/plans",
        {"currency": "usd", "interval": "month", "amount": "900", "product[name]": "Legacy"},
        account=account,
    )["id"]
    call("GET", f"/v1/plans/{plan}", account=account)
    call("POST", f"/v1/plans/{plan}", {"nickname": "legacy"}, account=account)
    call("GET", "/v1/plans", account=account)
    call("DELETE", f"/v1/plans/{plan}", account=account)
    promo = call(
        "POST",
        "/v1/promotion_codes",
        {"promotion[type]": "coupon", "promotion[coupon]": coupon},
        account=account,
    )["id"]
    call("GET", f"/v1/promotion_codes/{promo}", account=account)
    call("POST", f"/v1/promotion_codes/{promo}", {"active": "false"}, account=account)
    call("GET", "/v1/promotion_codes", account=account)
    rate = call(
        "POST",
        "/v1/tax_rates",
        {"display_name": "VAT", "inclusive": "false", "percentage": "20"},
        account=account,
    )["id"]
    call("GET", f"/v1/tax_rates/{rate}", account=account)
    call("POST", f"/v1/tax_rates/{rate}", {"active": "false"}, account=account)
    call("GET", "/v1/tax_rates", account=account)
    call("DELETE", f"/v1/customers/{customer}", account=account)
    call("GET", f"/v1/customers/{customer}", account=account)
    call("DELETE", f"/v1/coupons/{coupon}", account=account)
    # Errors share one envelope.
    call("GET", "/v1/customers/cus_missing", account=account)
    call("POST", "/v1/customers", {"bogus": "1"}, account=account)
    call("GET", "/v1/customers", params={"limit": "1000"}, account=account)
    call("GET", "/v1/customers", account="acct_unknown")
    call("DELETE", f"/v1/accounts/{account}")


def test_the_scenario_covers_every_emulated_resource(
    responses: list[tuple[str, str, int, Any]],
) -> None:
    objects = {body.get("object") for _, _, status, body in responses if status == 200}
    assert {
        "account",
        "customer",
        "coupon",
        "product",
        "price",
        "plan",
        "promotion_code",
        "tax_rate",
        "discount",
        "list",
    } <= objects
    assert {status for _, _, status, _ in responses} >= {200, 400, 403, 404}


def test_responses_validate_against_the_spec(
    spec: Spec, responses: list[tuple[str, str, int, Any]]
) -> None:
    problems = [
        message
        for method, path, status, body in responses
        for message in spec.errors(method, path, status, body)
    ]
    assert problems == []
