"""Contexts for changes nobody requested (renewals, retries) and keeping a failed attempt."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from stripe_emulator.context import Ctx
from stripe_emulator.http_types import Request
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator
    from stripe_emulator.errors import ApiError


def system_ctx(emulator: Emulator, scope: Scope) -> Ctx:
    """Return a context acting in `scope` for an automatic change: its events carry no request."""
    request = Request("POST", "/_billing", b"", {}, b"")
    on_behalf = scope.account != emulator.platform.account_id
    return Ctx(emulator, request, scope, {}, {}, "", on_behalf)


def is_automatic(ctx: Ctx) -> bool:
    """Tell whether the context belongs to no API request."""
    return not ctx.request_id


def commit_then_raise(ctx: Ctx, error: ApiError) -> NoReturn:
    """Keep what the request changed so far, then fail it.

    Stripe records a declined charge, the failed intent and their events even though the request
    answers 402; the pipeline rolls back on errors, so commit first and let it roll back nothing.
    """
    if not is_automatic(ctx):
        ctx.store.execute("COMMIT")
        ctx.store.execute("BEGIN IMMEDIATE")
    raise error
