"""`GET /v1/balance` and balance transactions (`txn_…`), read only."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from stripe_emulator.billing.ledger import balance
from stripe_emulator.billing.money import FeeModel, load_fee_model, save_fee_model
from stripe_emulator.params import Currency, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator


def render(ctx: Ctx, obj: JsonObject) -> JsonObject:
    """Show funds as available once their `available_on` has passed on the emulator clock."""
    obj["status"] = "available" if obj["available_on"] <= ctx.now() else "pending"
    return obj


BALANCE_TRANSACTION = Resource(
    object="balance_transaction",
    path="/v1/balance_transactions",
    id_prefix="txn",
    id_length=24,
    noun="balance transaction",
    list_filters={
        "currency": ListFilter("$.currency", Currency()),
        "payout": ListFilter("$.payout", Str()),
        "source": ListFilter("k2", Str()),
        "type": ListFilter("k1", Str()),
    },
    slots=lambda obj: (obj["type"], obj["source"]),
    # Only charge sources expand; refunds, disputes and fees stay ids.
    expandable={"source": "charge"},
    render=render,
)


def get_balance(ctx: Ctx) -> JsonObject:
    """`GET /v1/balance`."""
    ctx.coerce(Obj())
    return balance(ctx)


def _fees(emulator: Emulator, _body: dict[str, Any]) -> dict[str, Any]:
    return asdict(load_fee_model(emulator.store))


def _set_fees(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
    current = asdict(load_fee_model(emulator.store))
    unknown = set(body) - set(current)
    if unknown:
        raise ValueError(f"unknown fee settings: {', '.join(sorted(unknown))}")
    try:
        model = FeeModel(
            percent=str(Decimal(str(body.get("percent", current["percent"])))),
            fixed=int(body.get("fixed", current["fixed"])),
            dispute_fee=int(body.get("dispute_fee", current["dispute_fee"])),
        )
    except (ArithmeticError, TypeError) as exc:
        raise ValueError("fee settings must be numbers") from exc
    save_fee_model(emulator.store, model)
    return asdict(model)


def register(emulator: Emulator) -> None:
    """Add the balance, balance transactions and the fee model control endpoints."""
    emulator.add_resource(BALANCE_TRANSACTION)
    emulator.router.add("GET", "/v1/balance", get_balance)
    emulator.control_router.add("GET", "/_emulator/fees", _fees)
    emulator.control_router.add("POST", "/_emulator/fees", _set_fees)
