"""Stripe-shaped API errors: one exception type carrying status, type, code, message and param."""

from __future__ import annotations

from typing import Any

DOC_BASE = "https://stripe.com/docs/error-codes/"


class ApiError(Exception):
    """An error the emulator answers with Stripe's `{"error": {...}}` envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        headers: dict[str, str] | None = None,
        saved: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param
        self.headers = headers or {}
        # Stripe does not remember idempotent results of requests that failed validation.
        self.saved = saved

    def body(self, request_log_url: str | None = None) -> dict[str, Any]:
        """Return the wire envelope for this error."""
        error: dict[str, Any] = {}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = DOC_BASE + self.code.replace("_", "-")
        error["message"] = self.message
        if self.param is not None:
            error["param"] = self.param
        if request_log_url is not None:
            error["request_log_url"] = request_log_url
        error["type"] = self.type
        return {"error": error}


def invalid(message: str, *, param: str | None = None, code: str | None = None) -> ApiError:
    """Return a 400 invalid_request_error raised while validating parameters."""
    return ApiError(400, message, param=param, code=code, saved=False)


def parameter_unknown(param: str) -> ApiError:
    """Return Stripe's error for a parameter the endpoint does not take."""
    return invalid(f"Received unknown parameter: {param}", param=param, code="parameter_unknown")


def parameter_missing(param: str) -> ApiError:
    """Return Stripe's error for a required parameter left out."""
    return invalid(f"Missing required param: {param}.", param=param, code="parameter_missing")


def resource_missing(noun: str, object_id: str, *, param: str = "id") -> ApiError:
    """Return Stripe's 404 for an object that does not exist in this account and mode."""
    return ApiError(404, f"No such {noun}: '{object_id}'", code="resource_missing", param=param)


def api_error(message: str = "An unknown error occurred") -> ApiError:
    """Return a 500 api_error."""
    return ApiError(500, message, type_="api_error")
