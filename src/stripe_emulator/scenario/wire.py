"""Talking to an emulator over HTTP: form-encoded API calls and the clock control API."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx

JsonObject = dict[str, Any]


class ScenarioError(RuntimeError):
    """The emulator refused a request the scenario needed."""


def encode(params: JsonObject, prefix: str | None = None) -> Iterator[tuple[str, str]]:
    """Form-encode nested params as the SDK does (`items[0][price]=…`)."""
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


class Api:
    """An API and control client for one emulator."""

    def __init__(self, url: str) -> None:
        # Without TCP_NODELAY a request's body waits for the ACK of its headers (Nagle against
        # delayed ACK): tens of milliseconds per call.
        nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        transport = httpx.HTTPTransport(socket_options=nodelay)
        self._http = httpx.Client(base_url=url, timeout=600, transport=transport)
        platform = self.control("GET", "/_emulator/platform")
        self.platform_account: str = platform["account_id"]
        self._auth = {"Authorization": f"Bearer {platform['secret_key_test']}"}
        self.now: int = int(platform["now"])

    def close(self) -> None:
        """Close the connection."""
        self._http.close()

    def control(self, method: str, path: str, body: JsonObject | None = None) -> JsonObject:
        """Call the control API."""
        response = self._http.request(method, path, json=body)
        if response.status_code != 200:
            raise ScenarioError(f"{method} {path}: {response.status_code} {response.text}")
        answer: JsonObject = response.json()
        return answer

    def call(
        self, method: str, path: str, params: JsonObject | None = None, account: str | None = None
    ) -> JsonObject:
        """Call the Stripe API as the platform, or on behalf of `account`."""
        headers = dict(self._auth)
        if account is not None:
            headers["Stripe-Account"] = account
        form = dict(encode(params or {}))
        if method == "GET":
            response = self._http.get(path, params=form, headers=headers)
        else:
            response = self._http.request(method, path, data=form, headers=headers)
        if response.status_code != 200:
            raise ScenarioError(f"{method} {path}: {response.status_code} {response.text}")
        answer: JsonObject = response.json()
        return answer

    def advance(self, to: int, *, freeze: bool = True) -> None:
        """Move the emulator's clock to `to`, running what falls due."""
        if to < self.now:
            raise ScenarioError(f"cannot go back from {self.now} to {to}")
        self.control("POST", "/_emulator/clock/advance", {"to": to, "freeze": freeze})
        self.now = to
