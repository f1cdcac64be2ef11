"""Test clocks (`clock_…`, `/v1/test_helpers/test_clocks`): simulated time for their customers.

A customer created with `test_clock` lives at the clock's `frozen_time`: its subscriptions,
invoices and events are dated on that clock, and the billing engine runs their due work only
when the clock is advanced (synchronously: the advance answers `status: "advancing"` as Stripe
does, and the clock is `ready` again when the answer is sent). Deleting a clock deletes its
customers and their subscriptions. Test-mode only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stripe_emulator import events
from stripe_emulator.errors import invalid
from stripe_emulator.params import Int, Obj, Str
from stripe_emulator.resources.base import JsonObject, Resource
from stripe_emulator.resources.crud import base_fields, load, present, save
from stripe_emulator.resources.shapes import missing_reference
from stripe_emulator.store import Condition

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.emulator import Emulator

OBJECT = "test_helpers.test_clock"
# Stripe deletes a test clock 30 days after it was created.
LIFETIME = 30 * 86400
CREATE = Obj(
    fields={"frozen_time": Int(), "name": Str(max_length=300)},
    required=("frozen_time",),
)
ADVANCE = Obj(fields={"frozen_time": Int()}, required=("frozen_time",))


def _test_mode_only(ctx: Ctx) -> None:
    if ctx.livemode:
        raise invalid("Test clocks are only available in test mode.")


def build(ctx: Ctx, params: JsonObject, object_id: str) -> JsonObject:
    """Return a new, ready test clock."""
    _test_mode_only(ctx)
    clock = base_fields(ctx, TEST_CLOCK, object_id)
    clock.update(
        {
            "deletes_after": clock["created"] + LIFETIME,
            "frozen_time": params["frozen_time"],
            "name": params.get("name"),
            "status": "ready",
            "status_details": {},
        }
    )
    return clock


def _on_delete(ctx: Ctx, clock: JsonObject) -> None:
    """Delete the clock's customers and subscriptions, and its scheduled work."""
    for type_ in ("subscription", "customer"):
        column = "$.test_clock"
        page = ctx.store.list_page(
            ctx.scope, type_, limit=100_000, conditions=[Condition(column, (clock["id"],))]
        )
        for row in page.rows:
            ctx.store.update(ctx.scope, type_, row.load(), deleted=True)
    ctx.emulator.engine.schedule.drop_clock(clock["id"])


TEST_CLOCK = Resource(
    object=OBJECT,
    path="/v1/test_helpers/test_clocks",
    id_prefix="clock",
    id_length=24,
    noun="test_clock",
    create_params=CREATE,
    build=build,
    deletable=True,
    on_delete=_on_delete,
)


def follow_test_clock(ctx: Ctx, clock_id: str) -> None:
    """Make `ctx` act at a test clock's frozen time (its customers' objects live there)."""
    row = ctx.store.get(ctx.scope, OBJECT, clock_id)
    if row is None or row.deleted:
        raise missing_reference("test_clock", clock_id, "test_clock")
    ctx.frozen_time = int(row.load()["frozen_time"])


def advance(ctx: Ctx) -> JsonObject:
    """`POST /v1/test_helpers/test_clocks/{id}/advance`: run what falls due up to `frozen_time`."""
    params = ctx.coerce(ADVANCE)
    _test_mode_only(ctx)
    clock = load(ctx, TEST_CLOCK, ctx.path_params["id"])
    target = params["frozen_time"]
    if target <= clock["frozen_time"]:
        raise invalid(
            "The frozen_time must be later than the test clock's current frozen_time.",
            param="frozen_time",
        )
    clock["status"] = "advancing"
    clock["status_details"] = {"advancing": {"target_frozen_time": target}}
    save(ctx, TEST_CLOCK, clock, new=False)
    answer = present(ctx, TEST_CLOCK, events.snapshot(clock), ctx.expand_paths())
    events.emit(ctx, f"{OBJECT}.advancing", answer)
    ctx.emulator.engine.advance_test_clock(clock["id"], clock["frozen_time"], target)
    clock.update({"frozen_time": target, "status": "ready", "status_details": {}})
    save(ctx, TEST_CLOCK, clock, new=False)
    events.emit(ctx, f"{OBJECT}.ready", present(ctx, TEST_CLOCK, events.snapshot(clock), []))
    return answer


def register(emulator: Emulator) -> None:
    """Add test clocks and their advance action."""
    emulator.add_resource(TEST_CLOCK)
    emulator.router.add("POST", "/v1/test_helpers/test_clocks/{id}/advance", advance)
