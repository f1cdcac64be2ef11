"""The per-customer work of a full recompute, in worker processes when the account is large.

Workers get each customer's mirror rows as unparsed JSON text and the account's catalog, and
return the rows to write; the caller's session does every read and write, so its unit of work
stays whole. Worker processes are spawned (never forked): the caller may be one of several
threads of a queue worker.
"""

from __future__ import annotations

import gc
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import orjson

from revlens.analytics.ledger import CustomerContribution, contribution
from revlens.analytics.model import CustomerHistory
from revlens.analytics.payloads import Catalog
from revlens.analytics.presets import metric_settings
from revlens.metrics.codec import encode, encode_changes
from revlens.metrics.inputs import Bundle, bundle_histories

# Below this many customers the processes cost more than they save.
PARALLEL_MIN_CUSTOMERS = 4_000
CHUNK_CUSTOMERS = 500

MovementRow = tuple[str, str, int, str, int, int, int, str]


def _json(value: Any) -> str:
    # As the engine's JSON columns write it (revlens.db.engine): the rows go in as JSON text.
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


@dataclass(slots=True)
class Rows:
    """One preset's rows to write: (customer, contribution as JSON) and the movements."""

    customers: list[tuple[str, str]] = field(default_factory=list)
    movements: list[MovementRow] = field(default_factory=list)

    def extend(self, other: Rows) -> None:
        """Append another chunk's rows."""
        self.customers.extend(other.customers)
        self.movements.extend(other.movements)


def rows_of(found: Sequence[tuple[str, CustomerContribution]]) -> Rows:
    """Return the rows of some customers' contributions."""
    rows = Rows()
    for customer, value in found:
        rows.customers.append((customer, _json(encode(value))))
        rows.movements.extend(
            (
                customer,
                m.currency,
                m.day,
                m.kind.value,
                m.amount,
                m.before,
                m.after,
                _json(encode_changes(m.changes)),
            )
            for m in value.movements
        )
    return rows


def contributions(
    histories: Sequence[CustomerHistory], preset: str
) -> list[tuple[str, CustomerContribution]]:
    """Return each customer's contribution under a preset."""
    settings = metric_settings(preset)
    return [(history.id, contribution(history, settings)) for history in histories]


def compute_chunk(
    known: Catalog, chunk: Sequence[Bundle], presets: Sequence[str]
) -> dict[str, Rows]:
    """Return the rows of the chunk's customers for each preset."""
    histories = bundle_histories(known, chunk)
    return {preset: rows_of(contributions(histories, preset)) for preset in presets}


class _Collector:
    """Counts the pauses of the cyclic garbage collector across threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pauses = 0
        self.was_enabled = False


_collector = _Collector()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (a recompute makes millions of acyclic objects).

    Collections triggered by allocation alone take a third of a recompute's CPU otherwise.
    Nested and concurrent pauses are counted: the last one out restores the collector.
    """
    with _collector.lock:
        if _collector.pauses == 0:
            _collector.was_enabled = gc.isenabled()
            gc.disable()
        _collector.pauses += 1
    try:
        yield
    finally:
        with _collector.lock:
            _collector.pauses -= 1
            if _collector.pauses == 0 and _collector.was_enabled:
                gc.enable()


_worker: dict[str, Catalog] = {}  # a worker process's catalog


def _start_worker(prices: Any, coupons: Any, discounts: Any) -> None:
    gc.disable()  # the process lives for one recompute
    _worker["catalog"] = Catalog(prices=prices, coupons=coupons, discounts=discounts)


def _run_chunk(chunk: Sequence[Bundle], presets: Sequence[str]) -> dict[str, Rows]:
    return compute_chunk(_worker["catalog"], chunk, presets)


def default_workers(customers: int) -> int:
    """Return how many processes suit an account of this size (0: compute in this process)."""
    if customers < PARALLEL_MIN_CUSTOMERS:
        return 0
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(cores or 1, 8) if (cores or 1) > 1 else 0


def _ready() -> None:
    """Nothing: submitted once per worker so that each one starts (and imports) right away."""


class Computation:
    """Computes chunks of customers, in worker processes started before the rows are read."""

    def __init__(self, known: Catalog, presets: Sequence[str], *, workers: int) -> None:
        self.known = known
        self.presets = tuple(presets)
        self.pool: ProcessPoolExecutor | None = None
        if workers <= 0:
            return
        # A fresh catalog: the parsed-object memo is keyed by object identity in this process.
        shared = (dict(known.prices), dict(known.coupons), dict(known.discounts))
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context("spawn"),
            initializer=_start_worker,
            initargs=shared,
        )
        # Spawning and importing take a second or more per process: it overlaps the reading.
        for _ in range(workers):
            self.pool.submit(_ready)

    def run(
        self, customers: Sequence[Bundle], *, chunk_size: int | None = None
    ) -> Iterator[dict[str, Rows]]:
        """Yield the rows of each chunk of customers, in order, for each preset.

        With worker processes, every chunk is handed out before this returns: the caller can
        do other work while they compute.
        """
        size = chunk_size or CHUNK_CUSTOMERS
        chunks = [customers[n : n + size] for n in range(0, len(customers), size)]
        if self.pool is None:
            return (compute_chunk(self.known, chunk, self.presets) for chunk in chunks)
        return _results([self.pool.submit(_run_chunk, chunk, self.presets) for chunk in chunks])

    def close(self) -> None:
        """Stop the worker processes (chunks not yet started are cancelled)."""
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


@contextmanager
def computation(known: Catalog, presets: Sequence[str], *, workers: int) -> Iterator[Computation]:
    """Start the worker processes (if any) for one recompute, and stop them at the end."""
    done = Computation(known, presets, workers=workers)
    try:
        yield done
    finally:
        done.close()


def _results(futures: Sequence[Future[dict[str, Rows]]]) -> Iterator[dict[str, Rows]]:
    for future in futures:
        yield future.result()
