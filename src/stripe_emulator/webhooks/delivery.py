"""The delivery worker: queue deliveries as events are stored, POST them signed, retry failures.

The event listener runs inside the store transaction that records the event, so it only counts
the receiving endpoints, stores that count, and queues work with the event's JSON exactly as
stored. Sending happens on a dedicated thread running an asyncio loop: one lane per endpoint
sends its first attempts in creation order, while a slow or failing endpoint only ever holds up
its own lane. Before a batch of new deliveries is sent, their events are looked up in the store:
that waits for the recording transaction to end and drops events whose change was rolled back.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from stripe_emulator.events import event_slots
from stripe_emulator.store import Scope
from stripe_emulator.webhooks.schedule import retry_delay
from stripe_emulator.webhooks.settings import DeliveryKnobs
from stripe_emulator.webhooks.signing import signature_header
from stripe_emulator.webhooks.targets import EndpointDirectory, EndpointKey, active_secrets
from stripe_emulator.webhooks.transport import DeliveryError, HttpPoster

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from stripe_emulator.emulator import Emulator

log = logging.getLogger("stripe_emulator.webhooks")

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
CONTENT_TYPE = "application/json; charset=utf-8"
LOG_SIZE = 2000
STOP_TIMEOUT = 5.0
FLUSH_DELAY = 0.005


@dataclass(eq=False)
class Delivery:
    """One event owed to one endpoint, across all its attempts."""

    event_scope: Scope
    event_id: str
    endpoint: EndpointKey
    # The event's JSON as stored when it was recorded (shared by its deliveries).
    body: bytes
    queued_at: float
    attempts: int = 0
    succeeded: bool = False
    timer: asyncio.TimerHandle | None = None

    @property
    def livemode(self) -> bool:
        """Return the mode of the event (test-mode deliveries carry a `v0`)."""
        return self.event_scope.livemode


@dataclass(eq=False)
class _Lane:
    """First attempts waiting for one endpoint, sent one at a time."""

    queue: deque[Delivery] = field(default_factory=deque)
    running: bool = False
    grown: asyncio.Event = field(default_factory=asyncio.Event)


class WebhookDelivery:
    """Signed, retried delivery of stored events to webhook endpoints."""

    def __init__(self, emulator: Emulator) -> None:
        self._emulator = emulator
        self.knobs = DeliveryKnobs()
        self.directory = EndpointDirectory(emulator)
        self.attempt_log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self.stats: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._inbox: deque[Delivery] = deque()
        self._wake_pending = False
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Only touched on the delivery loop.
        self._lanes: dict[EndpointKey, _Lane] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._retries: set[Delivery] = set()
        self._successes: list[Delivery] = []
        self._poster = HttpPoster()

    @property
    def running(self) -> bool:
        """Tell whether the delivery thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    # ---- producer side (request threads, inside the event's transaction) --------------------

    def on_event(self, scope: Scope, event: dict[str, Any]) -> None:
        """Count the receiving endpoints into `pending_webhooks` and queue one delivery each."""
        targets = self.directory.targets(scope, event)
        if not targets:
            return
        event["pending_webhooks"] = len(targets)
        self._emulator.store.update(scope, "event", event, event_slots(event))
        body = orjson.dumps(event)
        queued_at = time.monotonic()
        deliveries = [Delivery(scope, event["id"], key, body, queued_at) for key in targets]
        with self._lock:
            if self._closed:
                return
            self._inbox.extend(deliveries)
            self.stats["queued"] += len(deliveries)
            if self._wake_pending:
                return
            self._wake_pending = True
            loop = self._loop or self._start()
        loop.call_soon_threadsafe(self._drain)

    def _start(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name="stripe-emulator-webhooks", daemon=True
        )
        self._thread.start()
        return loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    def close(self) -> None:
        """Stop the worker: pending retries are abandoned; waits a few seconds at most."""
        with self._lock:
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        stopping = asyncio.run_coroutine_threadsafe(self._shutdown(), loop)
        try:
            stopping.result(timeout=STOP_TIMEOUT)
        except Exception:  # a stuck attempt must not keep the emulator from closing
            log.exception("webhook delivery did not stop cleanly")
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=STOP_TIMEOUT)

    async def _shutdown(self) -> None:
        for delivery in self._retries:
            if delivery.timer is not None:
                delivery.timer.cancel()
        self._retries.clear()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._flush_successes()
        self._poster.close()

    # ---- the delivery loop ------------------------------------------------------------------

    def _drain(self) -> None:
        with self._lock:
            arrived = list(self._inbox)
            self._inbox.clear()
            self._wake_pending = False
        committed = self._committed(arrived)
        for delivery in arrived:
            if (delivery.event_scope, delivery.event_id) not in committed:
                # The change that recorded the event was rolled back: there is nothing to send.
                self._record(delivery, "event_missing")
                continue
            lane = self._lanes.get(delivery.endpoint)
            if lane is None:
                lane = self._lanes[delivery.endpoint] = _Lane()
            lane.queue.append(delivery)
            lane.grown.set()
            if not lane.running:
                lane.running = True
                self._spawn(self._run_lane(delivery.endpoint, lane))

    def _committed(self, deliveries: list[Delivery]) -> set[tuple[Scope, str]]:
        """Return which of the deliveries' events are stored (waits for their transactions)."""
        wanted: dict[Scope, set[str]] = {}
        for delivery in deliveries:
            wanted.setdefault(delivery.event_scope, set()).add(delivery.event_id)
        found: set[tuple[Scope, str]] = set()
        store = self._emulator.store
        with store.lock:
            for scope, ids in wanted.items():
                listed = sorted(ids)
                for start in range(0, len(listed), 500):
                    chunk = listed[start : start + 500]
                    # Only `?` marks are joined in; every value is a bound parameter.
                    sql = (
                        "SELECT id FROM objects WHERE account=? AND livemode=? AND type='event'"  # noqa: S608
                        f" AND id IN ({','.join('?' * len(chunk))})"
                    )
                    rows = store.execute(sql, (scope.account, scope.livemode, *chunk))
                    found.update((scope, row[0]) for row in rows)
        return found

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None
        task = self._loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_lane(self, key: EndpointKey, lane: _Lane) -> None:
        try:
            while lane.queue:
                for delivery in await self._next_batch(lane):
                    await self._attempt(delivery)
        finally:
            lane.running = False
            if not lane.queue:
                self._lanes.pop(key, None)

    async def _next_batch(self, lane: _Lane) -> list[Delivery]:
        """Return the next first attempt, or a shuffled handful when shuffling is on."""
        settings = self.knobs.settings
        window = settings.shuffle_window
        if window <= 1:
            return [lane.queue.popleft()]
        deadline = time.monotonic() + settings.shuffle_wait_ms / 1000.0
        while len(lane.queue) < window:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            lane.grown.clear()
            try:
                async with asyncio.timeout(remaining):
                    await lane.grown.wait()
            except TimeoutError:
                break
        taken = [lane.queue.popleft() for _ in range(min(window, len(lane.queue)))]
        shuffled: list[Delivery] = self.knobs.shuffled(taken)
        return shuffled

    async def _attempt(self, delivery: Delivery) -> None:
        try:
            await self._try_once(delivery)
        except asyncio.CancelledError:
            raise
        except Exception:  # a bug in one attempt must not stop the lane
            log.exception("webhook delivery attempt failed unexpectedly")

    async def _try_once(self, delivery: Delivery) -> None:
        knobs = self.knobs
        delivery.attempts += 1
        delay = knobs.delay_seconds()
        if delay:
            await asyncio.sleep(delay)
        fault = "delayed" if delay else None
        endpoint = self.directory.get(delivery.endpoint)
        if endpoint is None or endpoint.get("status") != "enabled":
            # Stripe stops retrying an event for a destination disabled or deleted meanwhile.
            gone = "endpoint_deleted" if endpoint is None else "endpoint_disabled"
            self._record(delivery, gone, fault=fault)
            return
        if delivery.attempts == 1 and knobs.chance(knobs.settings.drop_first_rate):
            self._record(delivery, "dropped", fault="dropped")
            self._retry_later(delivery)
            return
        copies = 2 if knobs.chance(knobs.settings.duplicate_rate) else 1
        delivered = False
        for copy in range(copies):
            status, error = await self._send(endpoint, delivery.body, delivery.livemode)
            ok = status is not None and 200 <= status < 300
            delivered = delivered or ok
            shown = "duplicate" if copy else fault
            self._record(delivery, "delivered" if ok else "failed", status, error, shown)
        if delivered:
            self._succeed(delivery)
        else:
            self._retry_later(delivery)

    async def _send(
        self, endpoint: dict[str, Any], body: bytes, livemode: bool
    ) -> tuple[int | None, str | None]:
        """POST the body signed afresh; return the status or why there is none."""
        # `t` is real time, not the emulated clock: receivers check it against their own clock
        # with a 300 s tolerance. Secret expiry, set through the emulator, uses emulated time.
        timestamp = int(time.time())
        secrets = active_secrets(endpoint, self._emulator.clock.now())
        headers = [
            ("User-Agent", USER_AGENT),
            ("Content-Type", CONTENT_TYPE),
            ("Stripe-Signature", signature_header(body, timestamp, secrets, livemode=livemode)),
        ]
        timeout = self.knobs.settings.timeout_seconds
        try:
            return await self._poster.post(endpoint["url"], headers, body, timeout), None
        except TimeoutError:
            return None, "timeout"
        except ConnectionRefusedError:
            return None, "connection_refused"
        except (OSError, DeliveryError, asyncio.IncompleteReadError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}"
        except asyncio.LimitOverrunError:
            return None, "response_too_large"

    def _succeed(self, delivery: Delivery) -> None:
        if delivery.succeeded:
            return
        delivery.succeeded = True
        self._successes.append(delivery)
        if len(self._successes) == 1 and self._loop is not None:
            # Batch the `pending_webhooks` updates of everything that succeeds in the next few
            # milliseconds: one store transaction each, instead of one per delivery.
            self._loop.call_later(FLUSH_DELAY, self._flush_successes)

    def _flush_successes(self) -> None:
        batch, self._successes = self._successes, []
        if not batch:
            return
        counts = Counter((d.event_scope, d.event_id) for d in batch)
        store = self._emulator.store
        try:
            with store.transaction():
                for (scope, event_id), succeeded in counts.items():
                    row = store.get(scope, "event", event_id)
                    if row is None:
                        continue
                    event = row.load()
                    event["pending_webhooks"] = max(0, event["pending_webhooks"] - succeeded)
                    store.update(scope, "event", event, event_slots(event))
        except Exception:
            log.exception("could not record webhook deliveries")

    def _retry_later(self, delivery: Delivery) -> None:
        scale = self.knobs.settings.retry_scale
        delay = retry_delay(delivery.attempts, livemode=delivery.livemode, scale=scale)
        if self.attempt_log:
            # The failed attempt just logged says when (in seconds) the next one comes.
            self.attempt_log[-1]["retry_in"] = delay
        if delay is None:
            self._record(delivery, "exhausted")
            return
        assert self._loop is not None
        self._retries.add(delivery)
        delivery.timer = self._loop.call_later(delay, self._retry_now, delivery)

    def _retry_now(self, delivery: Delivery) -> None:
        self._retries.discard(delivery)
        delivery.timer = None
        self._spawn(self._attempt(delivery))

    def _record(
        self,
        delivery: Delivery,
        outcome: str,
        status: int | None = None,
        error: str | None = None,
        fault: str | None = None,
    ) -> None:
        self.stats[outcome] += 1
        self.attempt_log.append(
            {
                "event": delivery.event_id,
                "endpoint": delivery.endpoint.id,
                "account": delivery.event_scope.account,
                "livemode": delivery.livemode,
                "attempt": delivery.attempts,
                "outcome": outcome,
                "status": status,
                "error": error,
                "fault": fault,
                "retry_in": None,
                "at": time.time(),
            }
        )


def install_delivery(emulator: Emulator) -> WebhookDelivery:
    """Create the worker, subscribe it to new events and add its control endpoints."""
    from stripe_emulator.webhooks.control import install_webhook_control

    delivery = WebhookDelivery(emulator)
    emulator.event_listeners.append(delivery.on_event)
    install_webhook_control(emulator, delivery)
    return delivery
