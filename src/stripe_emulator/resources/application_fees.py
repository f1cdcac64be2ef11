"""Application fees (`fee_…`): the platform's cut of connected accounts' charges, read only."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.lists import list_envelope
from stripe_emulator.params import Str
from stripe_emulator.resources.base import JsonObject, ListFilter, Resource

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator


def render(ctx: Ctx, obj: JsonObject) -> JsonObject:
    """Add the (always empty) fee refunds list."""
    obj["refunds"] = list_envelope(f"/v1/application_fees/{obj['id']}/refunds", [], False)
    return obj


APPLICATION_FEE = Resource(
    object="application_fee",
    path="/v1/application_fees",
    id_prefix="fee",
    id_length=24,
    noun="application fee",
    list_filters={"charge": ListFilter("k1", Str())},
    slots=lambda obj: (obj["charge"],),
    expandable={"balance_transaction": "balance_transaction"},
    render=render,
)


def register(emulator: Emulator) -> None:
    """Add application fees."""
    emulator.add_resource(APPLICATION_FEE)
