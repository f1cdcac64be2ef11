"""`GET /api/v1/accounts/{account}/sync`: the mirror's progress for one account."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from revlens.mirror.sync import account_status
from revlens.web.deps import DatabaseDep, WorkspaceDep

router = APIRouter()


@router.get("/api/v1/accounts/{account}/sync", tags=["sync"])
def sync_status(workspace: WorkspaceDep, database: DatabaseDep) -> dict[str, Any]:
    """Return counts, progress, requests, 429s, retries and cursor age per stream."""
    with database.read() as session:
        status = account_status(session, account_id=workspace.id)
    return asdict(status)
