"""`GET /healthz` over HTTP, the app served by uvicorn."""

from __future__ import annotations

from typing import Any

import httpx

from revlens.db.session import Database
from revlens.tasks.queue import make_queue
from revlens.web.app import create_app
from tests.live_server import live_server


def test_healthy_when_database_and_queue_answer(make_settings: Any, database: Database) -> None:
    settings = make_settings()
    app = create_app(settings, database=database)
    with live_server(app) as url:
        response = httpx.get(f"{url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "queue": "ok"}


def test_unhealthy_queue_is_503_with_the_reason(make_settings: Any, database: Database) -> None:
    settings = make_settings(REVLENS_QUEUE_URL="redis://127.0.0.1:1/0")
    app = create_app(settings, database=database, queue=make_queue(settings, database=database))
    with live_server(app) as url:
        response = httpx.get(f"{url}/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == "ok"
    assert body["queue"].startswith("error: REVLENS_QUEUE_URL: cannot reach the queue")


def test_unhealthy_database_is_503(make_settings: Any) -> None:
    settings = make_settings()
    broken = Database.from_url("postgresql+psycopg://nobody@127.0.0.1:1/none")
    with live_server(create_app(settings, database=broken)) as url:
        response = httpx.get(f"{url}/healthz", timeout=30)
    assert response.status_code == 503
    assert response.json()["database"].startswith("error: REVLENS_DATABASE_URL: cannot connect")
    assert response.json()["queue"] == "ok"
