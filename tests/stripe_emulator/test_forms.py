"""Form decoding: the SDK's indexed encoding, curl's `[]`, and malformed input."""

from __future__ import annotations

import pytest

from stripe_emulator.errors import ApiError
from stripe_emulator.forms import parse_form


def test_nested_and_indexed_keys_become_dicts_and_lists() -> None:
    form = parse_form(
        "created%5Bgte%5D=5&expand%5B0%5D=data.customer&expand%5B1%5D=data.x"
        "&items%5B0%5D%5Bprice%5D=p1&items%5B0%5D%5Bquantity%5D=2&email="
    )
    assert form == {
        "created": {"gte": "5"},
        "expand": {"0": "data.customer", "1": "data.x"},
        "items": {"0": {"price": "p1", "quantity": "2"}},
        "email": "",
    }


def test_bracket_lists_collect_values_and_start_new_items_on_repeated_keys() -> None:
    form = parse_form(
        "expand[]=a&expand[]=b&items[][price]=p1&items[][quantity]=1&items[][price]=p2"
    )
    assert form == {
        "expand": ["a", "b"],
        "items": [{"price": "p1", "quantity": "1"}, {"price": "p2"}],
    }


@pytest.mark.parametrize(
    "body",
    [b"a=1&a[b]=2", b"a[b]=2&a=1", b"a[]=1&a[x]=2", b"\xff\xfe=1"],
)
def test_conflicting_or_undecodable_forms_are_400s(body: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        parse_form(body)
    assert caught.value.status == 400


def test_unbalanced_brackets_keep_the_whole_key() -> None:
    assert parse_form("a[b=1") == {"a[b": "1"}
