"""Heartbeats: written by a job, read by health checks and tests."""

from __future__ import annotations

import os
import socket

from sqlalchemy import select
from sqlalchemy.orm import Session

from revlens.db.types import utcnow
from revlens.system.models import Heartbeat


def this_process() -> str:
    """Return host:pid of the running process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def record_heartbeat(session: Session, *, source: str) -> Heartbeat:
    """Add a heartbeat row for this process; the caller's unit of work commits it."""
    heartbeat = Heartbeat(source=source[:64], process=this_process()[:128], created_at=utcnow())
    session.add(heartbeat)
    session.flush()
    return heartbeat


def heartbeats(session: Session, *, source: str | None = None) -> list[Heartbeat]:
    """Return heartbeats, newest first, optionally only those of one source."""
    query = select(Heartbeat).order_by(Heartbeat.created_at.desc(), Heartbeat.id.desc())
    if source is not None:
        query = query.where(Heartbeat.source == source)
    return list(session.scalars(query))
