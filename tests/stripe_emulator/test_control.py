"""The control API: off by default, platform details, rate limit and fault settings."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from stripe_emulator.server import EmulatorServer


def test_control_api_is_404_unless_enabled(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server()
    response = httpx.get(server.url + "/_emulator/platform")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_platform_endpoint_lists_ids_and_keys(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(
        control=True, client_id="ca_controltest123456", redirect_uris=("http://localhost/cb",)
    )
    body = httpx.get(server.url + "/_emulator/platform").json()
    platform = server.emulator.platform
    assert body["account_id"] == platform.account_id
    assert body["secret_key_test"].startswith("sk_test_")
    assert body["secret_key_live"].startswith("sk_live_")
    assert body["publishable_key_test"].startswith("pk_test_")
    assert body["client_id"] == "ca_controltest123456"
    assert body["redirect_uris"] == ["http://localhost/cb"]
    assert isinstance(body["now"], int)


def test_settings_round_trip_and_bad_values_are_400(
    make_server: Callable[..., EmulatorServer],
) -> None:
    server = make_server(control=True)
    limits = httpx.post(
        server.url + "/_emulator/rate_limits", json={"enabled": True, "global_test": 5}
    ).json()
    assert limits == {
        "enabled": True,
        "global_test": 5.0,
        "global_live": 100.0,
        "endpoint": 25.0,
        "concurrency": 20.0,
        "endpoint_concurrency": 5.0,
    }
    assert httpx.get(server.url + "/_emulator/rate_limits").json() == limits
    faults = httpx.post(
        server.url + "/_emulator/faults", json={"latency_ms": 5, "error_statuses": [502, 503]}
    ).json()
    assert faults["latency_ms"] == 5.0
    assert faults["error_statuses"] == [502, 503]
    for path, body in (
        ("/_emulator/faults", {"error_rate": 2}),
        ("/_emulator/faults", {"nope": 1}),
        ("/_emulator/rate_limits", {"enabled": "yes"}),
        ("/_emulator/rate_limits", {"concurrency": 0}),
    ):
        response = httpx.post(server.url + path, json=body)
        assert response.status_code == 400
        assert response.json()["error"]["message"]
    assert httpx.post(server.url + "/_emulator/faults", content=b"[1").status_code == 400
