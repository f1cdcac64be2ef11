"""Drafting invoices: the invoice, its line items, discounts and totals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.billing.money import exponent, percent_of
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]
# Fields kept on the stored invoice for the emulator's own use, never shown.
PRIVATE = ("_application_fee_amount",)
# Stripe writes line quantities with a multiplication sign.
TIMES = "\u00d7"
SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£", "jpy": "¥", "cad": "CA$", "aud": "A$"}


def money(amount: int, currency: str) -> str:
    """Format an amount as an invoice line shows it (`$20.00`, `¥1,000`)."""
    digits = exponent(currency)
    major = amount / (10**digits) if digits else amount
    text = f"{major:,.{digits}f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency.upper()}"


def new_invoice(
    ctx: Ctx,
    customer: JsonObject,
    *,
    currency: str,
    billing_reason: str,
    subscription: JsonObject | None = None,
    params: JsonObject | None = None,
) -> JsonObject:
    """Store and return a new draft invoice for `customer` (no lines yet; no event yet)."""
    from stripe_emulator.resources.invoices import INVOICE

    params = params or {}
    now = ctx.now()
    collection = params.get("collection_method") or (
        subscription["collection_method"] if subscription else "charge_automatically"
    )
    days = params.get("days_until_due") or (subscription or {}).get("days_until_due")
    parent = None
    if subscription is not None:
        parent = {
            "quote_details": None,
            "subscription_details": {
                "metadata": dict(subscription["metadata"]),
                "subscription": subscription["id"],
            },
            "type": "subscription_details",
        }
    invoice: JsonObject = {
        "id": ctx.new_id("in", 24),
        "object": "invoice",
        "account_country": "US",
        "account_name": None,
        "account_tax_ids": None,
        "amount_due": 0,
        "amount_overpaid": 0,
        "amount_paid": 0,
        "amount_paid_off_stripe": 0,
        "amount_remaining": 0,
        "amount_shipping": 0,
        "application": ctx.emulator.platform.client_id if ctx.on_behalf else None,
        "attempt_count": 0,
        "attempted": False,
        "auto_advance": params.get("auto_advance", subscription is not None),
        "automatic_tax": {
            "disabled_reason": None,
            "enabled": False,
            "liability": None,
            "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None,
        "billing_reason": billing_reason,
        "collection_method": collection,
        "created": now,
        "currency": currency,
        "custom_fields": None,
        "customer": customer["id"],
        "customer_account": None,
        "customer_address": customer.get("address"),
        "customer_email": customer.get("email"),
        "customer_name": customer.get("name"),
        "customer_phone": customer.get("phone"),
        "customer_shipping": customer.get("shipping"),
        "customer_tax_exempt": customer.get("tax_exempt", "none"),
        "customer_tax_ids": [],
        "default_payment_method": params.get("default_payment_method"),
        "default_source": None,
        "default_tax_rates": [],
        "description": params.get("description"),
        "discounts": list(params.get("discounts") or []),
        "due_date": now + days * 86400 if collection == "send_invoice" and days else None,
        "effective_at": None,
        "ending_balance": None,
        "footer": params.get("footer"),
        "from_invoice": None,
        "hosted_invoice_url": None,
        "invoice_pdf": None,
        "issuer": {"type": "self"},
        "last_finalization_error": None,
        "latest_revision": None,
        "livemode": ctx.livemode,
        "metadata": dict(params.get("metadata") or {}),
        "next_payment_attempt": None,
        "number": None,
        "on_behalf_of": None,
        "parent": parent,
        "payment_settings": {
            "default_mandate": None,
            "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": params.get("period_end", now),
        "period_start": params.get("period_start", now),
        "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0,
        "receipt_number": None,
        "rendering": None,
        "shipping_cost": None,
        "shipping_details": None,
        "starting_balance": 0,
        "statement_descriptor": params.get("statement_descriptor"),
        "status": "draft",
        "status_transitions": {
            "finalized_at": None,
            "marked_uncollectible_at": None,
            "paid_at": None,
            "voided_at": None,
        },
        "subtotal": 0,
        "subtotal_excluding_tax": 0,
        "test_clock": customer.get("test_clock"),
        "total": 0,
        "total_discount_amounts": [],
        "total_excluding_tax": 0,
        "total_pretax_credit_amounts": [],
        "total_taxes": [],
        "webhooks_delivered_at": None,
        "_application_fee_amount": params.get("application_fee_amount"),
    }
    ctx.store.insert(ctx.scope, "invoice", invoice, INVOICE.slots(invoice))
    return invoice


def price_line(
    ctx: Ctx,
    invoice: JsonObject,
    price: JsonObject | None,
    *,
    quantity: int,
    period: tuple[int, int],
    subscription: str | None = None,
    item: str | None = None,
    amount: int | None = None,
    description: str | None = None,
    proration: bool = False,
    invoice_item: str | None = None,
    discounts: list[str] | None = None,
) -> JsonObject:
    """Store a line for `quantity` of `price` over `period` (`amount` overrides the product).

    `discounts` are the line's own (a subscription item's): applied before the invoice's.
    """
    from stripe_emulator.billing.pricing import period_amount

    unit = (price or {}).get("unit_amount") or 0
    if amount is None:
        amount = period_amount(price, quantity) if price is not None else unit * quantity
    if description is None and price is not None:
        description = f"{quantity} {TIMES} {product_name(ctx, price)}"
        if price.get("recurring"):
            recurring = price["recurring"]
            every = recurring["interval"]
            if recurring["interval_count"] != 1:
                every = f"{recurring['interval_count']} {every}s"
            description += f" (at {money(unit, price['currency'])} / {every})"
    if item is not None:
        parent: JsonObject = {
            "invoice_item_details": None,
            "subscription_item_details": {
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription,
                "subscription_item": item,
            },
            "type": "subscription_item_details",
        }
    else:
        parent = {
            "invoice_item_details": {
                "invoice_item": invoice_item,
                "proration": proration,
                "proration_details": {"credited_items": None},
                "subscription": subscription,
            },
            "subscription_item_details": None,
            "type": "invoice_item_details",
        }
    line: JsonObject = {
        "id": ctx.new_id("il", 24),
        "object": "line_item",
        "amount": amount,
        "currency": invoice["currency"],
        "created": ctx.now(),
        "description": description,
        "discount_amounts": [],
        "discountable": not proration,
        "discounts": list(discounts or []),
        "invoice": invoice["id"],
        "livemode": ctx.livemode,
        "metadata": {},
        "parent": parent,
        "period": {"end": period[1], "start": period[0]},
        "pretax_credit_amounts": [],
        "pricing": {
            "price_details": None
            if price is None
            else {"price": price["id"], "product": price["product"]},
            "type": "price_details",
            "unit_amount_decimal": str(amount // max(quantity, 1))
            if price is None
            else price.get("unit_amount_decimal"),
        },
        "quantity": quantity,
        "quantity_decimal": str(quantity),
        "subscription": subscription,
        "subtotal": amount,
        "taxes": [],
    }
    store_line(ctx, line, new=True)
    return line


def item_line(ctx: Ctx, invoice: JsonObject, item: JsonObject) -> JsonObject:
    """Store the line for a pending invoice item and mark the item as invoiced."""
    from stripe_emulator.resources.invoice_items import INVOICE_ITEM

    price_id = ((item.get("pricing") or {}).get("price_details") or {}).get("price")
    price = None
    if price_id is not None:
        row = ctx.store.get(ctx.scope, "price", price_id)
        price = row.load() if row is not None else None
    details = (item.get("parent") or {}).get("subscription_details") or {}
    line = price_line(
        ctx,
        invoice,
        price,
        quantity=item["quantity"],
        period=(item["period"]["start"], item["period"]["end"]),
        subscription=details.get("subscription"),
        item=details.get("subscription_item"),
        amount=item["amount"],
        description=item["description"],
        proration=item["proration"],
        invoice_item=item["id"],
    )
    line["discountable"] = item["discountable"]
    store_line(ctx, line)
    item["invoice"] = invoice["id"]
    ctx.store.update(ctx.scope, "invoiceitem", item, INVOICE_ITEM.slots(item))
    return line


def pending_items(ctx: Ctx, customer: str, subscription: str | None = None) -> list[JsonObject]:
    """Return a customer's invoice items not yet on an invoice (those of one subscription)."""
    conditions = [Condition("k1", (customer,)), Condition("k2", ("pending",))]
    if subscription is not None:
        conditions.append(Condition("k3", (subscription,)))
    page = ctx.store.list_page(ctx.scope, "invoiceitem", limit=100, conditions=conditions)
    return [row.load() for row in page.rows]


def store_line(ctx: Ctx, line: JsonObject, *, new: bool = False) -> None:
    """Insert (`new`) or replace a line item (indexed by its invoice)."""
    from stripe_emulator.resources.invoices import LINE_ITEM

    if not new and ctx.store.exists(ctx.scope, "line_item", line["id"]):
        ctx.store.update(ctx.scope, "line_item", line, LINE_ITEM.slots(line))
    else:
        ctx.store.insert(ctx.scope, "line_item", line, LINE_ITEM.slots(line))


def product_name(ctx: Ctx, price: JsonObject) -> str:
    """Return the name of a price's product (or its id when it is gone)."""
    row = ctx.store.get(ctx.scope, "product", price["product"])
    return str(row.load()["name"]) if row is not None else str(price["product"])


def lines_of(ctx: Ctx, invoice_id: str) -> list[JsonObject]:
    """Return every line of an invoice, newest first."""
    result: list[JsonObject] = []
    after: tuple[int, int] | None = None
    while True:
        page = ctx.store.list_page(
            ctx.scope,
            "line_item",
            limit=100,
            conditions=[Condition("k1", (invoice_id,))],
            after=after,
        )
        result.extend(row.load() for row in page.rows)
        if not page.has_more:
            return result
        after = (page.rows[-1].created, page.rows[-1].seq)


def discount_objects(ctx: Ctx, discount_ids: list[str]) -> list[JsonObject]:
    """Return the stored discounts of `discount_ids` (an invoice's or a line's), in order."""
    found: list[JsonObject] = []
    for discount_id in discount_ids:
        row = ctx.store.get(ctx.scope, "discount", discount_id)
        if row is not None:
            found.append(row.load())
    return found


def _coupon(ctx: Ctx, discount: JsonObject) -> JsonObject | None:
    row = ctx.store.get(ctx.scope, "coupon", discount["source"]["coupon"])
    return row.load() if row is not None else None


def _off(coupon: JsonObject | None, base: int, currency: str) -> int | None:
    """Return what a coupon takes off `base` (None: no coupon, or nothing left to discount)."""
    if coupon is None or base <= 0:
        return None
    if coupon.get("percent_off") is not None:
        return percent_of(base, coupon["percent_off"])
    if coupon.get("currency") == currency:
        return min(int(coupon["amount_off"]), base)
    return 0


def recompute(ctx: Ctx, invoice: JsonObject) -> JsonObject:
    """Recalculate line discounts and the invoice totals from the stored lines.

    A line's own discounts (a subscription item's) apply first, to that line; the invoice's
    then apply to what is left of every discountable line, in proportion.
    """
    lines = lines_of(ctx, invoice["id"])
    subtotal = sum(line["amount"] for line in lines)
    discountable = [line for line in lines if line["discountable"] and line["amount"] > 0]
    stored = [line["discount_amounts"] for line in lines]
    for line in lines:
        line["discount_amounts"] = []
    net = {line["id"]: line["amount"] for line in discountable}
    totals: list[JsonObject] = []
    for line in discountable:
        for discount in discount_objects(ctx, line.get("discounts") or []):
            off = _off(_coupon(ctx, discount), net[line["id"]], invoice["currency"])
            if off is None:
                continue
            line["discount_amounts"].append({"amount": off, "discount": discount["id"]})
            totals.append({"amount": off, "discount": discount["id"]})
            net[line["id"]] -= off
    remaining = sum(net.values())
    for discount in discount_objects(ctx, invoice["discounts"]):
        off = _off(_coupon(ctx, discount), remaining, invoice["currency"])
        if off is None:
            continue
        _allocate([line for line in discountable if net[line["id"]] > 0], net, off, discount["id"])
        totals.append({"amount": off, "discount": discount["id"]})
        remaining -= off
    for line, was in zip(lines, stored, strict=True):
        if line["discount_amounts"] != was:
            store_line(ctx, line)
    discount_total = sum(entry["amount"] for entry in totals)
    total = subtotal - discount_total
    invoice["subtotal"] = invoice["subtotal_excluding_tax"] = subtotal
    invoice["total_discount_amounts"] = totals
    invoice["total"] = invoice["total_excluding_tax"] = total
    invoice["amount_due"] = max(total, 0)
    invoice["amount_remaining"] = max(invoice["amount_due"] - invoice["amount_paid"], 0)
    return invoice


def _allocate(lines: list[JsonObject], net: dict[str, int], amount: int, discount_id: str) -> None:
    """Spread a discount over lines in proportion to what is left of each (remainder on the
    last), and take each share off what is left."""
    base = sum(net[line["id"]] for line in lines)
    left = amount
    for index, line in enumerate(lines):
        share = left if index == len(lines) - 1 else amount * net[line["id"]] // base
        left -= share
        net[line["id"]] -= share
        line["discount_amounts"].append({"amount": share, "discount": discount_id})


def save_invoice(ctx: Ctx, invoice: JsonObject) -> None:
    """Store a changed invoice."""
    from stripe_emulator.resources.invoices import INVOICE

    ctx.store.update(ctx.scope, "invoice", invoice, INVOICE.slots(invoice))


def shown(ctx: Ctx, invoice: JsonObject) -> JsonObject:
    """Return the invoice as the API shows it (lines composed, private fields dropped)."""
    from stripe_emulator.events import snapshot
    from stripe_emulator.resources.crud import present
    from stripe_emulator.resources.invoices import INVOICE

    return present(ctx, INVOICE, snapshot(invoice), [])
