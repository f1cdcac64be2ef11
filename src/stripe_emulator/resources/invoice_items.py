"""Invoice items (`ii_…`): one-off charges and prorations waiting for (or on) an invoice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid
from stripe_emulator.params import AnyHash, Arr, Bool, Currency, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import save
from stripe_emulator.resources.shapes import (
    METADATA,
    NULLABLE_STR,
    merge_metadata,
    missing_reference,
)

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

PERIOD = Obj(fields={"end": Int(), "start": Int()}, required=("end", "start"))
_EDITABLE = {
    "amount": Int(),
    "description": NULLABLE_STR,
    "discountable": Bool(),
    "discounts": Arr(item=AnyHash(), emptyable=True),
    "metadata": METADATA,
    "period": PERIOD,
    "price_data": AnyHash(),
    "pricing": Obj(fields={"price": Str()}),
    "quantity": Int(minimum=0),
    "tax_behavior": Str(),
    "tax_code": Str(),
    "tax_rates": Arr(item=Str(), emptyable=True),
    "unit_amount_decimal": Str(),
}
CREATE = Obj(
    fields={
        **_EDITABLE,
        "currency": Currency(),
        "customer": Str(),
        "customer_account": Str(),
        "invoice": Str(),
        "price": Str(),
        "subscription": Str(),
    },
    required=("customer",),
)
UPDATE = Obj(fields={**_EDITABLE, "price": Str()})


def new_invoice_item(
    ctx: Ctx,
    *,
    customer: str,
    currency: str,
    amount: int,
    quantity: int = 1,
    price: JsonObject | None = None,
    description: str | None = None,
    period: tuple[int, int] | None = None,
    proration: bool = False,
    subscription: str | None = None,
    subscription_item: str | None = None,
    invoice: str | None = None,
    metadata: dict[str, str] | None = None,
    discountable: bool | None = None,
) -> JsonObject:
    """Store a new invoice item (emitting `invoiceitem.created`) and return it."""
    now = ctx.now()
    start, end = period or (now, now)
    parent = None
    if subscription is not None:
        parent = {
            "subscription_details": {
                "subscription": subscription,
                "subscription_item": subscription_item,
            },
            "type": "subscription_details",
        }
    item: JsonObject = {
        "id": ctx.new_id("ii", 24),
        "object": "invoiceitem",
        "amount": amount,
        "created": now,
        "currency": currency,
        "customer": customer,
        "customer_account": None,
        "date": now,
        "description": description,
        "discountable": (not proration) if discountable is None else discountable,
        "discounts": [],
        "invoice": invoice,
        "livemode": ctx.livemode,
        "metadata": dict(metadata or {}),
        "net_amount": amount,
        "parent": parent,
        "period": {"end": end, "start": start},
        "pricing": {
            "price_details": None
            if price is None
            else {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": str(amount // max(quantity, 1))
            if price is None
            else price.get("unit_amount_decimal"),
        },
        "proration": proration,
        "proration_details": {"credited_items": None},
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "tax_rates": [],
        "test_clock": None,
    }
    save(ctx, INVOICE_ITEM, item, new=True)
    return item


def _price(ctx: Ctx, params: JsonObject) -> JsonObject | None:
    price_id = params.get("price") or (params.get("pricing") or {}).get("price")
    if price_id is None:
        return None
    row = ctx.store.get(ctx.scope, "price", price_id)
    if row is None:
        raise missing_reference("price", price_id, "price")
    return row.load()


def create(ctx: Ctx) -> JsonObject:
    """`POST /v1/invoiceitems`: `amount`+`currency`, or a `price` with a `quantity`."""
    from stripe_emulator.resources.crud import present

    params = ctx.coerce(CREATE)
    customer = ctx.store.get(ctx.scope, "customer", params["customer"])
    if customer is None or customer.deleted:
        raise missing_reference("customer", params["customer"], "customer")
    price = _price(ctx, params)
    quantity = params.get("quantity", 1)
    if price is not None:
        amount = (price.get("unit_amount") or 0) * quantity
        currency = price["currency"]
    elif "amount" in params:
        amount = params["amount"]
        currency = params.get("currency") or customer.load().get("currency")
    elif "unit_amount_decimal" in params:
        amount = int(float(params["unit_amount_decimal"]) * quantity)
        currency = params.get("currency")
    else:
        raise invalid("Missing required param: amount.", param="amount", code="parameter_missing")
    if currency is None:
        raise invalid(
            "Missing required param: currency.", param="currency", code="parameter_missing"
        )
    period = params.get("period")
    item = new_invoice_item(
        ctx,
        customer=params["customer"],
        currency=currency,
        amount=amount,
        quantity=quantity,
        price=price,
        description=params.get("description"),
        period=(period["start"], period["end"]) if period else None,
        subscription=params.get("subscription"),
        invoice=params.get("invoice"),
        metadata=merge_metadata({}, params.get("metadata") or {}),
        discountable=params.get("discountable"),
    )
    if params.get("invoice"):
        _add_to_draft(ctx, item, params["invoice"])
    return present(ctx, INVOICE_ITEM, item, ctx.expand_paths())


def _add_to_draft(ctx: Ctx, item: JsonObject, invoice_id: str) -> None:
    from stripe_emulator.billing.invoices import item_line, recompute, save_invoice

    row = ctx.store.get(ctx.scope, "invoice", invoice_id)
    if row is None:
        raise missing_reference("invoice", invoice_id, "invoice")
    invoice = row.load()
    if invoice["status"] != "draft":
        raise invalid("You can only add invoice items to draft invoices.", param="invoice")
    item["invoice"] = None
    item_line(ctx, invoice, item)
    recompute(ctx, invoice)
    save_invoice(ctx, invoice)


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to an invoice item that is not on a finalized invoice."""
    _check_editable(ctx, obj)
    for key in ("description", "discountable", "quantity"):
        if key in params:
            obj[key] = params[key]
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    if "period" in params:
        obj["period"] = {"end": params["period"]["end"], "start": params["period"]["start"]}
    price = _price(ctx, params)
    if price is not None:
        obj["pricing"]["price_details"] = {"price": price["id"], "product": price["product"]}
        obj["amount"] = (price.get("unit_amount") or 0) * obj["quantity"]
    elif "amount" in params:
        obj["amount"] = params["amount"]
    obj["net_amount"] = obj["amount"]
    return obj


def _check_editable(ctx: Ctx, obj: JsonObject) -> None:
    if obj["invoice"] is None:
        return
    row = ctx.store.get(ctx.scope, "invoice", obj["invoice"])
    if row is not None and row.load()["status"] != "draft":
        raise invalid(
            "You cannot update or delete an invoice item that is attached to an invoice that is "
            "no longer editable.",
            code="invoice_not_editable",
        )


def render(ctx: Ctx, obj: JsonObject) -> JsonObject:
    """Drop the store's bookkeeping `created` (invoice items show `date`)."""
    obj.pop("created", None)
    return obj


def _slots(obj: JsonObject) -> tuple[Any, ...]:
    parent = (obj.get("parent") or {}).get("subscription_details") or {}
    return (obj["customer"], obj["invoice"] or "pending", parent.get("subscription"))


def _pending(value: Any) -> list[Any]:
    from stripe_emulator.store import Condition

    # `pending=false` lists every item; `pending=true` only those on no invoice yet.
    return [Condition("k2", ("pending",))] if value else []


INVOICE_ITEM = Resource(
    object="invoiceitem",
    path="/v1/invoiceitems",
    id_prefix="ii",
    id_length=24,
    noun="invoiceitem",
    update_params=UPDATE,
    apply_update=update,
    deletable=True,
    on_delete=_check_editable,
    list_filters={
        "customer": ListFilter("k1", Str()),
        "invoice": ListFilter("k2", Str()),
        "pending": ListFilter("k2", Bool(), to_conditions=_pending),
    },
    slots=_slots,
    expandable={"customer": "customer", "invoice": "invoice"},
    render=render,
)


def register(emulator: Emulator) -> None:
    """Add invoice items."""
    emulator.add_resource(INVOICE_ITEM)
    emulator.router.add("POST", "/v1/invoiceitems", create)
