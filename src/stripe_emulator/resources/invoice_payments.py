"""Invoice payments (`inpay_…`): the payment intents that pay an invoice, read only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.params import Obj, Str
from stripe_emulator.resources.base import ListFilter, Resource
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

INVOICE_PAYMENT = Resource(
    object="invoice_payment",
    path="/v1/invoice_payments",
    id_prefix="inpay",
    id_length=24,
    noun="invoice payment",
    list_filters={
        "invoice": ListFilter("k1", Str()),
        "payment": ListFilter(
            "k2",
            Obj(fields={"payment_intent": Str(), "type": Str()}),
            to_conditions=lambda value: [Condition("k2", (value.get("payment_intent"),))],
        ),
        "status": ListFilter("k3", Str()),
    },
    slots=lambda obj: (obj["invoice"], obj["payment"].get("payment_intent"), obj["status"]),
    expandable={"invoice": "invoice", "payment.payment_intent": "payment_intent"},
)


def register(emulator: Emulator) -> None:
    """Add invoice payments."""
    emulator.add_resource(INVOICE_PAYMENT)
