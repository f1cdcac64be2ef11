"""`GET /healthz`: whether the database and the queue answer."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from revlens.errors import StartupError
from revlens.web.deps import DatabaseDep, QueueDep

router = APIRouter()


@router.get("/healthz", tags=["operations"])
async def healthz(database: DatabaseDep, queue: QueueDep) -> JSONResponse:
    """Answer 200 when the database and the queue both answer, 503 with the reason otherwise."""
    checks: dict[str, str] = {}
    for name, check in (("database", database.check), ("queue", queue.check)):
        try:
            await run_in_threadpool(check)
        except StartupError as exc:
            checks[name] = f"error: {exc}"
        else:
            checks[name] = "ok"
    healthy = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ok" if healthy else "error", **checks}, status_code=200 if healthy else 503
    )
