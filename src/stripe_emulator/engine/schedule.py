"""The schedule of due work, derived from the objects as they are written.

Every write of a subscription, subscription item or invoice passes through `observe`, which
upserts or removes that object's entries in the `schedule` table (same database, same
transaction, so a rolled-back change takes its entries with it). An entry fires once per due
instant: running it marks it done, and only a write that moves the instant arms it again.

| kind | object | due |
|---|---|---|
| `renew` | subscription | the items' `current_period_end` (also ends trials, honours cancels) |
| `cancel_at` | subscription | `cancel_at` |
| `expire` | subscription | `created` + 23 h while `incomplete` |
| `resume_collection` | subscription | `pause_collection.resumes_at` |
| `trial_will_end` | subscription | `trial_end` - 3 days while `trialing` |
| `retry` | invoice | `next_payment_attempt` while `open` |

Entries carry the test clock the object follows (`""` for the emulator's own clock).

Most writes leave an object's entries as they were (an invoice paid, a subscription saved with
nothing due): a mirror of the table's (due, clock) per entry skips those statements. A rollback
empties the mirror, and an entry the mirror does not know is written as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stripe_emulator.billing.trials import NOTICE
from stripe_emulator.store import Scope

if TYPE_CHECKING:
    from stripe_emulator.store import Store

JsonObject = dict[str, Any]
EXPIRY = 23 * 3600
ENDED = ("canceled", "incomplete_expired")
SUBSCRIPTION_KINDS = ("renew", "cancel_at", "expire", "resume_collection", "trial_will_end")
WATCHED = frozenset({"subscription", "subscription_item", "invoice"})
MIRROR_SIZE = 200_000
EntryKey = tuple[str, bool, str, str]  # account, livemode, kind, id

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule (
    account TEXT NOT NULL,
    livemode INTEGER NOT NULL,
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    due INTEGER NOT NULL,
    clock TEXT NOT NULL,
    done INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account, livemode, kind, id)
);
CREATE INDEX IF NOT EXISTS schedule_by_due ON schedule (clock, done, due);
"""
_UPSERT = (
    "INSERT INTO schedule (account, livemode, kind, id, due, clock) VALUES (?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (account, livemode, kind, id) DO UPDATE SET"
    " done = CASE WHEN due = excluded.due THEN done ELSE 0 END,"
    " due = excluded.due, clock = excluded.clock"
)


@dataclass(frozen=True)
class Entry:
    """One piece of due work."""

    scope: Scope
    kind: str
    id: str
    due: int
    clock: str


class Schedule:
    """Keeps the `schedule` table in step with the store and answers what is due."""

    def __init__(self, store: Store) -> None:
        self._store = store
        fresh = not store.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='schedule'"
        )
        for statement in _SCHEMA.strip().split(";\n"):
            store.execute(statement)
        # A subscription's test clock never changes; item writes look it up here.
        self._clocks: dict[str, str] = {}
        # What the table holds per entry: (due, clock), or None when it holds no such entry.
        self._mirror: dict[EntryKey, tuple[int, str] | None] = {}
        store.write_listeners.append(self.observe)
        store.rollback_listeners.append(self._mirror.clear)
        if fresh:
            self.rebuild()

    def rebuild(self) -> None:
        """Derive every entry again from the stored objects (a state file from before)."""
        import orjson

        with self._store.transaction():
            rows = self._store.execute(
                "SELECT account, livemode, type, data, deleted FROM objects WHERE type IN"
                " ('subscription', 'subscription_item', 'invoice') ORDER BY seq"
            )
            for account, livemode, type_, data, deleted in rows:
                self.observe(Scope(account, bool(livemode)), type_, orjson.loads(data), deleted)

    # ---- deriving entries ------------------------------------------------------------------

    def observe(self, scope: Scope, type_: str, obj: JsonObject, deleted: bool) -> None:
        """Update the entries of an object that was just written."""
        if type_ not in WATCHED:
            return
        if type_ == "subscription":
            self._subscription(scope, obj, deleted)
        elif type_ == "subscription_item":
            if not deleted:
                clock = self._clock_of(scope, obj["subscription"])
                if clock is not None:
                    self._put(scope, "renew", obj["subscription"], obj["current_period_end"], clock)
        else:
            due = obj.get("next_payment_attempt")
            if obj.get("status") == "open" and due is not None and not deleted:
                self._put(scope, "retry", obj["id"], due, obj.get("test_clock") or "")
            else:
                self._drop(scope, "retry", obj["id"])

    def _subscription(self, scope: Scope, sub: JsonObject, deleted: bool) -> None:
        sub_id = sub["id"]
        clock = sub.get("test_clock") or ""
        self._clocks[sub_id] = clock
        status = sub["status"]
        if deleted or status in ENDED:
            for kind in SUBSCRIPTION_KINDS:
                self._drop(scope, kind, sub_id)
            return
        wanted: dict[str, int | None] = {
            "cancel_at": sub.get("cancel_at"),
            "expire": sub["created"] + EXPIRY if status == "incomplete" else None,
            "resume_collection": (sub.get("pause_collection") or {}).get("resumes_at"),
            "trial_will_end": sub["trial_end"] - NOTICE
            if status == "trialing" and sub.get("trial_end")
            else None,
        }
        for kind, due in wanted.items():
            if due is None:
                self._drop(scope, kind, sub_id)
            else:
                self._put(scope, kind, sub_id, due, clock)

    def _clock_of(self, scope: Scope, sub_id: str) -> str | None:
        clock = self._clocks.get(sub_id)
        if clock is not None:
            return clock
        row = self._store.get(scope, "subscription", sub_id)
        if row is None:
            return None
        clock = str(row.load().get("test_clock") or "")
        self._clocks[sub_id] = clock
        return clock

    def _put(self, scope: Scope, kind: str, object_id: str, due: int, clock: str) -> None:
        key = (scope.account, scope.livemode, kind, object_id)
        if self._mirror.get(key) == (due, clock):
            return  # the upsert would change nothing: same instant, so `done` stays too
        self._store.execute(_UPSERT, (*key, due, clock))
        self._remember(key, (due, clock))

    def _drop(self, scope: Scope, kind: str, object_id: str) -> None:
        key = (scope.account, scope.livemode, kind, object_id)
        if key in self._mirror and self._mirror[key] is None:
            return
        self._store.execute(
            "DELETE FROM schedule WHERE account=? AND livemode=? AND kind=? AND id=?", key
        )
        self._remember(key, None)

    def _remember(self, key: EntryKey, value: tuple[int, str] | None) -> None:
        if len(self._mirror) >= MIRROR_SIZE:
            self._mirror.clear()
        self._mirror[key] = value

    # ---- reading ---------------------------------------------------------------------------

    def next_due(self, clock: str = "") -> int | None:
        """Return the earliest instant something is due on a clock."""
        rows = self._store.execute(
            "SELECT min(due) FROM schedule WHERE clock=? AND done=0", (clock,)
        )
        return None if rows[0][0] is None else int(rows[0][0])

    def first_due(self, until: int, clock: str = "") -> Entry | None:
        """Return the earliest entry due at or before `until` (ties in a fixed order)."""
        rows = self._store.execute(
            "SELECT account, livemode, kind, id, due FROM schedule"
            " WHERE clock=? AND done=0 AND due<=?"
            " ORDER BY due, account, livemode, kind, id LIMIT 1",
            (clock, until),
        )
        if not rows:
            return None
        account, livemode, kind, object_id, due = rows[0]
        return Entry(Scope(account, bool(livemode)), kind, object_id, int(due), clock)

    def mark_done(self, entry: Entry) -> None:
        """Record that an entry ran (a write since then that moved it re-armed it)."""
        self._store.execute(
            "UPDATE schedule SET done=1 WHERE account=? AND livemode=? AND kind=? AND id=?"
            " AND due=?",
            (entry.scope.account, entry.scope.livemode, entry.kind, entry.id, entry.due),
        )

    def drop_clock(self, clock: str) -> None:
        """Forget every entry of a deleted test clock."""
        self._store.execute("DELETE FROM schedule WHERE clock=?", (clock,))
        self._mirror.clear()
