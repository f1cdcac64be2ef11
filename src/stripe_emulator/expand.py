"""`expand[]`: replace expandable ids with the objects they name, up to four levels deep."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.errors import invalid

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

MAX_DEPTH = 4


def _cannot(path: str) -> Exception:
    return invalid(f"This property cannot be expanded ({path}).", param="expand")


def check_depth(paths: list[str]) -> None:
    """Reject expansions deeper than Stripe allows."""
    for path in paths:
        if len(path.split(".")) > MAX_DEPTH + (1 if path.startswith("data.") else 0):
            raise invalid(
                f"You cannot expand more than {MAX_DEPTH} levels of a property. Property: {path}",
                param="expand",
            )


def expand_object(ctx: Ctx, obj: dict[str, Any], paths: list[str]) -> dict[str, Any]:
    """Apply each dotted path to `obj` in place and return it."""
    check_depth(paths)
    for path in paths:
        _Walk(ctx, path).typed(obj, path.split("."))
    return obj


class _Walk:
    """One expansion path applied to one object tree."""

    def __init__(self, ctx: Ctx, path: str) -> None:
        self.ctx = ctx
        self.path = path

    def typed(self, node: dict[str, Any], parts: list[str]) -> None:
        """Walk from an object that has an `object` name (or from a list object)."""
        if not parts:
            return
        if node.get("object") == "list" and parts[0] == "data":
            for item in node.get("data", []):
                if isinstance(item, dict):
                    self.typed(item, parts[1:])
            return
        self.field(node, parts, node.get("object"), "")

    def field(self, node: dict[str, Any], parts: list[str], owner: Any, prefix: str) -> None:
        """Expand `parts[0]` of `node`, whose nearest typed ancestor is `owner`."""
        name, rest = parts[0], parts[1:]
        resource = self.ctx.emulator.registry.get(owner) if isinstance(owner, str) else None
        key = prefix + name
        if resource is not None and not rest and key in resource.includable:
            return
        if name not in node:
            raise _cannot(self.path)
        target = resource.expandable.get(key) if resource is not None else None
        if target is None and not rest:
            raise _cannot(self.path)
        value = node[name]
        if target is not None:
            value = node[name] = self.fetch(target, value)
        values = value if isinstance(value, list) else [value]
        for item in values:
            if not isinstance(item, dict) or not rest:
                continue
            if "object" in item:
                self.typed(item, rest)
            else:
                self.field(item, rest, owner, key + ".")

    def fetch(self, target: str, value: Any) -> Any:
        """Replace ids (alone or in a list) by the objects they name."""
        if isinstance(value, str):
            return self.ctx.emulator.fetch_for_expand(self.ctx, target, value)
        if isinstance(value, list):
            return [self.fetch(target, item) for item in value]
        return value
