"""Parameter specs: Stripe's messages, codes and bracketed `param` paths."""

from __future__ import annotations

import pytest

from stripe_emulator.errors import ApiError
from stripe_emulator.params import Arr, Bool, Enum, Int, Metadata, Obj, Str


def _error(spec: Obj, form: dict[str, object]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        spec.coerce_fields(form, None)  # type: ignore[arg-type]
    return caught.value


def test_unknown_nested_parameter_names_its_path() -> None:
    spec = Obj(fields={"address": Obj(fields={"city": Str()})})
    error = _error(spec, {"address": {"town": "x"}})
    assert (error.code, error.param) == ("parameter_unknown", "address[town]")
    assert error.message == "Received unknown parameter: address[town]"


def test_missing_required_and_bad_scalars() -> None:
    spec = Obj(fields={"n": Int(), "b": Bool(), "e": Enum(values=("a", "b", "c"))}, required=("n",))
    assert _error(spec, {}).code == "parameter_missing"
    assert _error(spec, {"n": "x"}).message == "Invalid integer: x"
    assert _error(spec, {"n": "1", "b": "yes"}).message == "Invalid boolean: yes"
    assert _error(spec, {"n": "1", "e": "d"}).message == "Invalid e: must be one of a, b, or c"


def test_empty_strings_unset_only_emptyable_fields() -> None:
    spec = Obj(fields={"name": Str(), "email": Str(emptyable=True)})
    assert spec.coerce_fields({"email": ""}, None) == {"email": None}
    assert _error(spec, {"name": ""}).code == "parameter_invalid_empty"


def test_arrays_accept_indexed_and_bracket_forms_in_index_order() -> None:
    spec = Obj(fields={"ids": Arr(item=Str())})
    assert spec.coerce_fields({"ids": {"1": "b", "0": "a"}}, None) == {"ids": ["a", "b"]}
    assert spec.coerce_fields({"ids": ["a", "b"]}, None) == {"ids": ["a", "b"]}
    assert _error(spec, {"ids": {"x": "a"}}).message == "Invalid array"


def test_metadata_deletes_blank_values_and_limits_keys() -> None:
    spec = Obj(fields={"metadata": Metadata()})
    assert spec.coerce_fields({"metadata": {"a": "1", "b": ""}}, None) == {
        "metadata": {"a": "1", "b": None}
    }
    assert spec.coerce_fields({"metadata": ""}, None) == {"metadata": None}
    too_many = {f"k{i}": "v" for i in range(51)}
    assert _error(spec, {"metadata": too_many}).param == "metadata"
