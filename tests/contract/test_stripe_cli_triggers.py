"""Replay `stripe trigger` fixture sequences (stripe-cli) against the emulator.

A sequence is in scope when the emulator serves every request it makes; the rest are listed by
`out_of_scope()` with the endpoints they still need, and come into scope as resources land.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.emulator import Emulator
from stripe_emulator.server import EmulatorServer
from tests.conftest import SHARED, require_shared

TRIGGERS = SHARED / "stripe-oracles" / "stripe-cli-triggers"
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def _files() -> list[Path]:
    return sorted(TRIGGERS.glob("*.json")) if TRIGGERS.exists() else []


def _steps(path: Path) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = json.loads(path.read_text())["fixtures"]
    return steps


def _missing_routes(emulator: Emulator, path: Path) -> list[str]:
    missing = []
    for step in _steps(path):
        concrete = PLACEHOLDER.sub("x", step["path"])
        method = step["method"].upper()
        if emulator.router.match(method, concrete) is None:
            missing.append(f"{method} {step['path']}")
    return missing


# Sequences whose endpoints exist but whose behaviour the emulator does not model.
NOT_EMULATED = {
    "invoice.payment_action_required.json": "needs 3D Secure test cards (requires_action)",
    "payment_intent.requires_action.json": "needs 3D Secure test cards (requires_action)",
    "setup_intent.requires_action.json": "needs 3D Secure test cards (requires_action)",
    "payment_intent.processing.json": "needs payment methods with delayed confirmation (not cards)",
}


def _scope() -> tuple[list[Path], dict[str, str]]:
    emulator = Emulator(EmulatorConfig())
    try:
        in_scope, out = [], {}
        for path in _files():
            missing = _missing_routes(emulator, path)
            if missing:
                out[path.name] = "needs " + ", ".join(dict.fromkeys(missing))
            elif path.name in NOT_EMULATED:
                out[path.name] = NOT_EMULATED[path.name]
            else:
                in_scope.append(path)
        return in_scope, out
    finally:
        emulator.close()


IN_SCOPE, OUT_OF_SCOPE = _scope()


def out_of_scope() -> dict[str, str]:
    """Return each trigger file the emulator cannot replay yet, with the endpoints it needs."""
    return dict(OUT_OF_SCOPE)


def encode(params: dict[str, Any], prefix: str | None = None) -> Iterator[tuple[str, str]]:
    """Form-encode nested params the way the SDK and stripe-cli do."""
    for key, value in params.items():
        name = key if prefix is None else f"{prefix}[{key}]"
        if isinstance(value, dict):
            yield from encode(value, name)
        elif isinstance(value, list):
            yield from encode({str(i): item for i, item in enumerate(value)}, name)
        elif isinstance(value, bool):
            yield name, "true" if value else "false"
        elif value is not None:
            yield name, str(value)


def _resolve(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    if not isinstance(value, str):
        return value

    def lookup(match: re.Match[str]) -> str:
        token = match.group(1)
        if token == "generate-uuid":
            return str(uuid.uuid4())
        if token == "time-now-RFC3339":
            return datetime.now(UTC).isoformat()
        name, _, field = token.partition(":")
        node: Any = results[name]
        for part in field.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        return str(node)

    return PLACEHOLDER.sub(lookup, value)


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    """Run one emulator for all replays."""
    require_shared("stripe-oracles/stripe-cli-triggers")
    with EmulatorServer(EmulatorConfig()) as running:
        yield running


def test_some_sequences_are_in_scope() -> None:
    names = {path.name for path in IN_SCOPE}
    if not _files():
        pytest.skip("stripe-cli trigger fixtures are absent (../shared is not checked out)")
    assert {
        "customer.created.json",
        "customer.updated.json",
        "coupon.created.json",
        "price.created.json",
        "plan.deleted.json",
        "product.deleted.json",
        "promotion_code.updated.json",
        "tax_rate.updated.json",
        "account.updated.json",
        "customer.discount.deleted.json",
    } <= names
    assert all(reason.startswith("needs ") for reason in OUT_OF_SCOPE.values())


@pytest.mark.parametrize("trigger", IN_SCOPE, ids=lambda path: path.name)
def test_trigger_sequence_replays(server: EmulatorServer, trigger: Path) -> None:
    key = server.emulator.platform.secret_key_test
    results: dict[str, Any] = {}
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}) as http:
        for step in _steps(trigger):
            path = _resolve(step["path"], results)
            params = list(encode(_resolve(step.get("params") or {}, results)))
            method = step["method"].upper()
            if method == "POST":
                response = http.post(path, data=dict(params))
            else:
                response = http.request(method, path, params=params)
            body = response.json()
            expected_error = step.get("expected_error_type")
            if expected_error:
                assert response.status_code >= 400, body
                assert body["error"]["type"] == expected_error
                continue
            assert response.status_code == 200, (step["name"], body)
            assert "object" in body
            results[step["name"]] = body
