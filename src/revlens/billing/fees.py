"""Application fees (read_write deployments only): fee-bearing subscriptions and the fee list."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from revlens.accounts.service import get_account
from revlens.config import Settings
from revlens.db.session import Database
from revlens.errors import RevlensError
from revlens.stripe_api import platform_billing
from revlens.stripe_api.client import StripeClients

READ_ONLY_REASON = (
    "Application fees are off: this deployment connects accounts with the read_only scope, "
    "and only a read_write platform may create charges (with application_fee_percent) on a "
    'connected account. Set scope = "read_write" in [connect.<env>] to offer them.'
)


class FeesUnavailable(RevlensError):
    """The fee feature cannot be used here; the message says why."""


@dataclass(frozen=True)
class Fee:
    """One application fee the platform collected."""

    id: str
    account: str
    amount: int
    amount_refunded: int
    currency: str
    charge: str
    created: int


def unavailable_reason(settings: Settings) -> str | None:
    """Return why application fees are absent, or None when the deployment may use them."""
    return None if settings.stripe_scope == "read_write" else READ_ONLY_REASON


def parse_percent(raw: str | float) -> float:
    """Return a fee percentage: more than 0, at most 100, two decimals at most."""
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        raise FeesUnavailable(f"application_fee_percent: {raw!r} is not a number") from None
    exponent = value.as_tuple().exponent
    if (
        not value.is_finite()
        or value <= 0
        or value > 100
        or (isinstance(exponent, int) and exponent < -2)
    ):
        raise FeesUnavailable(
            f"application_fee_percent: expected more than 0 and at most 100 with two decimals "
            f"at most, got {raw!r}"
        )
    return float(value)


def create_fee_subscription(
    database: Database,
    clients: StripeClients,
    settings: Settings,
    *,
    account_id: str,
    customer: str,
    price: str,
    application_fee_percent: str | float,
) -> dict[str, Any]:
    """Subscribe a connected account's customer with a fee for the platform (direct charge)."""
    reason = unavailable_reason(settings)
    if reason is not None:
        raise FeesUnavailable(reason)
    percent = parse_percent(application_fee_percent)
    with database.read() as session:
        account = get_account(session, account_id)
    if account is None or not account.is_connected:
        raise FeesUnavailable(f"account: {account_id} is not connected")
    if account.scope_granted != "read_write":
        raise FeesUnavailable(
            f"account: {account_id} granted {account.scope_granted} only; it must reconnect "
            "with read_write"
        )
    try:
        return platform_billing.create_fee_subscription(
            clients,
            account_id=account_id,
            customer=customer,
            price=price,
            application_fee_percent=percent,
        )
    except platform_billing.ScopeTooNarrow as error:
        raise FeesUnavailable(f"Stripe refused the write: {error}") from None


def platform_fees(settings: Settings, clients: StripeClients, *, limit: int = 100) -> list[Fee]:
    """Return the platform's newest application fees (read_write deployments)."""
    reason = unavailable_reason(settings)
    if reason is not None:
        raise FeesUnavailable(reason)
    return [
        Fee(
            id=str(fee["id"]),
            account=str(
                fee["account"]["id"] if isinstance(fee["account"], dict) else fee["account"]
            ),
            amount=int(fee["amount"]),
            amount_refunded=int(fee.get("amount_refunded") or 0),
            currency=str(fee["currency"]),
            charge=str(fee["charge"]["id"] if isinstance(fee["charge"], dict) else fee["charge"]),
            created=int(fee["created"]),
        )
        for fee in platform_billing.list_application_fees(clients, limit=limit)
    ]
