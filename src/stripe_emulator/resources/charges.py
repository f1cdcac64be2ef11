"""Charges (`ch_…`): created by payment intents and invoices, or directly (legacy `source`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.billing.cards import CardError
from stripe_emulator.billing.charges import capture_charge, new_charge
from stripe_emulator.billing.system import commit_then_raise
from stripe_emulator.errors import invalid
from stripe_emulator.lists import embedded_list
from stripe_emulator.params import AnyHash, Bool, Currency, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import load, present
from stripe_emulator.resources.shapes import METADATA, NULLABLE_STR, merge_metadata
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

CREATE = Obj(
    fields={
        "amount": Int(minimum=1),
        "application_fee_amount": Int(minimum=0),
        "capture": Bool(),
        "currency": Currency(),
        "customer": Str(),
        "description": NULLABLE_STR,
        "metadata": METADATA,
        "receipt_email": Str(),
        "shipping": AnyHash(),
        "source": Str(),
        "statement_descriptor": Str(max_length=22),
        "statement_descriptor_suffix": Str(max_length=22),
        "transfer_group": Str(),
    },
    required=("amount", "currency"),
)
UPDATE = Obj(
    fields={
        "customer": Str(),
        "description": NULLABLE_STR,
        "fraud_details": AnyHash(),
        "metadata": METADATA,
        "receipt_email": NULLABLE_STR,
        "shipping": AnyHash(emptyable=True),
        "transfer_group": Str(),
    }
)
CAPTURE = Obj(
    fields={
        "amount": Int(minimum=1),
        "application_fee_amount": Int(minimum=0),
        "receipt_email": Str(),
        "statement_descriptor": Str(max_length=22),
        "statement_descriptor_suffix": Str(max_length=22),
    }
)


def include(ctx: Ctx, obj: JsonObject, name: str) -> JsonObject:
    """Compose the `refunds` list, returned only when expanded (as since 2022-11-15).

    Computed on demand: a charge read without it (every list page) costs no query for it.
    """
    from stripe_emulator.resources.refunds import REFUND

    assert name == "refunds", name
    return embedded_list(
        ctx,
        REFUND,
        url=f"/v1/charges/{obj['id']}/refunds",
        conditions=[Condition("k1", (obj["id"],))],
        present=lambda refund: refund,
    )


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to a charge."""
    for key in ("customer", "description", "receipt_email", "shipping", "transfer_group"):
        if key in params:
            obj[key] = params[key]
    if "fraud_details" in params:
        obj["fraud_details"] = {**obj["fraud_details"], **params["fraud_details"]}
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    return obj


CHARGE = Resource(
    object="charge",
    path="/v1/charges",
    id_prefix="ch",
    id_length=24,
    update_params=UPDATE,
    apply_update=update,
    list_filters={
        "customer": ListFilter("k1", Str()),
        "payment_intent": ListFilter("k2", Str()),
        "transfer_group": ListFilter("$.transfer_group", Str()),
    },
    slots=lambda obj: (obj["customer"], obj["payment_intent"]),
    expandable={
        "application_fee": "application_fee",
        "balance_transaction": "balance_transaction",
        "customer": "customer",
        "payment_intent": "payment_intent",
    },
    includable=("refunds",),
    include=include,
)


def check_application_fee(ctx: Ctx, amount: int | None) -> None:
    """Refuse an application fee outside a direct charge on a connected account."""
    if amount is not None and not ctx.on_behalf:
        raise invalid(
            "Can only apply an application_fee_amount when the request is made on behalf of "
            "another account (using an OAuth key or the Stripe-Account header).",
            param="application_fee_amount",
        )


def create(ctx: Ctx) -> JsonObject:
    """`POST /v1/charges`: charge a token, card, or the customer's default payment method."""
    from stripe_emulator.resources.payment_intents import customer_payment_method
    from stripe_emulator.resources.payment_methods import card_behaviour, resolve

    params = ctx.coerce(CREATE)
    check_application_fee(ctx, params.get("application_fee_amount"))
    customer = params.get("customer")
    if customer is not None:
        load(ctx, _customer(), customer, param="customer")
    if params.get("source"):
        payment_method = resolve(ctx, params["source"], param="source")
    elif customer is not None:
        payment_method = customer_payment_method(ctx, customer, None)
    else:
        raise invalid("Must provide source or customer.", param="source", code="parameter_missing")
    decline = card_behaviour(payment_method).charge_decline
    charge = new_charge(
        ctx,
        amount=params["amount"],
        currency=params["currency"],
        payment_method=payment_method,
        decline=decline,
        customer=customer,
        description=params.get("description"),
        metadata=merge_metadata({}, params.get("metadata") or {}),
        application_fee_amount=params.get("application_fee_amount"),
        capture=params.get("capture", True),
        statement_descriptor=params.get("statement_descriptor"),
        receipt_email=params.get("receipt_email"),
    )
    if decline is not None:
        commit_then_raise(ctx, CardError(decline, charge=charge["id"]))
    return present(ctx, CHARGE, charge, ctx.expand_paths())


def _customer() -> Resource:
    from stripe_emulator.resources.customers import CUSTOMER

    return CUSTOMER


def capture(ctx: Ctx) -> JsonObject:
    """`POST /v1/charges/{id}/capture`."""
    params = ctx.coerce(CAPTURE)
    charge = load(ctx, CHARGE, ctx.path_params["id"])
    if charge["captured"] or charge["status"] != "succeeded":
        raise invalid(f"Charge {charge['id']} has already been captured.", param="charge")
    amount: int = params["amount"] if "amount" in params else charge["amount"]
    if amount > charge["amount"]:
        raise invalid("You cannot capture more than the authorized amount.", param="amount")
    if charge["payment_intent"] is not None:
        from stripe_emulator.resources.payment_intents import capture_intent_of_charge

        capture_intent_of_charge(ctx, charge, amount, params.get("application_fee_amount"))
        charge = load(ctx, CHARGE, charge["id"])
    else:
        capture_charge(ctx, charge, amount, params.get("application_fee_amount"))
    return present(ctx, CHARGE, charge, ctx.expand_paths())


def list_refunds(ctx: Ctx) -> JsonObject:
    """`GET /v1/charges/{id}/refunds`."""
    from stripe_emulator.lists import CREATED, PAGINATION, fetch_page, list_envelope
    from stripe_emulator.resources.refunds import REFUND

    params = ctx.coerce(Obj(fields={**PAGINATION, **CREATED}))
    charge = load(ctx, CHARGE, ctx.path_params["id"])
    page = fetch_page(ctx, REFUND, params, [Condition("k1", (charge["id"],))])
    data = [row.load() for row in page.rows]
    return list_envelope(f"/v1/charges/{charge['id']}/refunds", data, page.has_more)


def register(emulator: Emulator) -> None:
    """Add charges."""
    emulator.add_resource(CHARGE)
    emulator.router.add("POST", "/v1/charges", create)
    emulator.router.add("POST", "/v1/charges/{id}/capture", capture)
    emulator.router.add("GET", "/v1/charges/{id}/refunds", list_refunds)
