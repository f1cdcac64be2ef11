"""Declarative parameter specs: validate a parsed form and coerce it to typed values.

Errors carry Stripe's messages and codes (`parameter_unknown`, `parameter_missing`,
`parameter_invalid_integer`, `parameter_invalid_empty`, ...) with the bracketed `param` path.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from stripe_emulator.errors import invalid, parameter_missing, parameter_unknown
from stripe_emulator.forms import FormValue

UNSET: Any = None  # an emptyable parameter sent as "" coerces to None: "unset this field"


def _empty_error(param: str) -> Exception:
    return invalid(
        f"You passed an empty string for '{param}'. We assume empty values are an attempt to "
        f"unset a parameter; however '{param}' cannot be unset. You should remove '{param}' "
        "from your request or supply a non-empty value.",
        param=param,
        code="parameter_invalid_empty",
    )


@dataclass(frozen=True)
class Spec:
    """Base of all parameter specs; `emptyable` lets "" through as None (unset)."""

    emptyable: bool = False

    def coerce(self, raw: FormValue, param: str) -> Any:
        """Validate `raw` for `param` and return the typed value."""
        if raw == "":
            if self.emptyable:
                return UNSET
            raise _empty_error(param)
        return self.convert(raw, param)

    def convert(self, raw: FormValue, param: str) -> Any:
        """Convert a non-empty raw value; subclasses override."""
        raise NotImplementedError


def _scalar(raw: FormValue, param: str, what: str) -> str:
    if not isinstance(raw, str):
        raise invalid(f"Invalid {what}: {param} must be a scalar value.", param=param)
    return raw


@dataclass(frozen=True)
class Str(Spec):
    """A string of at most `max_length` characters."""

    max_length: int = 5000

    def convert(self, raw: FormValue, param: str) -> Any:
        value = _scalar(raw, param, "string")
        if len(value) > self.max_length:
            raise invalid(
                f"Invalid string: {value[:20]}...; must be at most {self.max_length} characters",
                param=param,
            )
        return value


@dataclass(frozen=True)
class Int(Spec):
    """An integer within optional bounds."""

    minimum: int | None = None
    maximum: int | None = None

    def convert(self, raw: FormValue, param: str) -> Any:
        text = _scalar(raw, param, "integer")
        try:
            value = int(text, 10)
        except ValueError:
            raise invalid(
                f"Invalid integer: {text}", param=param, code="parameter_invalid_integer"
            ) from None
        if self.minimum is not None and value < self.minimum:
            raise invalid(
                f"Invalid integer: {param} must be greater than or equal to {self.minimum}",
                param=param,
                code="parameter_invalid_integer",
            )
        if self.maximum is not None and value > self.maximum:
            raise invalid(
                f"Invalid integer: {param} must be less than or equal to {self.maximum}",
                param=param,
                code="parameter_invalid_integer",
            )
        return value


@dataclass(frozen=True)
class Num(Spec):
    """A finite decimal number, returned as float (`percent_off`, `percentage`)."""

    minimum: float | None = None
    maximum: float | None = None

    def convert(self, raw: FormValue, param: str) -> Any:
        text = _scalar(raw, param, "decimal")
        try:
            value = float(text)
        except ValueError:
            raise invalid(f"Invalid decimal: {text}", param=param) from None
        if not math.isfinite(value):
            raise invalid(f"Invalid decimal: {text}", param=param)
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            raise invalid(
                f"Invalid {param}: must be between {self.minimum} and {self.maximum}", param=param
            )
        return value


@dataclass(frozen=True)
class DecimalStr(Spec):
    """A decimal string with at most 12 decimal places (`unit_amount_decimal`)."""

    def convert(self, raw: FormValue, param: str) -> Any:
        text = _scalar(raw, param, "decimal")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise invalid(f"Invalid decimal: {text}", param=param) from None
        if not value.is_finite() or value < 0:
            raise invalid(f"Invalid decimal: {text}", param=param)
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -12:
            raise invalid(f"Invalid decimal: {text}; at most 12 decimal places", param=param)
        return format(value.normalize(), "f")


@dataclass(frozen=True)
class Bool(Spec):
    """`true` or `false`."""

    def convert(self, raw: FormValue, param: str) -> Any:
        text = _scalar(raw, param, "boolean")
        if text in ("true", "false"):
            return text == "true"
        raise invalid(f"Invalid boolean: {text}", param=param)


def _choices(values: tuple[str, ...]) -> str:
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return f"{values[0]} or {values[1]}"
    return ", ".join(values[:-1]) + f", or {values[-1]}"


@dataclass(frozen=True)
class Enum(Spec):
    """One of a fixed set of strings."""

    values: tuple[str, ...] = ()

    def convert(self, raw: FormValue, param: str) -> Any:
        text = _scalar(raw, param, "string")
        if text not in self.values:
            raise invalid(f"Invalid {param}: must be one of {_choices(self.values)}", param=param)
        return text


@dataclass(frozen=True)
class Currency(Spec):
    """A three-letter ISO currency code, lower-cased as Stripe echoes it."""

    def convert(self, raw: FormValue, param: str) -> Any:
        text = _scalar(raw, param, "currency").lower()
        if len(text) != 3 or not text.isalpha() or not text.isascii():
            raise invalid(
                f"Invalid currency: {text}. Stripe currently supports these currencies: "
                "usd, eur, gbp, ...",
                param=param,
            )
        return text


@dataclass(frozen=True)
class Metadata(Spec):
    """Up to 50 string pairs; `metadata[k]=` deletes k and `metadata=` clears all."""

    emptyable: bool = True

    def convert(self, raw: FormValue, param: str) -> Any:
        if not isinstance(raw, dict):
            raise invalid("Invalid object", param=param)
        result: dict[str, str | None] = {}
        for key, value in raw.items():
            if not isinstance(value, str):
                raise invalid(f"Invalid value for {param}[{key}]: must be a string", param=param)
            if len(key) > 40:
                raise invalid(
                    f"Metadata keys can have up to 40 characters; '{key}' has {len(key)}.",
                    param=f"{param}[{key}]",
                )
            if len(value) > 500:
                raise invalid(
                    "Metadata values can have up to 500 characters, but you passed in a value "
                    f"that is {len(value)} characters.",
                    param=f"{param}[{key}]",
                )
            result[key] = value or None
        if len(result) > 50:
            raise invalid("You can have up to 50 metadata keys.", param=param)
        return result


@dataclass(frozen=True)
class Arr(Spec):
    """A list, sent as `a[]=` or indexed `a[0]=` (how the SDK encodes it)."""

    item: Spec = field(default_factory=Str)
    max_items: int = 100

    def convert(self, raw: FormValue, param: str) -> Any:
        if isinstance(raw, dict):
            try:
                ordered = sorted(raw.items(), key=lambda kv: int(kv[0]))
            except ValueError:
                raise invalid("Invalid array", param=param) from None
            items = [value for _, value in ordered]
        elif isinstance(raw, list):
            items = raw
        else:
            raise invalid("Invalid array", param=param)
        if len(items) > self.max_items:
            raise invalid(
                f"Invalid array: {param} can have at most {self.max_items} items", param=param
            )
        return [self.item.coerce(value, f"{param}[{index}]") for index, value in enumerate(items)]


@dataclass(frozen=True)
class Obj(Spec):
    """A hash with known keys; unknown keys are rejected and required ones enforced."""

    fields: Mapping[str, Spec] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    def convert(self, raw: FormValue, param: str) -> Any:
        if not isinstance(raw, dict):
            raise invalid("Invalid object", param=param)
        return self.coerce_fields(raw, param)

    def coerce_fields(self, raw: Mapping[str, FormValue], prefix: str | None) -> dict[str, Any]:
        """Coerce each key of `raw`; `prefix` is None at the top level of a request."""
        result: dict[str, Any] = {}
        for key, value in raw.items():
            name = key if prefix is None else f"{prefix}[{key}]"
            spec = self.fields.get(key)
            if spec is None:
                raise parameter_unknown(name)
            result[key] = spec.coerce(value, name)
        for key in self.required:
            if key not in raw:
                raise parameter_missing(key if prefix is None else f"{prefix}[{key}]")
        return result

    def extend(self, **more: Spec) -> Obj:
        """Return a copy that also accepts `more`."""
        return Obj(fields={**self.fields, **more}, required=self.required, emptyable=self.emptyable)


@dataclass(frozen=True)
class AnyHash(Spec):
    """A free-form hash whose keys are not checked (kept for rarely used nested settings)."""

    def convert(self, raw: FormValue, param: str) -> Any:
        if not isinstance(raw, dict):
            raise invalid("Invalid object", param=param)
        return raw


# Range filters such as `created`: an exact integer or a hash of gt/gte/lt/lte.
RANGE = Obj(fields={op: Int() for op in ("gt", "gte", "lt", "lte")})


@dataclass(frozen=True)
class IntOrRange(Spec):
    """`created=123` or `created[gte]=…&created[lt]=…`."""

    def convert(self, raw: FormValue, param: str) -> Any:
        if isinstance(raw, dict):
            return RANGE.convert(raw, param)
        return {"eq": Int().convert(raw, param)}


EXPAND = Arr(item=Str(max_length=500), max_items=100)
