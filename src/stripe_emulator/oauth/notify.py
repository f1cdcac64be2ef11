"""Events of the Connect host: `account.application.authorized` and `.deauthorized`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator.context import Ctx
from stripe_emulator.events import emit
from stripe_emulator.http_types import Request
from stripe_emulator.oauth.authorize import emulator_branding
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator


def announce_application(
    emulator: Emulator, event_type: str, account_id: str, livemode: bool, request_id: str
) -> None:
    """Record that the platform's application was authorized or deauthorized on an account.

    The event lives in the connected account's partition (so `account` is set) and carries the
    application as `data.object`. Its `request` is null, as for changes made outside the API.
    """
    del request_id  # a consent page or dashboard click is not an API request
    scope = Scope(account_id, livemode)
    synthetic = Request("POST", "/oauth/authorize", b"", {}, b"")
    ctx = Ctx(emulator, synthetic, scope, {}, {}, "")
    name, _icon = emulator_branding(emulator)
    application = {"id": emulator.platform.client_id, "object": "application", "name": name}
    emit(ctx, event_type, application, scope=scope)
