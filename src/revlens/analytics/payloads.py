"""Read Stripe JSON of any API version into the model: one place knows every shape.

Old (<= acacia) and current (basil, clover, dahlia) shapes differ: `invoice.subscription` moved to
`invoice.parent.subscription_details.subscription`, `line.price`/`line.plan` to
`line.pricing.price_details.price`, `discount.coupon` to `discount.source.coupon`, and
`subscription.current_period_*` to the items. Any referenced object may be an id or expanded.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from revlens.analytics.model import (
    BillingScheme,
    Coupon,
    Discount,
    Duration,
    Interval,
    Item,
    Price,
    Tier,
    TiersMode,
    UsageType,
)

JSON = Mapping[str, Any]
_CATALOG_KINDS = {"price": "prices", "plan": "prices", "coupon": "coupons", "discount": "discounts"}


class _Embedded:
    """The catalog objects some payloads embed, found by walking them once, on the first miss."""

    __slots__ = ("_found", "_payloads")

    def __init__(self, payloads: tuple[Any, ...]) -> None:
        self._payloads = payloads
        self._found: dict[str, dict[str, JSON]] | None = None

    def of(self, kind: str) -> dict[str, JSON]:
        """Return the embedded objects of one kind (prices, coupons or discounts) by id."""
        if self._found is None:
            found: dict[str, dict[str, JSON]] = {"prices": {}, "coupons": {}, "discounts": {}}
            for payload in self._payloads:
                for obj in _walk(payload):
                    name = obj.get("object")
                    kind_of = _CATALOG_KINDS.get(name) if isinstance(name, str) else None
                    if kind_of and isinstance(obj.get("id"), str):
                        found[kind_of].setdefault(obj["id"], obj)
            self._found = found
        return self._found[kind]


class _Layered(Mapping[str, JSON]):
    """A catalog's own objects of one kind, then those its payloads embed (own ones win)."""

    __slots__ = ("_base", "_embedded", "_kind")

    def __init__(self, base: Mapping[str, JSON], embedded: _Embedded, kind: str) -> None:
        self._base, self._embedded, self._kind = base, embedded, kind

    def get(self, key: str, default: Any = None) -> Any:
        """Return the object with this id (own first), or `default`."""
        found = self._base.get(key)
        if found is None:
            found = self._embedded.of(self._kind).get(key)
        return default if found is None else found

    def own(self, key: str) -> JSON | None:
        """Return the catalog's own object with this id, never walking the payloads."""
        base = self._base
        return base.own(key) if isinstance(base, _Layered) else base.get(key)

    def __getitem__(self, key: str) -> JSON:
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        yield from self._base
        yield from (key for key in self._embedded.of(self._kind) if key not in self._base)

    def __len__(self) -> int:
        return sum(1 for _ in self)


@dataclass(frozen=True, slots=True)
class Catalog:
    """Objects that payloads may reference by id: prices (and plans), coupons, discounts.

    `parsed` remembers each price and discount object already read (by identity, kept alive
    with it: an id is never reused while its object lives); catalogs derived with
    `including` share it.
    """

    prices: Mapping[str, JSON] = field(default_factory=dict)
    coupons: Mapping[str, JSON] = field(default_factory=dict)
    discounts: Mapping[str, JSON] = field(default_factory=dict)
    parsed: dict[int, tuple[JSON, Price | Discount | None]] = field(
        default_factory=dict, compare=False
    )

    def including(self, *payloads: Any) -> Catalog:
        """Return a catalog that also knows every price, coupon and discount the payloads embed.

        The payloads are only walked if a lookup misses the catalog's own objects.
        """
        embedded = _Embedded(payloads)
        return Catalog(
            prices=_Layered(self.prices, embedded, "prices"),
            coupons=_Layered(self.coupons, embedded, "coupons"),
            discounts=_Layered(self.discounts, embedded, "discounts"),
            parsed=self.parsed,
        )


def _walk(value: Any) -> Iterator[JSON]:
    if isinstance(value, Mapping):
        yield value
        for child in value.values():
            yield from _walk(child)
    elif isinstance(value, list):
        for child in value:
            yield from _walk(child)


def object_id(value: Any) -> str | None:
    """Return the id of a reference that is either an id string or an expanded object."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = value.get("id")
        return found if isinstance(found, str) else None
    return None


def _resolve(value: Any, lookup: Mapping[str, JSON]) -> JSON | None:
    if isinstance(value, Mapping):
        # The catalog's copy is complete: an embedded price lacks its tiers, for one.
        key = value.get("id")
        if not isinstance(key, str):
            return value
        found = lookup.own(key) if isinstance(lookup, _Layered) else lookup.get(key)
        return found if found is not None else value
    if isinstance(value, str):
        return lookup.get(value)
    return None


def _exact(obj: JSON, decimal_key: str, int_key: str) -> Fraction:
    decimal = obj.get(decimal_key)
    if decimal is not None:
        return Fraction(str(decimal))
    number = obj.get(int_key)
    return Fraction(number) if number is not None else Fraction(0)


def _tiers(raw: Any) -> tuple[Tier, ...]:
    return tuple(
        Tier(
            up_to=None if tier.get("up_to") in (None, "inf") else int(tier["up_to"]),
            unit_amount=_exact(tier, "unit_amount_decimal", "unit_amount"),
            flat_amount=_exact(tier, "flat_amount_decimal", "flat_amount"),
        )
        for tier in raw or ()
    )


def parse_price(value: Any, catalog: Catalog) -> Price | None:
    """Return a price (or legacy plan) from an id or an object, None when unknown."""
    obj = _resolve(value, catalog.prices)
    if obj is None:
        return None
    seen = catalog.parsed.get(id(obj))
    if seen is not None and seen[0] is obj and isinstance(seen[1], Price):
        return seen[1]
    price = _read_price(obj)
    catalog.parsed[id(obj)] = (obj, price)
    return price


def _read_price(obj: JSON) -> Price:
    if obj.get("object") == "plan":
        recurring: JSON | None = obj
        unit = _exact(obj, "amount_decimal", "amount")
        transform = obj.get("transform_usage")
    else:
        recurring = obj.get("recurring") if obj.get("type", "recurring") == "recurring" else None
        unit = _exact(obj, "unit_amount_decimal", "unit_amount")
        transform = obj.get("transform_quantity")
    mode = obj.get("tiers_mode")
    return Price(
        id=str(obj.get("id")),
        currency=str(obj.get("currency") or "").lower(),
        unit_amount=unit,
        interval=Interval(recurring["interval"])
        if recurring and recurring.get("interval")
        else None,
        interval_count=int((recurring or {}).get("interval_count") or 1),
        usage_type=UsageType((recurring or {}).get("usage_type") or "licensed"),
        billing_scheme=BillingScheme(obj.get("billing_scheme") or "per_unit"),
        tiers_mode=TiersMode(mode) if mode else None,
        tiers=_tiers(obj.get("tiers")),
        transform_divide_by=int(transform["divide_by"]) if transform else None,
        transform_round_up=not transform or transform.get("round", "up") == "up",
    )


def parse_coupon(value: Any, catalog: Catalog) -> Coupon | None:
    """Return a coupon from an id or an object, None when unknown."""
    obj = _resolve(value, catalog.coupons)
    if obj is None:
        return None
    percent = obj.get("percent_off")
    return Coupon(
        id=str(obj.get("id")),
        duration=Duration(obj.get("duration") or "once"),
        percent_off=Fraction(str(percent)) if percent is not None else None,
        amount_off=int(obj["amount_off"]) if obj.get("amount_off") is not None else None,
        currency=str(obj["currency"]).lower() if obj.get("currency") else None,
        duration_in_months=obj.get("duration_in_months"),
    )


def parse_discount(value: Any, catalog: Catalog) -> Discount | None:
    """Return a discount (old `coupon` or clover `source.coupon`) from an id or an object."""
    obj = _resolve(value, catalog.discounts)
    if obj is None:
        return None
    seen = catalog.parsed.get(id(obj))
    if seen is not None and seen[0] is obj and not isinstance(seen[1], Price):
        return seen[1]
    discount = _read_discount(obj, catalog)
    catalog.parsed[id(obj)] = (obj, discount)
    return discount


def _read_discount(obj: JSON, catalog: Catalog) -> Discount | None:
    raw_coupon = obj.get("coupon")
    if raw_coupon is None:
        raw_coupon = (obj.get("source") or {}).get("coupon")
    coupon = parse_coupon(raw_coupon, catalog)
    if coupon is None:
        return None
    return Discount(
        id=str(obj.get("id") or f"coupon:{coupon.id}"),  # discounts before 2019 had no id
        coupon=coupon,
        start=obj.get("start"),
        end=obj.get("end"),
    )


def _discounts(values: Any, catalog: Catalog) -> tuple[Discount, ...]:
    parsed = (parse_discount(value, catalog) for value in values or ())
    return tuple(discount for discount in parsed if discount is not None)


def subscription_discounts(subscription: JSON, catalog: Catalog) -> tuple[Discount, ...]:
    """Return the subscription-level discounts: `discounts` (current) or `discount` (old)."""
    found = _discounts(subscription.get("discounts"), catalog)
    if not found and subscription.get("discount"):
        found = _discounts([subscription["discount"]], catalog)
    return found


def subscription_items(subscription: JSON, catalog: Catalog) -> tuple[tuple[Item, ...], bool]:
    """Return the subscription's items and whether the embedded list was truncated."""
    listing = subscription.get("items") or {}
    items: list[Item] = []
    for raw in listing.get("data") or ():
        if raw.get("deleted"):
            continue
        price = parse_price(raw.get("price") or raw.get("plan"), catalog)
        if price is None:
            continue
        items.append(
            Item(
                id=str(raw.get("id")),
                price=price,
                quantity=_quantity(raw.get("quantity"), price),
                discounts=_discounts(raw.get("discounts"), catalog),
            )
        )
    return tuple(sorted(items, key=lambda item: item.id)), bool(listing.get("has_more"))


def _quantity(value: Any, price: Price) -> int:
    if value is None:
        return 0 if price.usage_type is UsageType.METERED else 1
    return int(value)


def current_period(subscription: JSON) -> tuple[int | None, int | None]:
    """Return the current period (start, end): on the subscription before basil, on items after."""
    start, end = subscription.get("current_period_start"), subscription.get("current_period_end")
    if start is not None and end is not None:
        return int(start), int(end)
    items = (subscription.get("items") or {}).get("data") or ()
    starts = [int(i["current_period_start"]) for i in items if i.get("current_period_start")]
    ends = [int(i["current_period_end"]) for i in items if i.get("current_period_end")]
    return (min(starts) if starts else None), (max(ends) if ends else None)


def invoice_subscription(invoice: JSON) -> str | None:
    """Return the invoice's subscription id (`subscription` before basil, `parent` after)."""
    if invoice.get("subscription"):
        return object_id(invoice["subscription"])
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return object_id(details.get("subscription"))


def invoice_paid(invoice: JSON) -> bool:
    """Return whether the invoice was paid (`paid` before basil, `status` always)."""
    return invoice.get("status") == "paid" or bool(invoice.get("paid"))


def line_price(line: JSON, catalog: Catalog) -> Price | None:
    """Return a line's price (`price`/`plan` before basil, `pricing.price_details` after)."""
    raw = line.get("price") or line.get("plan")
    if raw is None:
        raw = ((line.get("pricing") or {}).get("price_details") or {}).get("price")
    return parse_price(raw, catalog)


def _line_item_details(line: JSON) -> JSON:
    parent = line.get("parent") or {}
    return parent.get("subscription_item_details") or {}


def line_subscription_item(line: JSON) -> str | None:
    """Return the subscription item a line bills, if any."""
    return object_id(line.get("subscription_item")) or object_id(
        _line_item_details(line).get("subscription_item")
    )


def line_is_proration(line: JSON) -> bool:
    """Return whether the line is a proration (never MRR; it marks a mid-period change)."""
    return bool(line.get("proration") or _line_item_details(line).get("proration"))


def line_is_subscription(line: JSON) -> bool:
    """Return whether the line bills a subscription item (not a one-off invoice item)."""
    if line.get("type") == "subscription":
        return True
    return bool(line_subscription_item(line))


def deep_merge(obj: JSON, previous: JSON) -> dict[str, Any]:
    """Return `obj` with `previous_attributes` laid over it (lists replaced, objects merged)."""
    merged = dict(obj)
    for key, value in previous.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = value
    return merged
