"""The ledger of an (account, preset), rebuilt from the stored rows and kept up to date.

Series and cohorts need every customer's contribution. A `MetricsCache` (one per web process)
keeps each ledger with the version of the rows it holds and, when the state moved on, applies
only the rows written since; results computed from one version are remembered with it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from revlens.analytics.ledger import Ledger
from revlens.analytics.presets import metric_settings
from revlens.metrics.codec import decode
from revlens.metrics.compute import gc_paused
from revlens.metrics.models import MetricCustomer, MetricState

T = TypeVar("T")


@dataclass
class _Entry:
    version: int
    ledger: Ledger
    results: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict)


class MetricsCache:
    """Per (account, preset): the ledger of the stored rows and the results computed from it."""

    def __init__(self, *, results: int = 64) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}
        self._results = results

    @contextmanager
    def _entry(self, session: Session, state: MetricState) -> Iterator[_Entry]:
        key = (state.account_id, state.preset)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version < state.rebuilt_version:
                with gc_paused():
                    entry = _Entry(state.version, load_ledger(session, state))
                self._entries[key] = entry
            elif entry.version < state.version:
                _apply_since(session, state, entry.ledger, entry.version)
                entry.version = state.version
                entry.results.clear()
            yield entry

    def ledger(self, session: Session, state: MetricState, use: Callable[[Ledger], T]) -> T:
        """Return `use(ledger)` on the up-to-date ledger (the ledger is not shared outside)."""
        with self._entry(session, state) as entry:
            return use(entry.ledger)

    def memo(
        self, session: Session, state: MetricState, key: tuple[Any, ...], use: Callable[[Ledger], T]
    ) -> T:
        """Return `use(ledger)`, remembered for this version of the rows under `key`."""
        with self._entry(session, state) as entry:
            if key in entry.results:
                entry.results.move_to_end(key)
                found: T = entry.results[key]
                return found
            value = use(entry.ledger)
            entry.results[key] = value
            if len(entry.results) > self._results:
                entry.results.popitem(last=False)
            return value


def load_ledger(session: Session, state: MetricState) -> Ledger:
    """Return a ledger of every stored contribution of the state's account and preset."""
    ledger = Ledger(metric_settings(state.preset))
    _apply_since(session, state, ledger, None)
    return ledger


def _apply_since(session: Session, state: MetricState, ledger: Ledger, since: int | None) -> None:
    query = select(MetricCustomer.customer_id, MetricCustomer.data).where(
        MetricCustomer.account_id == state.account_id, MetricCustomer.preset == state.preset
    )
    if since is not None:
        query = query.where(MetricCustomer.version > since)
    for customer, data in session.execute(query):
        contribution = decode(customer, data)
        if contribution.daily or contribution.trials:
            ledger.put(contribution)
        else:
            ledger.remove(customer)
