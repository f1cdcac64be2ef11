"""Responses of the Connect host: HTML pages, redirects, and OAuth's own JSON errors."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson

from stripe_emulator.http_types import Response

# The only `error` strings stripe-python understands; any other crashes its parser.
OAUTH_ERRORS = {
    "invalid_request": 400,
    "invalid_client": 401,
    "invalid_grant": 400,
    "invalid_scope": 400,
    "unsupported_grant_type": 400,
    "unsupported_response_type": 400,
}


class OAuthError(Exception):
    """An error of the token and deauthorize endpoints: `{"error": code, "error_description"}`."""

    def __init__(self, code: str, description: str) -> None:
        if code not in OAUTH_ERRORS:
            raise ValueError(f"not an OAuth error code the SDKs know: {code}")
        super().__init__(description)
        self.code = code
        self.description = description

    def response(self, request_id: str) -> Response:
        """Return the JSON error response."""
        body = {"error": self.code, "error_description": self.description}
        return json_response(OAUTH_ERRORS[self.code], body, request_id)


def json_response(status: int, payload: object, request_id: str) -> Response:
    """Return a JSON response of the Connect host."""
    headers = {"content-type": "application/json", "request-id": request_id}
    return Response(status, orjson.dumps(payload), headers)


def html_response(status: int, body: bytes, request_id: str) -> Response:
    """Return an HTML page that must never be cached or framed."""
    headers = {
        "content-type": "text/html; charset=utf-8",
        "request-id": request_id,
        "cache-control": "no-store",
        "x-frame-options": "DENY",
    }
    return Response(status, body, headers)


def redirect(uri: str, params: Mapping[str, str | None], request_id: str) -> Response:
    """Return a 302 to `uri` with `params` added to its query (None values left out)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    location = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    return Response(302, b"", {"location": location, "request-id": request_id})
