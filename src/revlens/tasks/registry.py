"""Jobs are plain functions declared here; `make_queue` registers them with a huey instance."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from revlens.tasks.context import JobContext

JobFunction = Callable[..., Any]
F = TypeVar("F", bound=JobFunction)


@dataclass(frozen=True)
class JobSpec:
    """A job: its queue name, the function that runs it, its retry policy and schedule."""

    name: str
    function: JobFunction
    retries: int = 0
    retry_delay: int = 0
    # huey runs higher priorities first; an enqueue can still pass its own `priority`.
    priority: int | None = None
    # A huey crontab-style validator: the job also runs by itself when it says so.
    schedule: Callable[[Any], bool] | None = None


_JOBS: dict[str, JobSpec] = {}


def job(
    *, name: str, retries: int = 0, retry_delay: int = 0, priority: int | None = None
) -> Callable[[F], F]:
    """Declare a function `f(context: JobContext, **kwargs)` as a job run by the worker."""

    def declare(function: F) -> F:
        existing = _JOBS.get(name)
        if existing is not None and existing.function is not function:
            raise ValueError(f"two jobs are named {name!r}")
        _JOBS[name] = JobSpec(name, function, retries, retry_delay, priority)
        return function

    return declare


def periodic(*, name: str, schedule: Callable[[Any], bool]) -> Callable[[F], F]:
    """Declare a function `f(context: JobContext)` that the worker runs on a schedule."""

    def declare(function: F) -> F:
        _JOBS[name] = JobSpec(name, function, schedule=schedule)
        return function

    return declare


def declared_jobs() -> list[JobSpec]:
    """Return every declared job, importing the modules that declare them first."""
    from revlens.tasks import jobs  # noqa: F401  (declares the jobs on import)

    return sorted(_JOBS.values(), key=lambda spec: spec.name)


def spec_for(function: JobFunction) -> JobSpec:
    """Return the spec of a declared job function."""
    for spec in declared_jobs():
        if spec.function is function:
            return spec
    raise LookupError(f"{function!r} is not a declared job")


__all__ = ["JobContext", "JobSpec", "declared_jobs", "job", "periodic", "spec_for"]
