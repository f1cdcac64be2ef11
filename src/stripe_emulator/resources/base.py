"""The declarative definition of an emulated resource and the registry that holds them.

A new resource is one module that builds a `Resource` (object name, path, id prefix, param specs,
build/update functions, list filters, expandable fields) and a `register(emulator)` function that
calls `emulator.add_resource(...)`; the generic CRUD handlers in `crud.py` do the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stripe_emulator.params import Obj, Spec
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]
Build = Callable[["Ctx", JsonObject, str], JsonObject]
Update = Callable[["Ctx", JsonObject, JsonObject], JsonObject]
Hook = Callable[["Ctx", JsonObject], None]
Render = Callable[["Ctx", JsonObject], JsonObject]
# Computes an includable field that is not stored (customer `subscriptions`), when asked for.
Include = Callable[["Ctx", JsonObject, str], Any]


def _no_slots(_obj: JsonObject) -> Sequence[str | None]:
    return ()


def encode_filter_value(value: Any, *, json: bool = False) -> tuple[Any, ...]:
    """Encode a filter value as stored: "1"/"0" in slot columns, 1/0 in JSON, else as is."""
    if isinstance(value, list):
        return tuple(v for item in value for v in encode_filter_value(item, json=json))
    if isinstance(value, bool):
        if json:
            return (1 if value else 0,)
        return ("1" if value else "0",)
    return (value if json else str(value),)


@dataclass(frozen=True)
class ListFilter:
    """A list parameter matched against a promoted column (`k1`..`k4`), the id (`id`), or a
    JSON path into the object (`$.currency`, unindexed)."""

    column: str
    spec: Spec
    # Applied when the parameter is absent (e.g. prices list only active ones by default).
    default: Any = None
    # For hash-valued filters (`recurring[interval]`): build the conditions yourself.
    to_conditions: Callable[[Any], Sequence[Condition]] | None = None


@dataclass(frozen=True)
class Resource:
    """Everything the generic handlers need to serve one Stripe object type."""

    object: str
    path: str | None = None
    id_prefix: str | None = None
    id_length: int = 14
    noun: str | None = None
    storage_type: str | None = None
    create_params: Obj | None = None
    build: Build | None = None
    custom_id: bool = False
    update_params: Obj | None = None
    apply_update: Update | None = None
    deletable: bool = False
    on_delete: Hook | None = None
    retrieve_deleted: bool = False
    listable: bool = True
    list_filters: Mapping[str, ListFilter] = field(default_factory=dict)
    slots: Callable[[JsonObject], Sequence[str | None]] = _no_slots
    # Field paths relative to this object (dots for plain sub-hashes) → expanded object type.
    expandable: Mapping[str, str] = field(default_factory=dict)
    render: Render | None = None
    # Fields stored but only returned when expanded (e.g. price `tiers`).
    includable: tuple[str, ...] = ()
    # When set, includable fields are computed on demand instead of stored.
    include: Include | None = None
    after_write: Hook | None = None

    @property
    def stored_as(self) -> str:
        """Return the `type` column value used in the store."""
        return self.storage_type or self.object

    @property
    def label(self) -> str:
        """Return the noun used in "No such …" messages."""
        return self.noun if self.noun is not None else self.object.replace("_", " ")


@dataclass
class Registry:
    """Resource definitions by wire object name."""

    by_object: dict[str, Resource] = field(default_factory=dict)

    def add(self, resource: Resource) -> None:
        """Register a definition; a name may be registered once."""
        if resource.object in self.by_object:
            raise ValueError(f"resource {resource.object} registered twice")
        self.by_object[resource.object] = resource

    def get(self, object_name: str) -> Resource | None:
        """Return the definition for an object name, if any."""
        return self.by_object.get(object_name)
