"""Events of the Connect host: `account.application.authorized` and `.deauthorized`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator


def announce_application(
    emulator: Emulator, event_type: str, account_id: str, livemode: bool, request_id: str
) -> None:
    """Record that an application was authorized or deauthorized on an account.

    The event object is created by the events module once it exists in the emulator; until
    then the connection change itself is the only record.
    """
    del emulator, event_type, account_id, livemode, request_id
