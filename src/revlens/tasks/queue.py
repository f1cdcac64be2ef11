"""The queue factory: huey on SQLite by default, on Redis when REVLENS_QUEUE_URL is redis://."""

from __future__ import annotations

from typing import Any

from huey import Huey, PriorityRedisHuey, SqliteHuey
from huey.api import Result
from huey.exceptions import ConfigurationError

from revlens.config import Settings, sqlite_queue_path
from revlens.db.session import Database
from revlens.errors import StartupError
from revlens.tasks.context import JobContext
from revlens.tasks.registry import JobFunction, JobSpec, declared_jobs, spec_for

QUEUE_NAME = "revlens"
SQLITE_QUEUE_TIMEOUT_S = 30


class Queue:
    """A huey instance with revlens' jobs registered on it."""

    def __init__(self, huey: Huey, context: JobContext) -> None:
        self.huey = huey
        self.context = context
        context.queue = self
        self._tasks: dict[str, Any] = {spec.name: self._register(spec) for spec in declared_jobs()}

    def _register(self, spec: JobSpec) -> Any:
        def run(**kwargs: Any) -> Any:
            return spec.function(self.context, **kwargs)

        run.__name__ = run.__qualname__ = spec.name
        if spec.schedule is not None:
            return self.huey.periodic_task(spec.schedule, name=spec.name)(run)
        return self.huey.task(
            name=spec.name,
            retries=spec.retries,
            retry_delay=spec.retry_delay,
            priority=spec.priority,
        )(run)

    def enqueue(self, function: JobFunction, /, **kwargs: Any) -> Result | Any:
        """Enqueue a declared job; in immediate mode it runs now and its value is returned."""
        return self._tasks[spec_for(function).name](**kwargs)

    def pending(self) -> int:
        """Return how many jobs wait in the queue (reaches the storage: a health check)."""
        return int(self.huey.pending_count())

    def check(self) -> None:
        """Raise StartupError in one line when the queue's storage cannot be reached."""
        try:
            self.pending()
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StartupError(f"REVLENS_QUEUE_URL: cannot reach the queue: {reason}") from None

    def run_worker(self, *, workers: int = 2, processes: bool = False) -> None:
        """Run the consumer in this process until SIGINT or SIGTERM.

        With `processes`, the workers are processes forked from this one (huey's "process"
        workers), not threads: each has a core of its own past the GIL, and the modules this
        process loaded (some 2 CPU-s) are loaded once for all of them.
        """
        if processes:
            # A forked child must not share this process's database connections: it opens its
            # own (huey closes its own storage before forking).
            self.context.database.dispose()
        try:
            consumer = self.huey.create_consumer(
                workers=workers,
                worker_type="process" if processes else "thread",
                periodic=True,
                initial_delay=0.05,
                backoff=1.5,
                max_delay=0.5,
                check_worker_health=True,
            )
        except ConfigurationError as error:  # no fork() on this platform (Windows)
            raise StartupError(f"--processes: {error}") from None
        consumer.run()


def make_queue(
    settings: Settings, *, database: Database | None = None, immediate: bool = False
) -> Queue:
    """Build the queue named by the settings; `immediate` runs jobs inline (tests)."""
    context = JobContext(settings, database)
    url = settings.queue_url
    huey: Huey
    if url.startswith(("redis://", "rediss://")):
        # Jobs carry priorities (backfill pages, events): the plain RedisHuey refuses them.
        huey = PriorityRedisHuey(QUEUE_NAME, url=url, immediate=immediate, utc=True)
    else:
        path = sqlite_queue_path(url)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StartupError(
                f"REVLENS_QUEUE_URL: cannot create {path.parent}: {exc.strerror}"
            ) from None
        huey = SqliteHuey(
            QUEUE_NAME,
            filename=str(path),
            immediate=immediate,
            utc=True,
            timeout=SQLITE_QUEUE_TIMEOUT_S,
        )
    return Queue(huey, context)
