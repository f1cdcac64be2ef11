"""Invoices (`in_…`) and their line items: draft, finalize, pay, void, mark uncollectible."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.billing import collection
from stripe_emulator.billing.invoices import (
    PRIVATE,
    item_line,
    new_invoice,
    pending_items,
    recompute,
    save_invoice,
    shown,
)
from stripe_emulator.billing.system import commit_then_raise
from stripe_emulator.errors import invalid
from stripe_emulator.lists import CREATED, PAGINATION, embedded_list, fetch_page, list_envelope
from stripe_emulator.params import AnyHash, Arr, Bool, Currency, Enum, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import load, present
from stripe_emulator.resources.shapes import (
    METADATA,
    NULLABLE_STR,
    merge_metadata,
    missing_reference,
)
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

COLLECTION = Enum(values=("charge_automatically", "send_invoice"))
DISCOUNTS = Arr(
    item=Obj(fields={"coupon": Str(), "discount": Str(), "promotion_code": Str()}),
    emptyable=True,
)
_EDITABLE = {
    "application_fee_amount": Int(minimum=0),
    "auto_advance": Bool(),
    "collection_method": COLLECTION,
    "custom_fields": AnyHash(emptyable=True),
    "days_until_due": Int(minimum=0),
    "default_payment_method": Str(),
    "description": NULLABLE_STR,
    "discounts": DISCOUNTS,
    "due_date": Int(),
    "footer": NULLABLE_STR,
    "metadata": METADATA,
    "statement_descriptor": NULLABLE_STR,
}
CREATE = Obj(
    fields={
        **_EDITABLE,
        "automatic_tax": AnyHash(),
        "currency": Currency(),
        "customer": Str(),
        "pending_invoice_items_behavior": Enum(values=("exclude", "include")),
        "subscription": Str(),
    },
    required=("customer",),
)
UPDATE = Obj(fields=_EDITABLE)
PAY = Obj(
    fields={
        "forgive": Bool(),
        "mandate": Str(),
        "off_session": Bool(),
        "paid_out_of_band": Bool(),
        "payment_method": Str(),
        "source": Str(),
    }
)
FINALIZE = Obj(fields={"auto_advance": Bool()})


def render_line(line: JsonObject) -> JsonObject:
    """Drop the store's bookkeeping `created` (line items have none)."""
    line.pop("created", None)
    return line


LINE_ITEM = Resource(
    object="line_item",
    listable=False,
    slots=lambda obj: (obj["invoice"],),
    expandable={"discounts": "discount"},
)


def render(ctx: Ctx, obj: JsonObject) -> JsonObject:
    """Compose `lines` (first 10), hide private fields."""
    for key in PRIVATE:
        obj.pop(key, None)
    obj["lines"] = embedded_list(
        ctx,
        LINE_ITEM,
        url=f"/v1/invoices/{obj['id']}/lines",
        conditions=[Condition("k1", (obj["id"],))],
        present=render_line,
    )
    return obj


def include(ctx: Ctx, obj: JsonObject, name: str) -> JsonObject:
    """Compose `payments`, returned only when expanded: no query for it otherwise."""
    from stripe_emulator.resources.invoice_payments import INVOICE_PAYMENT

    assert name == "payments", name
    return embedded_list(
        ctx,
        INVOICE_PAYMENT,
        url=f"/v1/invoice_payments?invoice={obj['id']}",
        conditions=[Condition("k1", (obj["id"],))],
        present=lambda payment: payment,
    )


def _discount_ids(ctx: Ctx, entries: list[dict[str, Any]] | None, customer: str) -> list[str]:
    from stripe_emulator.resources.discounts import make_discount, redeem_coupon

    ids: list[str] = []
    for index, entry in enumerate(entries or []):
        if entry.get("discount"):
            ids.append(entry["discount"])
        elif entry.get("coupon"):
            coupon = redeem_coupon(ctx, entry["coupon"], f"discounts[{index}][coupon]")
            discount = make_discount(ctx, coupon, customer=customer)
            ctx.store.insert(ctx.scope, "discount", {**discount, "created": ctx.now()})
            ids.append(discount["id"])
    return ids


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update; most fields only change while the invoice is a draft."""
    if obj["status"] != "draft":
        allowed = {"metadata", "description", "footer", "auto_advance"}
        if set(params) - allowed:
            raise invalid(
                "You can only update metadata, description, footer and auto_advance on a "
                "finalized invoice.",
                code="invoice_not_editable",
            )
    for key in (
        "auto_advance",
        "collection_method",
        "custom_fields",
        "days_until_due",
        "default_payment_method",
        "description",
        "due_date",
        "footer",
        "statement_descriptor",
    ):
        if key in params:
            obj[key] = params[key]
    if "application_fee_amount" in params:
        obj["_application_fee_amount"] = params["application_fee_amount"]
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    if "discounts" in params:
        obj["discounts"] = _discount_ids(ctx, params["discounts"], obj["customer"])
        recompute(ctx, obj)
    return obj


INVOICE = Resource(
    object="invoice",
    path="/v1/invoices",
    id_prefix="in",
    id_length=24,
    update_params=UPDATE,
    apply_update=update,
    list_filters={
        "collection_method": ListFilter("k4", COLLECTION),
        "customer": ListFilter("k1", Str()),
        "status": ListFilter("k2", Enum(values=("draft", "open", "paid", "uncollectible", "void"))),
        "subscription": ListFilter("k3", Str()),
        "due_date": ListFilter("$.due_date", Int()),
    },
    slots=lambda obj: (
        obj["customer"],
        obj["status"],
        ((obj.get("parent") or {}).get("subscription_details") or {}).get("subscription"),
        obj["collection_method"],
    ),
    expandable={
        "customer": "customer",
        "default_payment_method": "payment_method",
        "discounts": "discount",
        "parent.subscription_details.subscription": "subscription",
    },
    render=render,
    includable=("payments",),
    include=include,
)


def create(ctx: Ctx) -> JsonObject:
    """`POST /v1/invoices`: a draft, optionally with the customer's pending invoice items."""
    from stripe_emulator.resources.charges import check_application_fee

    params = ctx.coerce(CREATE)
    check_application_fee(ctx, params.get("application_fee_amount"))
    row = ctx.store.get(ctx.scope, "customer", params["customer"])
    if row is None or row.deleted:
        raise missing_reference("customer", params["customer"], "customer")
    customer = row.load()
    include = params.get("pending_invoice_items_behavior", "exclude") == "include"
    items = pending_items(ctx, customer["id"]) if include else []
    currency = params.get("currency") or (items[0]["currency"] if items else None)
    currency = currency or customer.get("currency") or "usd"
    params["metadata"] = merge_metadata({}, params.get("metadata") or {})
    params["discounts"] = _discount_ids(ctx, params.get("discounts"), customer["id"])
    invoice = new_invoice(ctx, customer, currency=currency, billing_reason="manual", params=params)
    for item in items:
        if item["currency"] == currency:
            item_line(ctx, invoice, item)
    recompute(ctx, invoice)
    save_invoice(ctx, invoice)
    collection.emit_created(ctx, invoice)
    return present(ctx, INVOICE, invoice, ctx.expand_paths())


def _load(ctx: Ctx) -> JsonObject:
    return load(ctx, INVOICE, ctx.path_params["id"])


def finalize(ctx: Ctx) -> JsonObject:
    """`POST /v1/invoices/{id}/finalize`."""
    params = ctx.coerce(FINALIZE)
    invoice = _load(ctx)
    if "auto_advance" in params:
        invoice["auto_advance"] = params["auto_advance"]
    collection.finalize(ctx, invoice)
    return present(ctx, INVOICE, invoice, ctx.expand_paths())


def pay(ctx: Ctx) -> JsonObject:
    """`POST /v1/invoices/{id}/pay`: charge now (402 on a decline) or mark paid out of band."""
    params = ctx.coerce(PAY)
    invoice = _load(ctx)
    if invoice["status"] == "draft":
        collection.finalize(ctx, invoice)
    if invoice["status"] == "paid":
        raise invalid("Invoice is already paid.")
    if invoice["status"] not in ("open", "uncollectible"):
        raise invalid(f"This invoice can't be paid because it is {invoice['status']}.")
    if params.get("paid_out_of_band"):
        collection.pay_out_of_band(ctx, invoice)
        return present(ctx, INVOICE, invoice, ctx.expand_paths())
    if collection.payment_method_for(ctx, invoice, params.get("payment_method")) is None:
        raise invalid(
            "This customer has no attached payment source or default payment method. Please "
            "consider adding a default payment method.",
            code="invoice_no_payment_method_types",
        )
    error = collection.attempt_payment(ctx, invoice, payment_method=params.get("payment_method"))
    if error is not None:
        commit_then_raise(ctx, error)
    return present(ctx, INVOICE, invoice, ctx.expand_paths())


def void(ctx: Ctx) -> JsonObject:
    """`POST /v1/invoices/{id}/void`."""
    ctx.coerce(Obj())
    invoice = collection.void(ctx, _load(ctx))
    return present(ctx, INVOICE, invoice, ctx.expand_paths())


def mark_uncollectible(ctx: Ctx) -> JsonObject:
    """`POST /v1/invoices/{id}/mark_uncollectible`."""
    ctx.coerce(Obj())
    invoice = collection.mark_uncollectible(ctx, _load(ctx))
    return present(ctx, INVOICE, invoice, ctx.expand_paths())


def delete(ctx: Ctx) -> JsonObject:
    """`DELETE /v1/invoices/{id}`: only drafts can be deleted."""
    from stripe_emulator import events

    ctx.coerce(Obj())
    invoice = _load(ctx)
    if invoice["status"] != "draft":
        raise invalid(
            "You can only delete draft invoices. This invoice is not a draft.",
            code="invoice_not_editable",
        )
    events.emit(ctx, "invoice.deleted", shown(ctx, invoice))
    ctx.store.update(ctx.scope, "invoice", invoice, deleted=True)
    return {"id": invoice["id"], "object": "invoice", "deleted": True}


def list_lines(ctx: Ctx) -> JsonObject:
    """`GET /v1/invoices/{id}/lines`: every line, paged."""
    params = ctx.coerce(Obj(fields={**PAGINATION, **CREATED}))
    invoice = _load(ctx)
    page = fetch_page(ctx, LINE_ITEM, params, [Condition("k1", (invoice["id"],))])
    data = [render_line(row.load()) for row in page.rows]
    return list_envelope(f"/v1/invoices/{invoice['id']}/lines", data, page.has_more)


def register(emulator: Emulator) -> None:
    """Add invoices and their actions."""
    emulator.add_resource(INVOICE)
    emulator.registry.add(LINE_ITEM)
    emulator.router.add("POST", "/v1/invoices", create)
    emulator.router.add("DELETE", "/v1/invoices/{id}", delete)
    emulator.router.add("POST", "/v1/invoices/{id}/finalize", finalize)
    emulator.router.add("POST", "/v1/invoices/{id}/pay", pay)
    emulator.router.add("POST", "/v1/invoices/{id}/void", void)
    emulator.router.add("POST", "/v1/invoices/{id}/mark_uncollectible", mark_uncollectible)
    emulator.router.add("GET", "/v1/invoices/{id}/lines", list_lines)
