"""Balance transactions (`txn_…`) and the balance they add up to."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from stripe_emulator.billing.money import load_fee_model
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]
# Card funds become available two days after a charge; debits apply at once.
CHARGE_DELAY = 2 * 86400
REPORTING = {
    "adjustment": "dispute",
    "application_fee": "platform_earning",
    "application_fee_refund": "platform_earning_refund",
    "charge": "charge",
    "payment": "charge",
    "refund": "refund",
}


def fee_detail(kind: str, amount: int, currency: str, application: str | None = None) -> JsonObject:
    """Return one `fee_details` entry."""
    descriptions = {
        "stripe_fee": "Stripe processing fees",
        "application_fee": "Application fee",
    }
    return {
        "amount": amount,
        "application": application,
        "currency": currency,
        "description": descriptions.get(kind, "Dispute fee"),
        "type": kind,
    }


def record(
    ctx: Ctx,
    *,
    kind: str,
    amount: int,
    currency: str,
    source: str,
    fee_details: list[JsonObject] | None = None,
    description: str | None = None,
    scope: Scope | None = None,
    delay: int = 0,
) -> JsonObject:
    """Store a balance transaction for money moving in (+) or out (-) of an account."""
    from stripe_emulator.resources.balance import BALANCE_TRANSACTION

    details = fee_details or []
    fee = sum(detail["amount"] for detail in details)
    now = ctx.now()
    txn: JsonObject = {
        "id": ctx.new_id("txn", 24),
        "object": "balance_transaction",
        "amount": amount,
        "available_on": now + delay,
        "balance_type": "payments",
        "created": now,
        "currency": currency,
        "description": description,
        "exchange_rate": None,
        "fee": fee,
        "fee_details": details,
        "net": amount - fee,
        "reporting_category": REPORTING.get(kind, kind),
        "source": source,
        "status": "pending" if delay else "available",
        "type": kind,
    }
    ctx.store.insert(scope or ctx.scope, "balance_transaction", txn, BALANCE_TRANSACTION.slots(txn))
    return txn


def charge_transaction(
    ctx: Ctx, charge: JsonObject, application_fee: int | None, application: str | None
) -> JsonObject:
    """Record a captured charge: gross in, Stripe's fee and any application fee out."""
    model = load_fee_model(ctx.store)
    amount, currency = charge["amount_captured"], charge["currency"]
    details = [fee_detail("stripe_fee", model.processing_fee(amount, currency), currency)]
    if application_fee:
        details.append(fee_detail("application_fee", application_fee, currency, application))
    return record(
        ctx,
        kind="charge" if charge["payment_intent"] is None else "payment",
        amount=amount,
        currency=currency,
        source=charge["id"],
        fee_details=details,
        description=charge["description"],
        delay=CHARGE_DELAY,
    )


def balance(ctx: Ctx) -> JsonObject:
    """Return the `balance` object: net amounts per currency, split by availability."""
    available: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    now = ctx.now()
    after: tuple[int, int] | None = None
    while True:
        page = ctx.store.list_page(ctx.scope, "balance_transaction", limit=100, after=after)
        for row in page.rows:
            txn = row.load()
            bucket = available if txn["available_on"] <= now else pending
            bucket[txn["currency"]] += txn["net"]
            available.setdefault(txn["currency"], 0)
            pending.setdefault(txn["currency"], 0)
        if not page.has_more:
            break
        after = (page.rows[-1].created, page.rows[-1].seq)
    currencies = sorted(available) or ["usd"]
    return {
        "object": "balance",
        "available": [
            {"amount": available[c], "currency": c, "source_types": {"card": available[c]}}
            for c in currencies
        ],
        "connect_reserved": [{"amount": 0, "currency": c} for c in currencies],
        "livemode": ctx.livemode,
        "pending": [
            {"amount": pending[c], "currency": c, "source_types": {"card": pending[c]}}
            for c in currencies
        ],
    }
