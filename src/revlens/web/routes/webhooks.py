"""`POST /webhooks/stripe`: verify, store raw, queue, answer 2xx; applying happens in a job."""

from __future__ import annotations

import logging

from fastapi import APIRouter, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from revlens.config import Settings
from revlens.db.session import Database
from revlens.stripe_api.webhooks import NO_MATCH, NO_SECRET, WebhookRejected, verify_webhook
from revlens.tasks.jobs import apply_events_job
from revlens.tasks.queue import Queue
from revlens.webhooks.intake import WebhookIntake
from revlens.webhooks.service import WEBHOOK_PATH, SigningSecrets

router = APIRouter()
log = logging.getLogger(__name__)

MAX_BODY = 512 * 1024  # Stripe events are far smaller; anything larger is not from Stripe
_RECEIVED = b'{"received":true,"duplicate":false}'
_DUPLICATE = b'{"received":true,"duplicate":true}'


class _Ingest:
    """The web process's cached signing secrets and batching event writer."""

    def __init__(self, settings: Settings, database: Database, queue: Queue) -> None:
        self.secrets = SigningSecrets(database, settings)

        def queue_events(account_id: str, event_ids: list[str]) -> None:
            queue.enqueue(apply_events_job, account_id=account_id, event_ids=event_ids)

        self.intake = WebhookIntake(database, queue_events)


def _ingest(app: FastAPI, settings: Settings, database: Database, queue: Queue) -> _Ingest:
    # Built on the first delivery (no thread for apps that never receive one); the event loop
    # runs one request at a time up to here, so it is built once.
    ingest: _Ingest | None = getattr(app.state, "webhook_ingest", None)
    if ingest is None:
        ingest = app.state.webhook_ingest = _Ingest(settings, database, queue)
    return ingest


async def stripe_webhook(request: Request) -> Response:
    """Accept a Connect or account event signed with one of the configured secrets."""
    # A plain Starlette route with the app's resources read from its state: FastAPI's
    # dependency solving (the typed dependencies run in the thread pool, three thread hops)
    # cost more than everything else a delivery needs (bench/webhook_ingest.py).
    state = request.app.state
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    ingest = _ingest(request.app, state.settings, state.database, state.queue)
    secrets = ingest.secrets
    if secrets.stale:
        await run_in_threadpool(secrets.reload)
    signature = request.headers.get("stripe-signature")
    try:
        try:
            event = verify_webhook(body, signature, secrets.current)
        except WebhookRejected as rejected:
            # A secret registered since the last read (`revlens webhooks setup`): read again.
            if str(rejected) not in (NO_MATCH, NO_SECRET) or not await run_in_threadpool(
                secrets.reload
            ):
                raise
            event = verify_webhook(body, signature, secrets.current)
    except WebhookRejected as rejected:
        if "JSON" in str(rejected) or "not a Stripe event" in str(rejected):
            log.warning("signed webhook with a bad payload: %s", rejected)
        return JSONResponse({"error": str(rejected)}, status_code=400)
    try:
        received = await ingest.intake.submit(event)
    except RuntimeError:
        # Not stored: Stripe delivers it again later.
        return JSONResponse({"error": "could not store the event"}, status_code=503)
    duplicate = not received.new
    return Response(_DUPLICATE if duplicate else _RECEIVED, media_type="application/json")


router.add_route(WEBHOOK_PATH, stripe_webhook, methods=["POST"], include_in_schema=False)
