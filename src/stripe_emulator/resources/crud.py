"""Generic create / retrieve / update / delete / list handlers driven by a `Resource`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import ApiError, invalid, resource_missing
from stripe_emulator.events import crud_event, snapshot
from stripe_emulator.expand import check_depth, expand_object
from stripe_emulator.http_types import Handler, RawJson
from stripe_emulator.lists import fetch_page, list_envelope, list_params, raw_list
from stripe_emulator.params import Obj
from stripe_emulator.resources.base import JsonObject, Resource

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

RETRIEVE_PARAMS = Obj()


def deleted_stub(obj: JsonObject) -> JsonObject:
    """Return how Stripe shows a deleted object."""
    return {"id": obj["id"], "object": obj["object"], "deleted": True}


def order_keys(obj: JsonObject) -> JsonObject:
    """Return the object with `id` and `object` first and other keys sorted, as Stripe does."""
    head: JsonObject = {key: obj[key] for key in ("id", "object") if key in obj}
    rest = {key: obj[key] for key in sorted(obj) if key not in head}
    return {**head, **rest}


def present(ctx: Ctx, resource: Resource, obj: JsonObject, expand: list[str]) -> JsonObject:
    """Render composed fields, then apply expansions, for a response."""
    if resource.render is not None:
        obj = resource.render(ctx, obj)
    wanted = {path.split(".", 1)[0] for path in expand} if resource.includable else set()
    if resource.include is not None:
        for name in resource.includable:
            if name in wanted:
                obj[name] = resource.include(ctx, obj, name)
    if expand:
        expand_object(ctx, obj, expand)
    for name in resource.includable:
        if name not in wanted:
            obj.pop(name, None)
    return obj


def load(
    ctx: Ctx, resource: Resource, object_id: str, *, param: str = "id", allow_deleted: bool = False
) -> JsonObject:
    """Return a stored object or raise Stripe's 404."""
    row = ctx.store.get(ctx.scope, resource.stored_as, object_id)
    if row is None or (row.deleted and not allow_deleted):
        raise resource_missing(resource.label, object_id, param=param)
    obj = row.load()
    if row.deleted:
        return deleted_stub(obj)
    return obj


def save(
    ctx: Ctx,
    resource: Resource,
    obj: JsonObject,
    *,
    new: bool,
    deleted: bool = False,
    before: JsonObject | None = None,
) -> None:
    """Insert or replace an object with its promoted columns, then run the after-write hook.

    Also emits the object's created/deleted event, or its updated event when given `before`.
    """
    slots = resource.slots(obj)
    if new:
        ctx.store.insert(ctx.scope, resource.stored_as, obj, slots)
    else:
        ctx.store.update(ctx.scope, resource.stored_as, obj, slots, deleted=deleted)
    if resource.after_write is not None and not deleted:
        resource.after_write(ctx, obj)
    if new or deleted:
        crud_event(ctx, resource, "created" if new else "deleted", obj)
    elif before is not None:
        crud_event(ctx, resource, "updated", obj, before)


def new_id(ctx: Ctx, resource: Resource, params: JsonObject) -> str:
    """Return the id for a new object: the caller's (where allowed and unused) or a fresh one."""
    wanted = params.pop("id", None) if resource.custom_id else None
    if wanted is not None:
        if ctx.store.exists(ctx.scope, resource.stored_as, wanted):
            raise ApiError(
                400,
                f"{resource.label.capitalize()} already exists.",
                code="resource_already_exists",
                param="id",
            )
        return str(wanted)
    prefix = resource.id_prefix
    for _ in range(5):
        candidate = (
            ctx.new_id(prefix, resource.id_length)
            if prefix
            else ctx.emulator.ids.code(resource.id_length)
        )
        if not ctx.store.exists(ctx.scope, resource.stored_as, candidate):
            return candidate
    raise ApiError(500, "Could not allocate an id.", type_="api_error")


def base_fields(ctx: Ctx, resource: Resource, object_id: str) -> JsonObject:
    """Return the fields every object starts with."""
    return {
        "id": object_id,
        "object": resource.object,
        "created": ctx.now(),
        "livemode": ctx.livemode,
    }


# Wraps a generated handler given its path template (e.g. to act in another scope).
Wrap = Callable[[Handler, str], Handler]


class _Routes:
    def __init__(self, emulator: Emulator, wrap: Wrap | None) -> None:
        self._router = emulator.router
        self._wrap = wrap

    def add(self, method: str, template: str, handler: Handler) -> None:
        self._router.add(
            method, template, handler if self._wrap is None else self._wrap(handler, template)
        )


def make_handlers(emulator: Emulator, resource: Resource, wrap: Wrap | None = None) -> None:
    """Register the standard routes a resource definition enables."""
    if resource.path is None:
        return
    item_path = resource.path + "/{id}"
    router = _Routes(emulator, wrap)

    if resource.build is not None and resource.create_params is not None:
        create_params = resource.create_params
        build = resource.build

        def create(ctx: Ctx) -> JsonObject:
            params = ctx.coerce(create_params)
            params.pop("expand", None)
            check_depth(ctx.expand_paths())
            obj = order_keys(build(ctx, params, new_id(ctx, resource, params)))
            save(ctx, resource, obj, new=True)
            return present(ctx, resource, obj, ctx.expand_paths())

        router.add("POST", resource.path, create)

    def retrieve(ctx: Ctx) -> JsonObject:
        ctx.coerce(RETRIEVE_PARAMS)
        obj = load(ctx, resource, ctx.path_params["id"], allow_deleted=resource.retrieve_deleted)
        if obj.get("deleted"):
            return obj
        return present(ctx, resource, obj, ctx.expand_paths())

    router.add("GET", item_path, retrieve)

    if resource.apply_update is not None and resource.update_params is not None:
        update_params = resource.update_params
        apply_update = resource.apply_update

        def update(ctx: Ctx) -> JsonObject:
            params = ctx.coerce(update_params)
            params.pop("expand", None)
            check_depth(ctx.expand_paths())
            obj = load(ctx, resource, ctx.path_params["id"])
            before = snapshot(obj)
            obj = order_keys(apply_update(ctx, obj, params))
            save(ctx, resource, obj, new=False, before=before)
            return present(ctx, resource, obj, ctx.expand_paths())

        router.add("POST", item_path, update)

    if resource.deletable:

        def delete(ctx: Ctx) -> JsonObject:
            ctx.coerce(Obj())
            obj = load(ctx, resource, ctx.path_params["id"])
            if resource.on_delete is not None:
                resource.on_delete(ctx, obj)
            save(ctx, resource, obj, new=False, deleted=True)
            return deleted_stub(obj)

        router.add("DELETE", item_path, delete)

    if resource.listable:
        router.add("GET", resource.path, _list_handler(resource, resource.path))


def _list_handler(resource: Resource, url: str) -> Handler:
    params_spec = list_params(resource)

    def list_(ctx: Ctx) -> JsonObject | RawJson:
        params = ctx.coerce(params_spec)
        expand = ctx.expand_paths()
        # Stored objects hold no computed (`include`) fields, only stored includable ones.
        hidden = resource.includable and resource.include is None
        fast = not expand and resource.render is None and not hidden
        page = fetch_page(ctx, resource, params, read_ahead=fast)
        if fast:
            return raw_list(url, page.rows, page.has_more)
        item_paths = _list_item_paths(expand)
        data = [present(ctx, resource, row.load(), item_paths) for row in page.rows]
        return list_envelope(url, data, page.has_more)

    return list_


def _list_item_paths(paths: list[str]) -> list[str]:
    check_depth(paths)
    result: list[str] = []
    for path in paths:
        if not path.startswith("data."):
            raise invalid(f"This property cannot be expanded ({path}).", param="expand")
        result.append(path[len("data.") :])
    return result


def fetch_for_expand(ctx: Ctx, resource: Resource, object_id: str) -> Any:
    """Return the object an expandable id names, rendered, or the id if it is gone."""
    row = ctx.store.get(ctx.scope, resource.stored_as, object_id)
    if row is None:
        return object_id
    obj = row.load()
    if row.deleted:
        return deleted_stub(obj)
    return present(ctx, resource, obj, [])
