"""The control API under `/_emulator/…`, served only when the emulator runs with `--control`."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import orjson

from stripe_emulator.errors import ApiError, invalid
from stripe_emulator.http_types import Request, Response
from stripe_emulator.oauth.authorize import set_branding

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator


def install_control(emulator: Emulator) -> None:
    """Register the control endpoints (later parts add theirs through `emulator.control_router`)."""
    router = emulator.control_router

    def platform(emulator: Emulator, _body: dict[str, Any]) -> dict[str, Any]:
        return {**emulator.platform.to_json(), "now": emulator.clock.now()}

    def get_rate_limits(emulator: Emulator, _body: dict[str, Any]) -> dict[str, Any]:
        return asdict(emulator.rate_limiter.settings)

    def set_rate_limits(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
        return asdict(emulator.rate_limiter.configure(body))

    def get_faults(emulator: Emulator, _body: dict[str, Any]) -> dict[str, Any]:
        return _faults_json(emulator)

    def set_faults(emulator: Emulator, body: dict[str, Any]) -> dict[str, Any]:
        emulator.faults.configure(body)
        return _faults_json(emulator)

    router.add("GET", "/_emulator/platform", platform)
    router.add("POST", "/_emulator/platform/branding", set_branding)
    router.add("GET", "/_emulator/rate_limits", get_rate_limits)
    router.add("POST", "/_emulator/rate_limits", set_rate_limits)
    router.add("GET", "/_emulator/faults", get_faults)
    router.add("POST", "/_emulator/faults", set_faults)


def _faults_json(emulator: Emulator) -> dict[str, Any]:
    data = asdict(emulator.faults.settings)
    data["error_statuses"] = list(data["error_statuses"])
    return data


def handle_control(emulator: Emulator, request: Request, request_id: str) -> Response:
    """Run a control endpoint; JSON in, JSON out; 404 when the control API is off."""
    headers = {"content-type": "application/json", "request-id": request_id}
    match = emulator.control_router.match(request.method, request.path)
    if not emulator.config.control or match is None:
        from stripe_emulator.pipeline import error_response, unrecognized

        return error_response(unrecognized(request), request_id)
    try:
        body: Any = orjson.loads(request.body) if request.body.strip() else {}
        if not isinstance(body, dict):
            raise invalid("The control API takes a JSON object.")
        with emulator.store.transaction():
            result = match.route.handler(emulator, body, **match.path_params)
    except orjson.JSONDecodeError:
        result_error = invalid("The control API takes a JSON object.")
        return Response(400, orjson.dumps(result_error.body()), headers)
    except ValueError as exc:
        return Response(400, orjson.dumps(invalid(str(exc)).body()), headers)
    except ApiError as error:
        return Response(error.status, orjson.dumps(error.body()), headers)
    return Response(200, orjson.dumps(result), headers)
