"""The wire layer: faults, auth, account scoping, rate limits, params, idempotency, errors."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from stripe_emulator import idempotency, observe
from stripe_emulator.auth import acting_scope, authenticate
from stripe_emulator.config import PINNED_API_VERSION
from stripe_emulator.context import Ctx
from stripe_emulator.errors import ApiError, api_error
from stripe_emulator.faults import FaultPlan
from stripe_emulator.forms import Form, parse_form
from stripe_emulator.http_types import RawJson, Request, Response
from stripe_emulator.oauth.routes import handle_connect, is_connect_path
from stripe_emulator.ratelimit import RATE_LIMIT_MESSAGE, InFlight

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

log = logging.getLogger("stripe_emulator")

JSON = "application/json"


def json_response(
    status: int, payload: Any, request_id: str, headers: dict[str, str] | None = None
) -> Response:
    """Return a JSON response with the headers every Stripe response carries."""
    body = payload.data if isinstance(payload, RawJson) else orjson.dumps(payload)
    base = {"content-type": JSON, "request-id": request_id, "stripe-version": PINNED_API_VERSION}
    if headers:
        base.update(headers)
    return Response(status, body, base)


def error_response(error: ApiError, request_id: str, *, livemode: bool | None = None) -> Response:
    """Return the envelope for an ApiError, with a request log URL when the caller is known."""
    log_url = None
    if livemode is not None:
        log_url = f"https://dashboard.stripe.com/{'' if livemode else 'test/'}logs/{request_id}"
    return json_response(error.status, error.body(log_url), request_id, error.headers)


def unrecognized(request: Request) -> ApiError:
    """Return Stripe's 404 for a URL no endpoint serves."""
    return ApiError(
        404,
        f"Unrecognized request URL ({request.method}: {request.path}). Please see "
        "https://stripe.com/docs or we can help at https://support.stripe.com/.",
    )


async def handle(emulator: Emulator, request: Request) -> Response:
    """Answer one HTTP request; never raises."""
    request_id = emulator.ids.request_id()
    try:
        if request.path.startswith("/_emulator"):
            from stripe_emulator.control import handle_control

            return handle_control(emulator, request, request_id)
        if is_connect_path(request.path):
            return handle_connect(emulator, request, request_id)
        plan = emulator.faults.plan(request.path)
        admitted = admit(emulator, request, request_id)
        try:
            # The injected latency is time in flight: it counts against concurrency limits.
            if plan.delay_seconds:
                await asyncio.sleep(plan.delay_seconds)
            injected = _injected(plan, request_id)
            if injected is not None:
                return injected
            response = admitted.run() if isinstance(admitted, Admitted) else admitted
        finally:
            if isinstance(admitted, Admitted):
                admitted.release()
        observe.notify(request, response)
        if plan.kind == "truncate":
            response.truncate_at = len(response.body) // 2
        return response
    except ApiError as error:
        return error_response(error, request_id)
    except Exception:
        log.exception("unexpected error handling %s %s", request.method, request.path)
        return error_response(api_error(), request_id)


def _injected(plan: FaultPlan, request_id: str) -> Response | None:
    """Return the response of a fault that stops the request before it runs, if any."""
    if plan.kind == "drop":
        headers = {"content-type": JSON, "request-id": request_id}
        return Response(200, b"{}", headers, truncate_at=0)
    if plan.kind == "error":
        failure = ApiError(plan.status, "An unknown error occurred", type_="api_error")
        return error_response(failure, request_id)
    if plan.kind == "lock_timeout":
        return error_response(_lock_timeout(), request_id)
    return None


def _lock_timeout() -> ApiError:
    return ApiError(
        429,
        "This object cannot be accessed right now because another API request or Stripe process "
        "is currently accessing it. If you see this error intermittently, retry the request. If "
        "you see this error frequently and are making multiple concurrent requests to a single "
        "object, make your requests serially or at a lower rate.",
        code="lock_timeout",
        headers={"stripe-should-retry": "true"},
    )


def _form(request: Request) -> Form:
    form = parse_form(request.query) if request.query else {}
    if request.method == "POST" and request.body:
        form.update(parse_form(request.body))
    return form


def process(emulator: Emulator, request: Request, request_id: str) -> Response:
    """Authenticate, scope, limit and run the matching handler."""
    admitted = admit(emulator, request, request_id)
    if not isinstance(admitted, Admitted):
        return admitted
    try:
        return admitted.run()
    finally:
        admitted.release()


@dataclass
class Admitted:
    """A request that passed auth, scoping, routing and the limits, holding its in-flight slot."""

    emulator: Emulator
    ctx: Ctx
    handler: Any
    flight: InFlight

    def run(self) -> Response:
        """Run the handler (idempotently when the request carries a key)."""
        ctx = self.ctx
        try:
            idem_key = (
                ctx.request.header("idempotency-key") if ctx.request.method == "POST" else None
            )
            if idem_key is None:
                return _run(ctx, self.handler)
            return _run_idempotent(ctx, self.handler, idem_key)
        except ApiError as error:
            return error_response(error, ctx.request_id, livemode=ctx.livemode)

    def release(self) -> None:
        """Give back the in-flight slot."""
        self.emulator.rate_limiter.leave(self.flight)


def admit(emulator: Emulator, request: Request, request_id: str) -> Admitted | Response:
    """Authenticate, scope, route and apply the rate and concurrency limits; an error response
    when any of them refuses."""
    account, livemode, key = authenticate(emulator, request)
    try:
        scope, on_behalf = acting_scope(emulator, request, account, livemode, key)
        match = emulator.router.match(request.method, request.path)
        if match is None:
            raise unrecognized(request)
        endpoint = match.route.name
        reason = emulator.rate_limiter.check(scope.account, livemode, endpoint)
        if reason is not None:
            raise _rate_limited(reason)
        heavy = request.method == "GET" and (
            not match.route.template.endswith("}") or b"expand" in request.query
        )
        flight = emulator.rate_limiter.enter(scope.account, livemode, endpoint, heavy=heavy)
        if flight.reason is not None:
            raise _rate_limited(flight.reason)
        try:
            form = _form(request)
        except BaseException:
            emulator.rate_limiter.leave(flight)
            raise
        ctx = Ctx(emulator, request, scope, form, match.path_params, request_id, on_behalf)
        return Admitted(emulator, ctx, match.route.handler, flight)
    except ApiError as error:
        return error_response(error, request_id, livemode=livemode)


def _rate_limited(reason: str) -> ApiError:
    return ApiError(
        429, RATE_LIMIT_MESSAGE, code="rate_limit", headers={"stripe-rate-limited-reason": reason}
    )


def _run(ctx: Ctx, handler: Any) -> Response:
    try:
        with ctx.store.transaction():
            payload = handler(ctx)
    except ApiError as error:
        response = error_response(error, ctx.request_id, livemode=ctx.livemode)
        response.remember = error.saved
        return response
    except Exception:
        log.exception("unexpected error in %s %s", ctx.request.method, ctx.request.path)
        return error_response(api_error(), ctx.request_id, livemode=ctx.livemode)
    response = json_response(200, payload, ctx.request_id)
    response.after = ctx.after_response
    return response


def _run_idempotent(ctx: Ctx, handler: Any, key: str) -> Response:
    idempotency.check_key(key)
    fingerprint = idempotency.fingerprint(ctx.request.method, ctx.request.path, ctx.form)
    saved = idempotency.lookup(ctx.store, ctx.scope, key)
    if saved is not None:
        if saved.fingerprint != fingerprint:
            raise idempotency.mismatch(key)
        return Response(
            saved.status,
            saved.body,
            {
                "content-type": JSON,
                "request-id": ctx.request_id,
                "stripe-version": PINNED_API_VERSION,
                "idempotent-replayed": "true",
                "original-request": saved.request_id,
                "idempotency-key": key,
            },
        )
    response = _run(ctx, handler)
    response.headers["idempotency-key"] = key
    if _should_save(response):
        with ctx.store.transaction():
            idempotency.remember(
                ctx.store,
                ctx.scope,
                key,
                idempotency.Saved(fingerprint, response.status, ctx.request_id, response.body),
                ctx.now(),
            )
    return response


def _should_save(response: Response) -> bool:
    # Stripe keeps results once the endpoint started executing (even 500s), but not requests
    # that failed parameter validation.
    return response.remember and response.status not in (401, 403, 429)
