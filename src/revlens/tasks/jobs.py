"""The jobs revlens runs in the background; each opens its own unit of work."""

from __future__ import annotations

from revlens.system.service import record_heartbeat
from revlens.tasks.context import JobContext
from revlens.tasks.registry import job


@job(name="heartbeat")
def heartbeat(context: JobContext, *, source: str) -> int:
    """Write a heartbeat row and return its id, proving a worker ran the job."""
    with context.database.unit_of_work() as session:
        return record_heartbeat(session, source=source).id
