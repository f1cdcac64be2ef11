"""Billing calls in revlens' own account (no Stripe-Account), and the fee-bearing direct charge.

Every function answers plain dicts (the JSON Stripe sent) so that callers never see SDK types.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import stripe

from revlens.stripe_api.client import StripeClients


class PaymentDeclined(Exception):
    """The card was refused (attaching it or charging it); the message is Stripe's, for people."""


class ScopeTooNarrow(Exception):
    """The deployment's Connect scope does not allow the write (read_only extensions)."""


def _stripe_time(headers: Mapping[str, str]) -> int:
    """Return Stripe's clock from the Date header (the local clock when it is missing)."""
    value = next((v for k, v in headers.items() if k.lower() == "date"), None)
    try:
        return int(parsedate_to_datetime(value).timestamp()) if value else int(time.time())
    except (TypeError, ValueError):
        return int(time.time())


def _call(
    client: stripe.StripeClient, method: str, path: str, **params: Any
) -> tuple[dict[str, Any], int]:
    try:
        response = client.raw_request(method, path, **params)
    except stripe.CardError as error:
        raise PaymentDeclined(str(error.user_message or "The card was declined.")) from error
    data: dict[str, Any] = response.data
    return data, _stripe_time(response.headers)


def find_price(clients: StripeClients, *, lookup_key: str) -> dict[str, Any] | None:
    """Return the active price with this lookup_key, if there is one."""
    found, _ = _call(
        clients.platform(), "get", "/v1/prices", **{"lookup_keys[0]": lookup_key, "limit": 1}
    )
    data: list[dict[str, Any]] = found["data"]
    return data[0] if data else None


def retrieve_price(clients: StripeClients, price_id: str) -> dict[str, Any]:
    """Return a price of revlens' own account."""
    return _call(clients.platform(), "get", f"/v1/prices/{price_id}")[0]


def create_plan_price(
    clients: StripeClients,
    *,
    plan_key: str,
    name: str,
    amount: int,
    currency: str,
    interval: str,
    lookup_key: str,
) -> dict[str, Any]:
    """Create a product and its recurring price for a plan; return the price."""
    platform = clients.platform()
    metadata = {"revlens_plan": plan_key}
    product, _ = _call(platform, "post", "/v1/products", name=f"revlens {name}", metadata=metadata)
    price, _ = _call(
        platform,
        "post",
        "/v1/prices",
        product=product["id"],
        unit_amount=amount,
        currency=currency,
        recurring={"interval": interval},
        lookup_key=lookup_key,
        nickname=name,
        metadata=metadata,
    )
    return price


def create_customer(
    clients: StripeClients, *, account_id: str, name: str, email: str | None
) -> dict[str, Any]:
    """Create the customer that pays for a connected account."""
    params: dict[str, Any] = {"name": name, "metadata": {"revlens_account": account_id}}
    if email:
        params["email"] = email
    return _call(clients.platform(), "post", "/v1/customers", **params)[0]


def attach_default_payment_method(
    clients: StripeClients, *, customer: str, payment_method: str
) -> str:
    """Attach a payment method and make it the customer's default; return its id."""
    platform = clients.platform()
    attached, _ = _call(
        platform, "post", f"/v1/payment_methods/{payment_method}/attach", customer=customer
    )
    _call(
        platform,
        "post",
        f"/v1/customers/{customer}",
        invoice_settings={"default_payment_method": attached["id"]},
    )
    return str(attached["id"])


def create_subscription(
    clients: StripeClients,
    *,
    customer: str,
    price: str,
    trial_days: int,
    metadata: dict[str, str],
) -> tuple[dict[str, Any], int]:
    """Create a subscription charged to the customer's default payment method."""
    params: dict[str, Any] = {
        "customer": customer,
        "items": [{"price": price}],
        "metadata": metadata,
        "payment_behavior": "error_if_incomplete",
    }
    if trial_days:
        params["trial_period_days"] = trial_days
    return _call(clients.platform(), "post", "/v1/subscriptions", **params)


def change_price(
    clients: StripeClients, *, subscription: dict[str, Any], price: str
) -> tuple[dict[str, Any], int]:
    """Move a subscription's single item to another price, prorated."""
    item = subscription["items"]["data"][0]["id"]
    return _call(
        clients.platform(),
        "post",
        f"/v1/subscriptions/{subscription['id']}",
        items=[{"id": item, "price": price}],
        proration_behavior="create_prorations",
        cancel_at_period_end=False,
    )


def set_cancel_at_period_end(
    clients: StripeClients, *, subscription_id: str, cancel: bool
) -> tuple[dict[str, Any], int]:
    """Schedule (or withdraw) the end of a subscription at its period end."""
    return _call(
        clients.platform(),
        "post",
        f"/v1/subscriptions/{subscription_id}",
        cancel_at_period_end=cancel,
    )


def retrieve_subscription(
    clients: StripeClients, subscription_id: str
) -> tuple[dict[str, Any], int]:
    """Return a subscription's current state and Stripe's clock when it was read."""
    return _call(
        clients.platform(),
        "get",
        f"/v1/subscriptions/{subscription_id}",
        **{"expand[0]": "latest_invoice"},
    )


def list_application_fees(clients: StripeClients, *, limit: int = 100) -> list[dict[str, Any]]:
    """Return the platform's newest application fees."""
    found, _ = _call(clients.platform(), "get", "/v1/application_fees", limit=limit)
    data: list[dict[str, Any]] = found["data"]
    return data


def create_fee_subscription(
    clients: StripeClients,
    *,
    account_id: str,
    customer: str,
    price: str,
    application_fee_percent: float,
) -> dict[str, Any]:
    """Create a subscription on a connected account (direct charge) that pays the platform a fee."""
    try:
        return _call(
            clients.for_account(account_id),
            "post",
            "/v1/subscriptions",
            customer=customer,
            items=[{"price": price}],
            application_fee_percent=application_fee_percent,
            payment_behavior="error_if_incomplete",
        )[0]
    except stripe.PermissionError as error:
        raise ScopeTooNarrow(str(error.user_message or error)) from error
