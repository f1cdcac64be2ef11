"""Subscriptions (`sub_…`): create (first invoice paid at once), update, cancel, resume, list."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.billing import lifecycle
from stripe_emulator.billing import subscriptions as billing
from stripe_emulator.billing.changes import (
    set_cancellation,
)
from stripe_emulator.billing.trials import trial_settings
from stripe_emulator.errors import invalid
from stripe_emulator.lists import embedded_list, fetch_page, list_envelope, list_params
from stripe_emulator.params import AnyHash, Arr, Bool, Enum, Int, Num, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import new_id, present
from stripe_emulator.resources.shapes import (
    METADATA,
    NULLABLE_STR,
    merge_metadata,
    missing_reference,
)
from stripe_emulator.resources.subscription_inputs import (
    check_payment_method,
    discounts_from,
    item_discounts_from,
    resolve_price,
    trial_end_from,
)
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

DISCOUNTS = Arr(
    item=Obj(fields={"coupon": Str(), "discount": Str(), "promotion_code": Str()}),
    emptyable=True,
)
ITEM = Obj(
    fields={
        "clear_usage": Bool(),
        "deleted": Bool(),
        "discounts": DISCOUNTS,
        "id": Str(),
        "metadata": METADATA,
        "plan": Str(),
        "price": Str(),
        "price_data": AnyHash(),
        "quantity": Int(minimum=0),
        "tax_rates": Arr(item=Str(), emptyable=True),
    }
)
PAUSE = Obj(
    fields={
        "behavior": Enum(values=("keep_as_draft", "mark_uncollectible", "void")),
        "resumes_at": Int(),
    },
    required=("behavior",),
    emptyable=True,
)
PRORATION = Enum(values=("always_invoice", "create_prorations", "none"))
_COMMON = {
    "application_fee_percent": Num(minimum=0.0, maximum=100.0, emptyable=True),
    "automatic_tax": AnyHash(),
    "cancel_at": Int(emptyable=True),
    "cancel_at_period_end": Bool(),
    "collection_method": Enum(values=("charge_automatically", "send_invoice")),
    "coupon": Str(emptyable=True),
    "days_until_due": Int(minimum=0),
    "default_payment_method": Str(emptyable=True),
    "default_tax_rates": Arr(item=Str(), emptyable=True),
    "description": NULLABLE_STR,
    "discounts": DISCOUNTS,
    "items": Arr(item=ITEM, max_items=20),
    "metadata": METADATA,
    "off_session": Bool(),
    "payment_behavior": Enum(
        values=(
            "allow_incomplete",
            "default_incomplete",
            "error_if_incomplete",
            "pending_if_incomplete",
        )
    ),
    "payment_settings": AnyHash(),
    "promotion_code": Str(emptyable=True),
    "proration_behavior": PRORATION,
    "trial_end": Str(),
    "trial_settings": AnyHash(),
}
CREATE = Obj(
    fields={
        **_COMMON,
        "add_invoice_items": Arr(item=AnyHash()),
        "backdate_start_date": Int(),
        "billing_cycle_anchor": Int(),
        "currency": Str(),
        "customer": Str(),
        "on_behalf_of": Str(),
        "trial_from_plan": Bool(),
        "trial_period_days": Int(minimum=0, maximum=730),
    },
    required=("customer", "items"),
)
UPDATE = Obj(
    fields={
        **_COMMON,
        "billing_cycle_anchor": Enum(values=("now", "unchanged")),
        "cancellation_details": AnyHash(),
        "pause_collection": PAUSE,
        "proration_date": Int(),
        "trial_from_plan": Bool(),
    }
)
CANCEL = Obj(fields={"cancellation_details": AnyHash(), "invoice_now": Bool(), "prorate": Bool()})
RESUME = Obj(
    fields={
        "billing_cycle_anchor": Enum(values=("now", "unchanged")),
        "proration_behavior": PRORATION,
        "proration_date": Int(),
    }
)
STATUSES = ("active", "incomplete", "past_due", "paused", "trialing", "unpaid")
STATUS_FILTER = Enum(
    values=(
        "active",
        "all",
        "canceled",
        "ended",
        "incomplete",
        "incomplete_expired",
        "past_due",
        "paused",
        "trialing",
        "unpaid",
    )
)


def _status_conditions(value: Any) -> list[Condition]:
    if value == "all":
        return []
    if value == "ended":
        return [Condition("k2", ("canceled", "incomplete_expired"))]
    return [Condition("k2", (value,))]


def render_item(ctx: Ctx, item: JsonObject) -> JsonObject:
    """Embed the item's current price and its plan view."""
    from stripe_emulator.resources.plans import plan_from_price

    price = billing.price_of(ctx, item["price"])
    item["price"] = price
    item["plan"] = plan_from_price(price)
    return item


def render(ctx: Ctx, obj: JsonObject) -> JsonObject:
    """Compose `items` (first 10, paged at `/v1/subscription_items`), hide private fields."""
    from stripe_emulator.resources.subscription_items import SUBSCRIPTION_ITEM

    obj.pop(billing.ANNOUNCED, None)
    obj["items"] = embedded_list(
        ctx,
        SUBSCRIPTION_ITEM,
        url=f"/v1/subscription_items?subscription={obj['id']}",
        conditions=[Condition("k1", (obj["id"],))],
        present=lambda item: render_item(ctx, item),
    )
    return obj


SUBSCRIPTION = Resource(
    object="subscription",
    path="/v1/subscriptions",
    id_prefix="sub",
    id_length=24,
    listable=False,
    list_filters={
        "collection_method": ListFilter("k3", Str()),
        "customer": ListFilter("k1", Str()),
        "test_clock": ListFilter("$.test_clock", Str()),
        "status": ListFilter(
            "k2",
            STATUS_FILTER,
            default="default",
            to_conditions=lambda value: (
                _status_conditions(value) if value != "default" else [Condition("k2", STATUSES)]
            ),
        ),
    },
    # k4 is the id again so the price filter can select subscriptions by id.
    slots=lambda obj: (obj["customer"], obj["status"], obj["collection_method"], obj["id"]),
    expandable={
        "customer": "customer",
        "default_payment_method": "payment_method",
        "discounts": "discount",
        "latest_invoice": "invoice",
    },
    render=render,
)


def create(ctx: Ctx) -> JsonObject:
    """`POST /v1/subscriptions`."""
    from stripe_emulator.resources.charges import check_application_fee

    params = ctx.coerce(CREATE)
    if params.get("application_fee_percent") is not None:
        check_application_fee(ctx, 0)
    customer = params["customer"]
    row = ctx.store.get(ctx.scope, "customer", customer)
    if row is None or row.deleted:
        raise missing_reference("customer", customer, "customer")
    test_clock = row.load().get("test_clock")
    if test_clock:
        from stripe_emulator.resources.test_clocks import follow_test_clock

        follow_test_clock(ctx, test_clock)
    if not params["items"]:
        raise invalid("Missing required param: items.", param="items", code="parameter_missing")
    currency = params.get("currency")
    prices = []
    for index, spec in enumerate(params["items"]):
        price = resolve_price(ctx, spec, f"items[{index}]", currency)
        currency = price["currency"]
        prices.append(price)
    check_payment_method(ctx, params.get("default_payment_method"), customer)
    now = ctx.now()
    start = params.get("backdate_start_date", now)
    trial_end = trial_end_from(ctx, params, prices)
    object_id = new_id(ctx, SUBSCRIPTION, {})
    subscription = _new(
        ctx, object_id, params, currency=str(currency), start=start, trial_end=trial_end
    )
    subscription["test_clock"] = test_clock
    ctx.store.insert(ctx.scope, "subscription", subscription, SUBSCRIPTION.slots(subscription))
    subscription["discounts"] = discounts_from(ctx, params, object_id, customer)
    recurring = prices[0]["recurring"]
    from stripe_emulator.billing.periods import add_interval

    anchor = params.get("billing_cycle_anchor")
    if anchor is not None and anchor <= now:
        raise invalid("billing_cycle_anchor cannot be in the past.", param="billing_cycle_anchor")
    full_end = add_interval(start, recurring["interval"], recurring["interval_count"])
    if anchor is not None and anchor > full_end:
        raise invalid(
            "billing_cycle_anchor cannot be later than next natural billing date for plan.",
            param="billing_cycle_anchor",
        )
    end = trial_end or anchor or full_end
    for index, (spec, price) in enumerate(zip(params["items"], prices, strict=True)):
        item = billing.new_item(
            ctx,
            subscription,
            price=price,
            quantity=spec.get("quantity", 1),
            period=(start, end),
            metadata=spec.get("metadata"),
        )
        if spec.get("discounts"):
            item["discounts"] = item_discounts_from(
                ctx, spec, f"items[{index}]", subscription, item["id"]
            )
            billing.save_item(ctx, item)
    subscription["billing_cycle_anchor"] = params.get("billing_cycle_anchor") or trial_end or start
    set_cancellation(ctx, subscription, params)
    billing.save(ctx, subscription)
    subscription = lifecycle.start(
        ctx, subscription, params.get("payment_behavior", "allow_incomplete")
    )
    return present(ctx, SUBSCRIPTION, subscription, ctx.expand_paths())


def _new(
    ctx: Ctx,
    object_id: str,
    params: JsonObject,
    *,
    currency: str,
    start: int,
    trial_end: int | None,
) -> JsonObject:
    collection = params.get("collection_method", "charge_automatically")
    return {
        "id": object_id,
        "object": "subscription",
        "application": ctx.emulator.platform.client_id if ctx.on_behalf else None,
        "application_fee_percent": params.get("application_fee_percent"),
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": start,
        "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"},
        "billing_thresholds": None,
        "cancel_at": None,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": collection,
        "created": ctx.now(),
        "currency": currency,
        "customer": params["customer"],
        "customer_account": None,
        "days_until_due": params.get("days_until_due") if collection == "send_invoice" else None,
        "default_payment_method": params.get("default_payment_method"),
        "default_source": None,
        "default_tax_rates": [],
        "description": params.get("description"),
        "discounts": [],
        "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "latest_invoice": None,
        "livemode": ctx.livemode,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "next_pending_invoice_item_invoice": None,
        "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None,
            "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None,
        "pending_setup_intent": None,
        "pending_update": None,
        "schedule": None,
        "start_date": start,
        "status": "incomplete",
        "test_clock": None,
        "transfer_data": None,
        "trial_end": trial_end,
        "trial_settings": trial_settings(params.get("trial_settings")),
        "trial_start": ctx.now() if trial_end else None,
    }


def list_subscriptions(ctx: Ctx) -> JsonObject:
    """`GET /v1/subscriptions`: canceled ones only with `status=canceled|ended|all`."""
    spec = list_params(SUBSCRIPTION).extend(price=Str(), plan=Str())
    params = ctx.coerce(spec)
    extra: list[Condition] = []
    price = params.pop("price", None) or params.pop("plan", None)
    if price is not None:
        # Subscriptions holding the price, found through their items.
        page = ctx.store.list_page(
            ctx.scope, "subscription_item", limit=10_000, conditions=[Condition("k2", (price,))]
        )
        owners = tuple({row.load()["subscription"] for row in page.rows}) or ("-",)
        extra.append(Condition("k4", owners))
    if "test_clock" not in params and "customer" not in params:
        # Stripe leaves test-clock subscriptions out unless asked by clock or customer.
        extra.append(Condition("$.test_clock", (None,)))
    page = fetch_page(ctx, SUBSCRIPTION, params, extra)
    item_paths = [path.removeprefix("data.") for path in ctx.expand_paths()]
    data = [present(ctx, SUBSCRIPTION, row.load(), item_paths) for row in page.rows]
    return list_envelope("/v1/subscriptions", data, page.has_more)


def register(emulator: Emulator) -> None:
    """Add subscriptions and their actions."""
    from stripe_emulator.resources import subscription_updates

    emulator.add_resource(SUBSCRIPTION)
    emulator.router.add("POST", "/v1/subscriptions", create)
    emulator.router.add("GET", "/v1/subscriptions", list_subscriptions)
    subscription_updates.register(emulator)
