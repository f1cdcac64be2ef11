"""What each kind of due work does, with a system context set to the instant it fell due.

Every job re-reads its object and checks the work is still due: the schedule may be stale
(a subscription canceled since, an invoice paid by hand), and then the job does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from stripe_emulator.billing import collection, lifecycle, trials
from stripe_emulator.billing import subscriptions as billing
from stripe_emulator.billing.invoices import save_invoice

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx

JsonObject = dict[str, Any]
Job = Callable[["Ctx", str, int], None]


def _load(ctx: Ctx, type_: str, object_id: str) -> JsonObject | None:
    row = ctx.store.get(ctx.scope, type_, object_id)
    if row is None or row.deleted:
        return None
    return row.load()


def renew(ctx: Ctx, sub_id: str, due: int) -> None:
    """End the period: renew (ending a trial), or end the subscription as scheduled."""
    subscription = _load(ctx, "subscription", sub_id)
    if subscription is None or subscription["status"] not in billing.LIVE:
        return
    if billing.period_of(ctx, subscription)[1] != due:
        return
    lifecycle.renew(ctx, subscription)


def cancel_at(ctx: Ctx, sub_id: str, due: int) -> None:
    """End a subscription at its `cancel_at` (at a period end, `renew` does it)."""
    subscription = _load(ctx, "subscription", sub_id)
    if subscription is None or subscription["status"] not in billing.LIVE:
        return
    if subscription.get("cancel_at") != due:
        return
    if billing.period_of(ctx, subscription)[1] == due:
        lifecycle.renew(ctx, subscription)
        return
    lifecycle.cancel(ctx, subscription, reason="cancellation_requested")


def expire(ctx: Ctx, sub_id: str, due: int) -> None:
    """Expire a subscription whose first invoice stayed unpaid for 23 hours."""
    subscription = _load(ctx, "subscription", sub_id)
    if subscription is None or subscription["status"] != "incomplete":
        return
    before = billing.shown(ctx, subscription)
    invoice = _load(ctx, "invoice", subscription["latest_invoice"] or "")
    if invoice is not None and invoice["status"] == "open":
        collection.void(ctx, invoice)
    subscription["status"] = "incomplete_expired"
    subscription["canceled_at"] = subscription["ended_at"] = ctx.now()
    billing.save(ctx, subscription, before)
    del due


def resume_collection(ctx: Ctx, sub_id: str, due: int) -> None:
    """Lift `pause_collection` at its `resumes_at`."""
    subscription = _load(ctx, "subscription", sub_id)
    if subscription is None or subscription["status"] not in billing.LIVE:
        return
    pause = subscription.get("pause_collection") or {}
    if pause.get("resumes_at") != due:
        return
    before = billing.shown(ctx, subscription)
    subscription["pause_collection"] = None
    billing.save(ctx, subscription, before)


def trial_will_end(ctx: Ctx, sub_id: str, due: int) -> None:
    """Announce that a trial ends in three days."""
    subscription = _load(ctx, "subscription", sub_id)
    if subscription is None or subscription["status"] != "trialing":
        return
    if (subscription.get("trial_end") or 0) - trials.NOTICE != due:
        return
    trials.announce_end(ctx, subscription)


def retry(ctx: Ctx, invoice_id: str, due: int) -> None:
    """Try an invoice's payment again on the retry schedule."""
    invoice = _load(ctx, "invoice", invoice_id)
    if invoice is None or invoice["status"] != "open" or invoice["next_payment_attempt"] != due:
        return
    subscription = billing.invoice_subscription(ctx, invoice)
    if subscription is not None and subscription["status"] in ("canceled", "incomplete_expired"):
        # An ended subscription's invoices are no longer collected.
        invoice["next_payment_attempt"] = None
        save_invoice(ctx, invoice)
        return
    collection.attempt_payment(ctx, invoice)


JOBS: dict[str, Job] = {
    "renew": renew,
    "cancel_at": cancel_at,
    "expire": expire,
    "resume_collection": resume_collection,
    "trial_will_end": trial_will_end,
    "retry": retry,
}
