"""Payment methods (`pm_…`): cards from Stripe's test tokens or numbers; attach and detach."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from stripe_emulator import events
from stripe_emulator.billing.cards import (
    TEST_CARDS,
    CardError,
    TestCard,
    card_hash,
    number_card,
    token_card,
)
from stripe_emulator.billing.system import commit_then_raise
from stripe_emulator.errors import ApiError, invalid
from stripe_emulator.lists import fetch_page, list_envelope, list_params
from stripe_emulator.params import Enum, Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.crud import RETRIEVE_PARAMS, load, present, save
from stripe_emulator.resources.shapes import (
    ADDRESS,
    METADATA,
    NULLABLE_STR,
    address,
    merge_metadata,
)
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

BILLING_DETAILS = Obj(
    fields={
        "address": ADDRESS,
        "email": NULLABLE_STR,
        "name": NULLABLE_STR,
        "phone": NULLABLE_STR,
        "tax_id": NULLABLE_STR,
    }
)
CARD = Obj(
    fields={
        "cvc": Str(),
        "exp_month": Int(minimum=1, maximum=12),
        "exp_year": Int(),
        "number": Str(),
        "token": Str(),
    }
)
CREATE = Obj(
    fields={
        "allow_redisplay": Enum(values=("always", "limited", "unspecified")),
        "billing_details": BILLING_DETAILS,
        "card": CARD,
        "customer": Str(),
        "metadata": METADATA,
        "payment_method": Str(),
        "type": Enum(values=("card",)),
    }
)
UPDATE = Obj(
    fields={
        "allow_redisplay": Enum(values=("always", "limited", "unspecified")),
        "billing_details": BILLING_DETAILS,
        "card": Obj(fields={"exp_month": Int(minimum=1, maximum=12), "exp_year": Int()}),
        "metadata": METADATA,
    }
)
ATTACH = Obj(fields={"customer": Str()}, required=("customer",))
CUSTOMER_LIST = Obj(
    fields={
        "allow_redisplay": Enum(values=("always", "limited", "unspecified")),
        "limit": Str(),
        "starting_after": Str(),
        "ending_before": Str(),
        "type": Str(),
    }
)


def _billing_details(params: dict[str, Any] | None) -> JsonObject:
    params = params or {}
    return {
        "address": address(params.get("address"))
        or dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state")),
        "email": params.get("email"),
        "name": params.get("name"),
        "phone": params.get("phone"),
        "tax_id": params.get("tax_id"),
    }


def _fingerprint(ctx: Ctx, card: TestCard) -> str:
    # Stable per account and card, like Stripe's: the same test card matches itself.
    digest = hashlib.sha256(f"{ctx.scope.account}:{card.brand}:{card.last4}".encode()).hexdigest()
    return digest[:16]


def card_payment_method(
    ctx: Ctx,
    card: TestCard,
    *,
    params: JsonObject | None = None,
    object_id: str | None = None,
) -> JsonObject:
    """Return a new (unsaved) card payment method for a test card."""
    params = params or {}
    details = params.get("card") or {}
    return {
        "id": object_id or ctx.new_id("pm", 24),
        "object": "payment_method",
        "allow_redisplay": params.get("allow_redisplay", "unspecified"),
        "billing_details": _billing_details(params.get("billing_details")),
        "card": card_hash(
            card,
            _fingerprint(ctx, card),
            details.get("exp_month", 12),
            details.get("exp_year", 2034),
        ),
        "created": ctx.now(),
        "customer": None,
        "customer_account": None,
        "livemode": ctx.livemode,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "type": "card",
    }


def card_behaviour(payment_method: JsonObject) -> TestCard:
    """Return the behaviour of a stored card payment method (by brand and last four digits)."""
    card = payment_method["card"]
    for candidate in TEST_CARDS.values():
        if candidate.last4 == card["last4"] and candidate.brand == card["brand"]:
            return candidate
    return TestCard(card["brand"], card["last4"])


def _card_from_params(params: JsonObject) -> TestCard:
    card = params.get("card") or {}
    if "token" in card:
        found = token_card(card["token"])
        if found is None:
            raise ApiError(400, f"No such token: '{card['token']}'", param="card[token]")
        return found
    number = card.get("number")
    if number is None:
        raise invalid("Missing required param: card.", param="card", code="parameter_missing")
    found = number_card(number)
    if found is None:
        raise _incorrect_number()
    return found


def _incorrect_number() -> ApiError:
    """Return Stripe's error for a card number that is not a test number."""
    return ApiError(
        402,
        "Your card number is incorrect.",
        type_="card_error",
        code="incorrect_number",
        param="number",
    )


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new card payment method."""
    if params.get("payment_method"):
        raise invalid(
            "Cloning payment methods to connected accounts is not supported by the emulator.",
            param="payment_method",
        )
    if params.get("type", "card") != "card":
        raise invalid("Only card payment methods are emulated.", param="type")
    return card_payment_method(ctx, _card_from_params(params), params=params, object_id=object_id)


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to a payment method."""
    if "billing_details" in params:
        merged = {**obj["billing_details"], **(params["billing_details"] or {})}
        obj["billing_details"] = _billing_details(merged)
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    if "allow_redisplay" in params:
        obj["allow_redisplay"] = params["allow_redisplay"]
    for key in ("exp_month", "exp_year"):
        if key in (params.get("card") or {}):
            obj["card"][key] = params["card"][key]
    return obj


PAYMENT_METHOD = Resource(
    object="payment_method",
    path="/v1/payment_methods",
    id_prefix="pm",
    id_length=24,
    noun="PaymentMethod",
    create_params=CREATE,
    build=build,
    update_params=UPDATE,
    apply_update=update,
    listable=False,
    list_filters={"customer": ListFilter("k1", Str()), "type": ListFilter("k2", Str())},
    slots=lambda obj: (obj["customer"], obj["type"]),
    expandable={"customer": "customer"},
)


def resolve(ctx: Ctx, payment_method_id: str, *, param: str = "payment_method") -> JsonObject:
    """Return a stored payment method; a test token (`pm_card_visa`) makes a fresh one."""
    card = token_card(payment_method_id)
    if card is not None:
        obj = card_payment_method(ctx, card)
        save(ctx, PAYMENT_METHOD, obj, new=True)
        return obj
    row = ctx.store.get(ctx.scope, "payment_method", payment_method_id)
    if row is None or row.deleted:
        raise ApiError(
            400,
            f"No such PaymentMethod: '{payment_method_id}'",
            code="resource_missing",
            param=param,
        )
    return row.load()


def attach_to(ctx: Ctx, payment_method: JsonObject, customer_id: str) -> JsonObject:
    """Attach a payment method to a customer (a card Stripe would decline is refused)."""
    row = ctx.store.get(ctx.scope, "customer", customer_id)
    if row is None or row.deleted:
        raise ApiError(
            400, f"No such customer: '{customer_id}'", code="resource_missing", param="customer"
        )
    if payment_method["customer"] == customer_id:
        return payment_method
    if payment_method["customer"] is not None:
        raise invalid(
            "The payment method you provided has already been attached to a customer.",
            param="payment_method",
        )
    decline = card_behaviour(payment_method).attach_decline
    if decline is not None:
        commit_then_raise(ctx, CardError(decline))
    payment_method["customer"] = customer_id
    save(ctx, PAYMENT_METHOD, payment_method, new=False)
    events.emit(ctx, "payment_method.attached", payment_method)
    return payment_method


def attach(ctx: Ctx) -> JsonObject:
    """`POST /v1/payment_methods/{id}/attach`."""
    params = ctx.coerce(ATTACH)
    payment_method = resolve(ctx, ctx.path_params["id"], param="payment_method")
    attached = attach_to(ctx, payment_method, params["customer"])
    return present(ctx, PAYMENT_METHOD, attached, ctx.expand_paths())


def detach(ctx: Ctx) -> JsonObject:
    """`POST /v1/payment_methods/{id}/detach`."""
    ctx.coerce(Obj())
    payment_method = load(ctx, PAYMENT_METHOD, ctx.path_params["id"])
    if payment_method["customer"] is None:
        raise invalid(
            "The payment method you provided is not attached to a customer so detachment is "
            "impossible.",
            param="payment_method",
        )
    previous = payment_method["customer"]
    payment_method["customer"] = None
    save(ctx, PAYMENT_METHOD, payment_method, new=False)
    events.emit(ctx, "payment_method.detached", payment_method, previous={"customer": previous})
    return present(ctx, PAYMENT_METHOD, payment_method, ctx.expand_paths())


def list_payment_methods(ctx: Ctx) -> JsonObject:
    """`GET /v1/payment_methods`: those of a customer (`customer`), optionally by `type`."""
    params = ctx.coerce(list_params(PAYMENT_METHOD))
    return _page(ctx, params, "/v1/payment_methods")


def list_customer_payment_methods(ctx: Ctx) -> JsonObject:
    """`GET /v1/customers/{id}/payment_methods`."""
    params = ctx.coerce(CUSTOMER_LIST)
    customer = ctx.path_params["id"]
    load(ctx, _customer_resource(), customer, param="customer")
    params["customer"] = customer
    params.pop("allow_redisplay", None)
    return _page(ctx, params, f"/v1/customers/{customer}/payment_methods")


def _customer_resource() -> Resource:
    from stripe_emulator.resources.customers import CUSTOMER

    return CUSTOMER


def _page(ctx: Ctx, params: JsonObject, url: str) -> JsonObject:
    extra = [] if params.get("customer") else [Condition("k1", ("-",))]
    page = fetch_page(ctx, PAYMENT_METHOD, params, extra)
    item_paths = [path.removeprefix("data.") for path in ctx.expand_paths()]
    data = [present(ctx, PAYMENT_METHOD, row.load(), item_paths) for row in page.rows]
    return list_envelope(url, data, page.has_more)


def retrieve_customer_payment_method(ctx: Ctx) -> JsonObject:
    """`GET /v1/customers/{id}/payment_methods/{pm}`."""
    ctx.coerce(RETRIEVE_PARAMS)
    payment_method = load(ctx, PAYMENT_METHOD, ctx.path_params["pm"])
    if payment_method["customer"] != ctx.path_params["id"]:
        raise ApiError(
            404,
            f"No such PaymentMethod: '{ctx.path_params['pm']}'",
            code="resource_missing",
            param="payment_method",
        )
    return present(ctx, PAYMENT_METHOD, payment_method, ctx.expand_paths())


def register(emulator: Emulator) -> None:
    """Add payment methods and the customer-scoped routes."""
    emulator.add_resource(PAYMENT_METHOD)
    emulator.router.add("GET", "/v1/payment_methods", list_payment_methods)
    emulator.router.add("POST", "/v1/payment_methods/{id}/attach", attach)
    emulator.router.add("POST", "/v1/payment_methods/{id}/detach", detach)
    emulator.router.add("GET", "/v1/customers/{id}/payment_methods", list_customer_payment_methods)
    emulator.router.add(
        "GET", "/v1/customers/{id}/payment_methods/{pm}", retrieve_customer_payment_method
    )
