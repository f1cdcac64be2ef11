"""`POST /webhooks/stripe`: verify, store raw, queue, answer 2xx; applying happens in a job."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from revlens.accounts.service import get_account
from revlens.mirror.ingest import event_account, receive
from revlens.stripe_api.webhooks import WebhookRejected, verify_webhook
from revlens.tasks.jobs import apply_event_job
from revlens.web.deps import DatabaseDep, QueueDep, SettingsDep
from revlens.webhooks.service import signing_secrets

router = APIRouter()
log = logging.getLogger(__name__)

MAX_BODY = 512 * 1024  # Stripe events are far smaller; anything larger is not from Stripe


@router.post("/webhooks/stripe", tags=["stripe"])
async def stripe_webhook(
    request: Request, settings: SettingsDep, database: DatabaseDep, queue: QueueDep
) -> JSONResponse:
    """Accept a Connect or account event signed with one of the configured secrets."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BODY:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    body = await request.body()
    if len(body) > MAX_BODY:
        return JSONResponse({"error": "payload too large"}, status_code=413)
    with database.read() as session:
        secrets = signing_secrets(session, settings)
    try:
        event = verify_webhook(body, request.headers.get("stripe-signature"), secrets)
    except WebhookRejected as rejected:
        if "JSON" in str(rejected) or "not a Stripe event" in str(rejected):
            log.warning("signed webhook with a bad payload: %s", rejected)
        return JSONResponse({"error": str(rejected)}, status_code=400)

    def store() -> tuple[str, bool]:
        with database.unit_of_work() as session:
            account = get_account(session, event_account(event))
            if account is not None and not account.is_connected:
                return "", False  # a disconnected workspace keeps nothing, late events included
            return receive(session, event)

    account_id, new = await run_in_threadpool(store)
    if new:
        await run_in_threadpool(
            queue.enqueue, apply_event_job, account_id=account_id, event_id=str(event["id"])
        )
    return JSONResponse({"received": True, "duplicate": not new})
