"""Parameter specs and object fragments shared by several resources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stripe_emulator.errors import ApiError
from stripe_emulator.forms import FormValue
from stripe_emulator.params import Bool, Enum, Int, Metadata, Obj, Spec, Str

ADDRESS_FIELDS = ("city", "country", "line1", "line2", "postal_code", "state")
ADDRESS = Obj(fields={name: Str(emptyable=True) for name in ADDRESS_FIELDS}, emptyable=True)
METADATA = Metadata()
ACTIVE = Bool()
NULLABLE_STR = Str(emptyable=True)
INTERVAL = Enum(values=("day", "month", "week", "year"))
TIER = Obj(
    fields={
        "flat_amount": Int(minimum=0),
        "flat_amount_decimal": Str(),
        "unit_amount": Int(minimum=0),
        "unit_amount_decimal": Str(),
        "up_to": Str(),
    }
)


@dataclass(frozen=True)
class StrOrObj(Spec):
    """Either an id string or an inline hash (`plan[product]=prod_…` or `plan[product][name]=…`)."""

    obj: Obj = field(default_factory=Obj)

    def convert(self, raw: FormValue, param: str) -> Any:
        """Coerce a hash with `obj`, anything else as a string."""
        if isinstance(raw, dict):
            return self.obj.convert(raw, param)
        return Str().convert(raw, param)


def merge_metadata(
    old: dict[str, str] | None, changes: dict[str, str | None] | None
) -> dict[str, str]:
    """Apply metadata changes: `None` as a whole clears, a `None` value deletes that key."""
    if changes is None:
        return {}
    merged = dict(old or {})
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def address(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Return a full address hash (all keys present, null when not given)."""
    if value is None:
        return None
    return {name: value.get(name) for name in ADDRESS_FIELDS}


def apply_simple(obj: dict[str, Any], params: dict[str, Any], names: tuple[str, ...]) -> None:
    """Copy plain fields that were sent (an empty string unsets to null)."""
    for name in names:
        if name in params:
            obj[name] = params[name]


def missing_reference(noun: str, object_id: str, param: str) -> ApiError:
    """Return Stripe's error for a parameter naming an object that does not exist."""
    return ApiError(400, f"No such {noun}: '{object_id}'", code="resource_missing", param=param)


def parse_tiers(tiers: list[dict[str, Any]], param: str = "tiers") -> list[dict[str, Any]]:
    """Validate price tiers and return them shaped as Stripe shows them."""
    from stripe_emulator.errors import invalid

    result: list[dict[str, Any]] = []
    for index, tier in enumerate(tiers):
        up_to_raw = tier.get("up_to")
        if up_to_raw is None:
            raise invalid(
                "Missing required param: up_to.",
                param=f"{param}[{index}][up_to]",
                code="parameter_missing",
            )
        if up_to_raw == "inf":
            up_to = None
        else:
            up_to = Int(minimum=1).coerce(up_to_raw, f"{param}[{index}][up_to]")
        unit = tier.get("unit_amount")
        flat = tier.get("flat_amount")
        result.append(
            {
                "flat_amount": flat,
                "flat_amount_decimal": tier.get("flat_amount_decimal")
                or (str(flat) if flat is not None else None),
                "unit_amount": unit,
                "unit_amount_decimal": tier.get("unit_amount_decimal")
                or (str(unit) if unit is not None else None),
                "up_to": up_to,
            }
        )
    if not result or result[-1]["up_to"] is not None:
        raise invalid("The last tier must have `up_to` set to `inf`.", param=param)
    bounds = [tier["up_to"] for tier in result[:-1]]
    if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
        raise invalid("Tiers must be in increasing order of `up_to`.", param=param)
    return result
