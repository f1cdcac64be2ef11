"""Decode Stripe's form encoding (`a[b]=`, `a[]=`, `a[0][b]=`) into nested dicts and lists."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from stripe_emulator.errors import invalid

# A parsed form value: strings at the leaves, dicts for `[key]`, lists for `[]`.
FormValue = str | dict[str, "FormValue"] | list["FormValue"]
Form = dict[str, FormValue]

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
MAX_DEPTH = 12
MAX_PAIRS = 5000


def parse_form(raw: bytes | str) -> Form:
    """Parse an urlencoded body or query string; malformed input raises a 400 ApiError."""
    try:
        text = raw.decode("utf-8", errors="strict") if isinstance(raw, bytes) else raw
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_PAIRS)
    except ValueError as exc:  # bad UTF-8 or too many fields
        raise invalid("Invalid request: the body could not be decoded as form data.") from exc
    form: Form = {}
    for key, value in pairs:
        _insert(form, _split_key(key), value, key)
    return form


def _split_key(key: str) -> list[str]:
    match = _KEY.match(key)
    if match is None:
        # Unbalanced brackets: keep the whole key so it surfaces as an unknown parameter.
        return [key]
    parts = [match.group(1), *_PART.findall(match.group(2))]
    if len(parts) > MAX_DEPTH:
        raise invalid(f"Parameter nesting is too deep: {key}", param=match.group(1))
    return parts


def _insert(node: dict[str, FormValue], parts: list[str], value: str, key: str) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        if isinstance(node.get(head), dict | list):
            raise _conflict(key)
        node[head] = value
        return
    if rest[0] == "":
        _insert_list(node, head, rest[1:], value, key)
        return
    child = node.setdefault(head, {})
    if not isinstance(child, dict):
        raise _conflict(key)
    _insert(child, rest, value, key)


def _insert_list(
    node: dict[str, FormValue], head: str, rest: list[str], value: str, key: str
) -> None:
    items = node.setdefault(head, [])
    if not isinstance(items, list):
        raise _conflict(key)
    if not rest:
        items.append(value)
        return
    # `items[][price]=a&items[][quantity]=1&items[][price]=b`: a repeated sub-key starts a new item.
    last = items[-1] if items else None
    if not isinstance(last, dict) or _holds(last, rest):
        last = {}
        items.append(last)
    _insert(last, rest, value, key)


def _holds(node: dict[str, FormValue], parts: list[str]) -> bool:
    current: FormValue = node
    for part in parts:
        if not isinstance(current, dict) or part not in current:
            return False
        current = current[part]
    return not isinstance(current, dict)


def _conflict(key: str) -> Exception:
    return invalid(f"Invalid value for {key}: conflicting nested and scalar values.", param=key)
