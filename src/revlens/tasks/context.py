"""What a running job gets: the settings, the process's database, Stripe reader and queue."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from revlens.config import Settings
from revlens.db.session import Database
from revlens.mirror.budgets import SharedBudgets, budget_database
from revlens.stripe_api.client import StripeClients
from revlens.stripe_api.fetch import Fetcher

if TYPE_CHECKING:
    from revlens.tasks.queue import Queue


@dataclass
class JobContext:
    """Per-process resources for jobs, built on first use in the process that runs them."""

    settings: Settings
    _database: Database | None = None
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _fetcher: Fetcher | None = None
    queue: Queue | None = None

    @property
    def database(self) -> Database:
        """Return the process's Database, building it on first use."""
        with self._lock:
            if self._database is None:
                self._database = Database.from_url(
                    self.settings.database_url, pool_size=self.settings.database_pool_size
                )
            return self._database

    @property
    def fetcher(self) -> Fetcher:
        """Return the process's Stripe reader (one budget per account for all processes)."""
        with self._lock:
            if self._fetcher is None:
                clients = StripeClients(self.settings)
                shared = budget_database(self.database)
                budgets = SharedBudgets(
                    shared,
                    livemode=clients.livemode,
                    global_rate=self.settings.stripe_rate_limit,
                )
                self._fetcher = Fetcher(clients, budgets)
            return self._fetcher

    @property
    def clients(self) -> StripeClients:
        """Return the process's Stripe clients."""
        return self.fetcher.clients
