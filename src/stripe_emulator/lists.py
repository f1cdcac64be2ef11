"""List endpoints: limit, cursors, created ranges, filters, and embedded sub-lists."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson

from stripe_emulator.errors import invalid, resource_missing
from stripe_emulator.http_types import RawJson
from stripe_emulator.params import EXPAND, Int, IntOrRange, Obj, Spec, Str
from stripe_emulator.readahead import Prepared
from stripe_emulator.store import Condition, Page, Row

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.resources.base import ListFilter, Resource

DEFAULT_LIMIT = 10
MAX_LIMIT = 100

PAGINATION: dict[str, Spec] = {
    "limit": Str(max_length=20),
    "starting_after": Str(max_length=255),
    "ending_before": Str(max_length=255),
}
CREATED: dict[str, Spec] = {"created": IntOrRange()}


def list_params(resource: Resource) -> Obj:
    """Return the accepted parameters of a resource's list endpoint."""
    fields: dict[str, Spec] = {**PAGINATION, **CREATED, "expand": EXPAND}
    fields.update({name: flt.spec for name, flt in resource.list_filters.items()})
    return Obj(fields=fields)


def parse_limit(raw: Any) -> int:
    """Return the page size, rejecting values outside 1..100 as Stripe does."""
    if raw is None:
        return DEFAULT_LIMIT
    value: int = Int().coerce(raw, "limit")
    if value < 1:
        raise invalid(
            "This value must be greater than or equal to 1.",
            param="limit",
            code="parameter_invalid_integer",
        )
    if value > MAX_LIMIT:
        raise invalid(
            f"This value must be less than or equal to {MAX_LIMIT}.",
            param="limit",
            code="parameter_invalid_integer",
        )
    return value


def conditions_for(
    filters: Mapping[str, ListFilter], params: Mapping[str, Any]
) -> tuple[list[Condition], list[str] | None]:
    """Turn filter params (and their defaults) into column conditions and an optional id set."""
    from stripe_emulator.resources.base import encode_filter_value

    conditions: list[Condition] = []
    ids: list[str] | None = None
    for name, flt in filters.items():
        value = params.get(name, flt.default)
        if value is None:
            continue
        if flt.to_conditions is not None:
            conditions.extend(flt.to_conditions(value))
            continue
        encoded = encode_filter_value(value, json=flt.column.startswith("$."))
        if flt.column == "id":
            ids = list(encoded)
        else:
            conditions.append(Condition(flt.column, encoded))
    return conditions, ids


def fetch_page(
    ctx: Ctx,
    resource: Resource,
    params: Mapping[str, Any],
    extra: Sequence[Condition] = (),
    *,
    read_ahead: bool = False,
) -> Page:
    """Run the list query for a resource with the standard pagination rules.

    With `read_ahead`, a forward page also prepares the next one after the response is sent.
    """
    limit = parse_limit(params.get("limit"))
    after_id = params.get("starting_after")
    before_id = params.get("ending_before")
    if after_id is not None and before_id is not None:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="ending_before",
            code="parameters_exclusive",
        )
    conditions, ids = conditions_for(resource.list_filters, params)
    query = partial(
        ctx.store.list_page,
        ctx.scope,
        resource.stored_as,
        limit=limit,
        conditions=[*conditions, *extra],
        created=params.get("created"),
        ids=ids,
    )
    if not read_ahead or before_id is not None:
        after = _cursor(ctx, resource, after_id, "starting_after")
        return query(after=after, before=_cursor(ctx, resource, before_id, "ending_before"))
    filters = {k: v for k, v in params.items() if k not in ("starting_after", "limit", "expand")}
    base = (
        ctx.scope.account,
        ctx.scope.livemode,
        resource.stored_as,
        orjson.dumps(filters, option=orjson.OPT_SORT_KEYS),
        limit,
    )
    generation = ctx.store.generation(ctx.scope, resource.stored_as)
    page = None
    if after_id is not None:
        page = ctx.emulator.read_ahead.take((*base, after_id), generation)
    if page is None:
        page = query(after=_cursor(ctx, resource, after_id, "starting_after"))
    if page.has_more and page.rows:
        last = page.rows[-1]

        def prepare() -> None:
            with ctx.store.lock:
                current = ctx.store.generation(ctx.scope, resource.stored_as)
                following = query(after=(last.created, last.seq))
            ctx.emulator.read_ahead.put((*base, last.id), Prepared(current, following))

        ctx.after_response.append(prepare)
    return page


def _cursor(
    ctx: Ctx, resource: Resource, object_id: str | None, param: str
) -> tuple[int, int] | None:
    if object_id is None:
        return None
    row = ctx.store.get(ctx.scope, resource.stored_as, object_id)
    if row is None:
        raise resource_missing(resource.label, object_id, param=param)
    return (row.created, row.seq)


def list_envelope(url: str, data: list[Any], has_more: bool) -> dict[str, Any]:
    """Return Stripe's list object."""
    return {"object": "list", "data": data, "has_more": has_more, "url": url}


def raw_list(url: str, rows: Sequence[Row], has_more: bool) -> RawJson:
    """Return a list page built from stored JSON without decoding it (the fast path)."""
    head = b'{"object":"list","data":['
    tail = b'],"has_more":' + (b"true" if has_more else b"false") + b',"url":'
    return RawJson(head + b",".join([row.data for row in rows]) + tail + orjson.dumps(url) + b"}")


def embedded_list(
    ctx: Ctx,
    resource: Resource,
    *,
    url: str,
    conditions: Sequence[Condition],
    present: Callable[[dict[str, Any]], dict[str, Any]],
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Return a sub-list (subscription `items`, invoice `lines`) capped at `limit`, newest first.

    `url` is where the full list lives, e.g. `/v1/subscription_items?subscription=sub_…`.
    """
    page = ctx.store.list_page(ctx.scope, resource.stored_as, limit=limit, conditions=conditions)
    return list_envelope(url, [present(row.load()) for row in page.rows], page.has_more)
