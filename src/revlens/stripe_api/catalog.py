"""The catalog of mirrored Stripe object types: data, not code paths.

A stream is one list endpoint with fixed parameters. Some object types need two streams because
the list endpoint hides part of them by default (prices: active only). Children are embedded lists
that Stripe caps (subscription `items`, invoice `lines`) and that are paged to the end.

Only what the analytics read is mirrored (metrics.md): payment intents are not, because every
cash figure comes from charges, refunds, disputes and balance transactions and no metric reads
them. Mirroring them cost a fifth of a backfill's objects and an eighth of its requests.
Likewise the backfill's event history holds only the event types the analytics read.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Child:
    """An embedded list of a parent object and where to page the rest of it."""

    field: str
    # `{id}` is the parent's id; paged with starting_after like any list.
    path: str
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stream:
    """One list endpoint the backfill pages through."""

    name: str
    object_type: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    children: tuple[Child, ...] = ()
    # Lists only on the platform's own account (no Stripe-Account header).
    platform_only: bool = False
    # The field the `created` filter and the list order go by (invoice items call it `date`).
    created_field: str = "created"


@dataclass(frozen=True)
class ObjectType:
    """How a mirrored object type is recognised in events and which fields are promoted."""

    name: str
    # Event types that delete the object (a tombstone); anything else carrying it updates it.
    delete_events: frozenset[str] = frozenset()
    children: tuple[Child, ...] = ()
    # A payload is lossy when an embedded list is capped: re-fetch it from this path.
    retrieve_path: str | None = None
    final_statuses: frozenset[str] = field(default_factory=frozenset)


ITEMS = Child("items", "/v1/subscription_items", (("subscription", "{id}"),))
LINES = Child("lines", "/v1/invoices/{id}/lines")
TIERS = ("expand[]", "data.tiers")

OBJECT_TYPES: dict[str, ObjectType] = {
    t.name: t
    for t in (
        ObjectType("customer", frozenset({"customer.deleted"}), retrieve_path="/v1/customers/{id}"),
        ObjectType("product", frozenset({"product.deleted"}), retrieve_path="/v1/products/{id}"),
        # Tiers are left out unless asked for (`expand`), here and in the lists.
        ObjectType(
            "price", frozenset({"price.deleted"}), retrieve_path="/v1/prices/{id}?expand[]=tiers"
        ),
        ObjectType(
            "plan", frozenset({"plan.deleted"}), retrieve_path="/v1/plans/{id}?expand[]=tiers"
        ),
        ObjectType("coupon", frozenset({"coupon.deleted"}), retrieve_path="/v1/coupons/{id}"),
        ObjectType("promotion_code", retrieve_path="/v1/promotion_codes/{id}"),
        ObjectType("tax_rate", retrieve_path="/v1/tax_rates/{id}"),
        ObjectType(
            "subscription",
            children=(ITEMS,),
            # Payloads name their discounts by id only: read them whole when re-fetching.
            retrieve_path="/v1/subscriptions/{id}?expand[]=discounts",
            final_statuses=frozenset({"canceled", "incomplete_expired"}),
        ),
        ObjectType(
            "invoice",
            frozenset({"invoice.deleted"}),
            children=(LINES,),
            # A `once` discount leaves its subscription when its first invoice used it: only
            # the invoice still shows it, and by id unless expanded.
            retrieve_path="/v1/invoices/{id}?expand[]=discounts",
            final_statuses=frozenset({"paid", "void", "uncollectible"}),
        ),
        ObjectType(
            "invoiceitem", frozenset({"invoiceitem.deleted"}), retrieve_path="/v1/invoiceitems/{id}"
        ),
        ObjectType("charge", retrieve_path="/v1/charges/{id}"),
        ObjectType("refund", retrieve_path="/v1/refunds/{id}"),
        ObjectType("dispute", retrieve_path="/v1/disputes/{id}"),
        ObjectType("balance_transaction", retrieve_path="/v1/balance_transactions/{id}"),
        ObjectType("application_fee", retrieve_path="/v1/application_fees/{id}"),
        # Never listed nor fetched by id: expanded from subscriptions, or from discount events.
        ObjectType("discount"),
    )
}

STREAMS: tuple[Stream, ...] = (
    Stream("customers", "customer", "/v1/customers"),
    Stream("products", "product", "/v1/products"),
    Stream("prices_active", "price", "/v1/prices", (("active", "true"), TIERS)),
    Stream("prices_inactive", "price", "/v1/prices", (("active", "false"), TIERS)),
    Stream("plans_active", "plan", "/v1/plans", (("active", "true"), TIERS)),
    Stream("plans_inactive", "plan", "/v1/plans", (("active", "false"), TIERS)),
    Stream("coupons", "coupon", "/v1/coupons"),
    Stream("promotion_codes", "promotion_code", "/v1/promotion_codes"),
    Stream("tax_rates", "tax_rate", "/v1/tax_rates"),
    Stream(
        "subscriptions",
        "subscription",
        "/v1/subscriptions",
        (("status", "all"), ("expand[]", "data.discounts")),
        (ITEMS,),
    ),
    Stream("invoices", "invoice", "/v1/invoices", (("expand[]", "data.discounts"),), (LINES,)),
    Stream("invoiceitems", "invoiceitem", "/v1/invoiceitems", created_field="date"),
    Stream("charges", "charge", "/v1/charges"),
    Stream("refunds", "refund", "/v1/refunds"),
    Stream("disputes", "dispute", "/v1/disputes"),
    Stream("balance_transactions", "balance_transaction", "/v1/balance_transactions"),
    Stream("application_fees", "application_fee", "/v1/application_fees", platform_only=True),
)


# The event types whose history the analytics read (`customer.subscription.*` and
# `customer.discount.*`: metrics/inputs.py), every one Stripe defines (its OpenAPI spec). The
# backfill logs the last 30 days of these only: the other types' objects are read whole by their
# own streams, and in a demo-sized account the rest were 87 % of the events and a quarter of the
# backfill's bytes. Stripe's `types` filter takes up to 20 exact names, no wildcards.
HISTORY_EVENT_TYPES: tuple[str, ...] = (
    "customer.discount.created",
    "customer.discount.deleted",
    "customer.discount.updated",
    "customer.subscription.created",
    "customer.subscription.deleted",
    "customer.subscription.paused",
    "customer.subscription.pending_update_applied",
    "customer.subscription.pending_update_expired",
    "customer.subscription.resumed",
    "customer.subscription.trial_will_end",
    "customer.subscription.updated",
)


def stream_by_name(name: str) -> Stream:
    """Return the catalog's stream with this name (KeyError when there is none)."""
    for stream in STREAMS:
        if stream.name == name:
            return stream
    raise KeyError(name)


def account_streams() -> tuple[Stream, ...]:
    """Return the streams backfilled for a connected account."""
    return tuple(stream for stream in STREAMS if not stream.platform_only)


def object_type_of(event_type: str, obj: dict[str, object]) -> ObjectType | None:
    """Return the mirrored type an event's object is, or None when revlens does not mirror it."""
    return OBJECT_TYPES.get(str(obj.get("object", "")))
