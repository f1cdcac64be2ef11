"""Control endpoints of the clock and the billing engine: `/_emulator/clock…` and per-account
billing settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from stripe_emulator.billing import dunning
from stripe_emulator.errors import invalid, resource_missing

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator
    from stripe_emulator.engine.runner import Engine

JsonObject = dict[str, Any]


def install_engine_control(emulator: Emulator, engine: Engine) -> None:
    """Register the clock and billing-settings endpoints."""
    router = emulator.control_router

    def get_clock(emulator: Emulator, _body: JsonObject) -> JsonObject:
        return _clock_json(emulator, engine)

    def advance(emulator: Emulator, body: JsonObject) -> JsonObject:
        unknown = set(body) - {"to", "by", "freeze"}
        if unknown:
            raise invalid(f"Unknown keys: {', '.join(sorted(unknown))}.")
        now = emulator.clock.now()
        to = _whole(body, "to", now)
        by = _whole(body, "by", 0)
        if "to" in body and "by" in body:
            raise invalid("Give either `to` or `by`, not both.")
        freeze = body.get("freeze", False)
        if not isinstance(freeze, bool):
            raise invalid("freeze must be true or false.", param="freeze")
        ran = engine.advance(to + by, freeze=freeze)
        return {**_clock_json(emulator, engine), "ran": ran}

    def get_settings(emulator: Emulator, _body: JsonObject, id: str) -> JsonObject:
        _check_account(emulator, id)
        return {"account": id, **dunning.load_settings(emulator.store, id).to_json()}

    def set_settings(emulator: Emulator, body: JsonObject, id: str) -> JsonObject:
        _check_account(emulator, id)
        return {"account": id, **dunning.configure(emulator.store, id, body).to_json()}

    router.add("GET", "/_emulator/clock", get_clock)
    router.add("POST", "/_emulator/clock/advance", advance)
    router.add("GET", "/_emulator/accounts/{id}/billing_settings", get_settings)
    router.add("POST", "/_emulator/accounts/{id}/billing_settings", set_settings)


def _whole(body: JsonObject, name: str, default: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"{name} must be a whole number of seconds.", param=name)
    return value


def _clock_json(emulator: Emulator, engine: Engine) -> JsonObject:
    from stripe_emulator.clock import WallClock

    clock = emulator.clock
    return {
        "now": clock.now(),
        "frozen": isinstance(clock, WallClock) and clock.held,
        "next_due": engine.schedule.next_due(),
    }


def _check_account(emulator: Emulator, account: str) -> None:
    if account == emulator.platform.account_id:
        return
    rows = emulator.store.execute(
        "SELECT 1 FROM objects WHERE type='account' AND id=? AND deleted=0", (account,)
    )
    if not rows:
        raise resource_missing("account", account)
