"""Tax rates (`txr_…`): never deleted, only archived with `active=false`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.params import Bool, Num, Obj, Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource
from stripe_emulator.resources.shapes import ACTIVE, METADATA, apply_simple, merge_metadata

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

TAX_TYPES = (
    "amusement_tax",
    "communications_tax",
    "gst",
    "hst",
    "igst",
    "jct",
    "lease_tax",
    "pst",
    "qst",
    "retail_delivery_fee",
    "rst",
    "sales_tax",
    "service_tax",
    "vat",
)
_EDITABLE = {
    "active": ACTIVE,
    "country": Str(max_length=2),
    "description": Str(emptyable=True),
    "display_name": Str(max_length=50),
    "jurisdiction": Str(max_length=50, emptyable=True),
    "metadata": METADATA,
    "state": Str(emptyable=True),
    "tax_type": Str(),
}
CREATE = Obj(
    fields={**_EDITABLE, "inclusive": Bool(), "percentage": Num(minimum=0.0, maximum=100.0)},
    required=("display_name", "inclusive", "percentage"),
)
UPDATE = Obj(fields=_EDITABLE)
PLAIN = ("active", "country", "description", "display_name", "jurisdiction", "state", "tax_type")


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new tax rate."""
    rate: JsonObject = {
        "id": object_id,
        "object": "tax_rate",
        "active": True,
        "country": None,
        "created": ctx.now(),
        "description": None,
        "display_name": params["display_name"],
        "effective_percentage": params["percentage"],
        "flat_amount": None,
        "inclusive": params["inclusive"],
        "jurisdiction": None,
        "jurisdiction_level": None,
        "livemode": ctx.livemode,
        "metadata": merge_metadata({}, params.get("metadata") or {}),
        "percentage": params["percentage"],
        "rate_type": "percentage",
        "state": None,
        "tax_type": None,
    }
    apply_simple(rate, params, PLAIN)
    return rate


def update(ctx: Ctx, obj: JsonObject, params: JsonObject) -> JsonObject:
    """Apply an update to a tax rate."""
    apply_simple(obj, params, PLAIN)
    if "metadata" in params:
        obj["metadata"] = merge_metadata(obj["metadata"], params["metadata"])
    return obj


def _flag(value: bool) -> str:
    return "1" if value else "0"


TAX_RATE = Resource(
    object="tax_rate",
    path="/v1/tax_rates",
    id_prefix="txr",
    id_length=24,
    noun="tax rate",
    create_params=CREATE,
    build=build,
    update_params=UPDATE,
    apply_update=update,
    list_filters={"active": ListFilter("k1", Bool()), "inclusive": ListFilter("k2", Bool())},
    slots=lambda obj: (_flag(obj["active"]), _flag(obj["inclusive"])),
)


def register(emulator: Emulator) -> None:
    """Add tax rates."""
    emulator.add_resource(TAX_RATE)
