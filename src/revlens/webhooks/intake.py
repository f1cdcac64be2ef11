"""Storing verified webhook events in batches: one transaction for all that arrived together.

Each request hands its event to the intake and waits; one writer thread stores everything
waiting in one transaction, then answers every request of the batch. A request is answered
only after its event is committed, so a 2xx never stands for an event that a crash can lose,
while the commit (the cost that serialised ingest) is paid once per batch instead of per event.
After the answers, the new events are handed on (`on_stored`: queue their processing) by another
thread, one call per account for all stored meanwhile; if the process dies before that, the
sweep finds them unprocessed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select

from revlens.accounts.models import AccountStatus, ConnectedAccount
from revlens.db.session import Database
from revlens.mirror.ingest import event_account
from revlens.mirror.store import record_events

log = logging.getLogger(__name__)

MAX_BATCH = 500
# Called with an account and the ids of its events that this batch stored for the first time.
OnStored = Callable[[str, list[str]], object]


@dataclass(frozen=True)
class Received:
    """What became of one delivery: whose event it is, and whether it was stored just now.

    `dropped` events belong to a disconnected workspace: acknowledged and kept nowhere.
    """

    account_id: str
    new: bool
    dropped: bool = False


@dataclass
class _Waiting:
    event: dict[str, Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Received]


_ACCOUNTS = ConnectedAccount.__table__.c
_CONNECTED = AccountStatus.CONNECTED
_DISCONNECTED = select(_ACCOUNTS.id).where(
    _ACCOUNTS.id.in_(bindparam("accounts", expanding=True)),
    _ACCOUNTS.status != bindparam("connected", type_=_ACCOUNTS.status.type),
)


def store_batch(database: Database, events: Sequence[dict[str, Any]]) -> list[Received]:
    """Store events of any accounts in one unit of work; return what became of each, in order."""
    accounts = [event_account(event) for event in events]
    with database.unit_of_work() as session:
        # A disconnected workspace keeps nothing, late events included. A Core query on the
        # session's connection: the ORM's was a third of a batch's CPU (bench/webhook_ingest.py).
        gone = set(
            session.connection().scalars(
                _DISCONNECTED, {"accounts": list(set(accounts)), "connected": _CONNECTED}
            )
        )
        kept = [(a, e) for a, e in zip(accounts, events, strict=True) if a not in gone]
        new = record_events(session, events=kept, source="webhook")
    answers: list[Received] = []
    for account_id, event in zip(accounts, events, strict=True):
        if account_id in gone:
            answers.append(Received(account_id, False, dropped=True))
            continue
        key = (account_id, str(event["id"]))
        answers.append(Received(account_id, key in new))
        new.discard(key)  # the same event twice in one batch: the second is a duplicate
    return answers


class WebhookIntake:
    """The batching writer of one web process; `submit` from the event loop."""

    def __init__(
        self, database: Database, on_stored: OnStored, *, max_batch: int = MAX_BATCH
    ) -> None:
        self._database = database
        self._on_stored = on_stored
        self._max_batch = max_batch
        self._waiting: queue.SimpleQueue[_Waiting] = queue.SimpleQueue()
        # Queueing runs on a thread of its own: huey's SQLite queue syncs every commit to disk,
        # and the next batch's commit must not wait for that.
        self._stored: queue.SimpleQueue[tuple[str, list[str]]] = queue.SimpleQueue()
        for target, name in ((self._run, "webhook-intake"), (self._hand_on, "webhook-queue")):
            threading.Thread(target=target, name=name, daemon=True).start()

    async def submit(self, event: dict[str, Any]) -> Received:
        """Store a verified event (with whatever else is waiting); return once it is committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Received] = loop.create_future()
        self._waiting.put(_Waiting(event, loop, future))
        return await future

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self._store(batch)

    def _store(self, batch: list[_Waiting]) -> None:
        try:
            answers = store_batch(self._database, [w.event for w in batch])
        except Exception:
            if len(batch) == 1:
                log.exception("storing webhook event %s failed", batch[0].event.get("id"))
                _answer_all(batch, None)
                return
            # One bad event must not fail the others: store them one at a time.
            for waiting in batch:
                self._store([waiting])
            return
        _answer_all(batch, answers)
        fresh: dict[str, list[str]] = {}
        for waiting, answer in zip(batch, answers, strict=True):
            if answer.new:
                fresh.setdefault(answer.account_id, []).append(str(waiting.event["id"]))
        for item in fresh.items():
            self._stored.put(item)

    def _hand_on(self) -> None:
        while True:
            # Everything stored meanwhile, one call per account, oldest events first.
            fresh: dict[str, list[str]] = {}
            account_id, event_ids = self._stored.get()
            fresh.setdefault(account_id, []).extend(event_ids)
            while True:
                try:
                    account_id, event_ids = self._stored.get_nowait()
                except queue.Empty:
                    break
                fresh.setdefault(account_id, []).extend(event_ids)
            for account_id, event_ids in fresh.items():
                try:
                    self._on_stored(account_id, event_ids)
                except Exception:
                    # Stored and acknowledged: the sweep queues unprocessed events again.
                    log.exception("queueing %d events of %s failed", len(event_ids), account_id)


def _answer_all(batch: list[_Waiting], answers: list[Received] | None) -> None:
    """Settle every request of a batch: one wake-up per event loop, not one per request."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[_Waiting, Received | None]]] = {}
    for index, waiting in enumerate(batch):
        answer = answers[index] if answers is not None else None
        by_loop.setdefault(waiting.loop, []).append((waiting, answer))
    for loop, settled in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_settle, settled)


def _settle(settled: list[tuple[_Waiting, Received | None]]) -> None:
    for waiting, answer in settled:
        if waiting.future.done():
            continue  # the request went away
        if answer is None:
            waiting.future.set_exception(RuntimeError("the event could not be stored"))
        else:
            waiting.future.set_result(answer)
