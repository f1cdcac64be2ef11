"""What a running job gets: the settings and the process's database."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from revlens.config import Settings
from revlens.db.session import Database


@dataclass
class JobContext:
    """Per-process resources for jobs, built on first use in the process that runs them."""

    settings: Settings
    _database: Database | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def database(self) -> Database:
        """Return the process's Database, building it on first use."""
        with self._lock:
            if self._database is None:
                self._database = Database.from_url(
                    self.settings.database_url, pool_size=self.settings.database_pool_size
                )
            return self._database
