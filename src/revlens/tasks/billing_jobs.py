"""Billing in the event jobs: revlens' own-account events also keep subscription states current."""

from __future__ import annotations

import logging
from typing import Any

from huey import crontab

from revlens.accounts.onboarding import forget_account
from revlens.billing.events import apply_stored_event
from revlens.billing.service import refresh_subscriptions, release_account
from revlens.stripe_api import platform_billing
from revlens.stripe_api.errors import StripeError
from revlens.tasks.context import JobContext
from revlens.tasks.registry import periodic

log = logging.getLogger(__name__)


def apply_billing_events(context: JobContext, *, event_ids: list[str]) -> int:
    """Apply stored platform events to the billing state (re-reading subscriptions); count them.

    Idempotent, so events the mirror had already applied are applied again without harm.
    """

    def refetch(subscription_id: str) -> tuple[dict[str, Any], int]:
        return platform_billing.retrieve_subscription(context.clients, subscription_id)

    applied = 0
    for event_id in event_ids:
        try:
            applied += apply_stored_event(context.database, event_id=event_id, refetch=refetch)
        except StripeError as error:
            # Stripe unreachable: the event's own state (newer-than guarded) is the best known.
            log.warning("billing event %s applied without a re-read: %s", event_id, error)
            applied += apply_stored_event(context.database, event_id=event_id, refetch=None)
    return applied


@periodic(name="refresh_billing", schedule=crontab(minute="41"))
def refresh_billing(context: JobContext) -> None:
    """Re-read revlens' running subscriptions hourly, in case a webhook never arrived."""
    if context.settings.billing.enabled:
        refresh_subscriptions(context.database, context.clients)


def account_gone(context: JobContext, *, account_id: str, reason: str) -> None:
    """Access ended at Stripe (deauthorized, account_invalid): stop charging for the workspace,
    as a disconnect from settings does, then purge it. The purge happens even when revlens' own
    Stripe account cannot be reached; the hourly refresh shows the subscription to the operator."""
    if context.settings.billing.enabled:
        try:
            release_account(context.database, context.clients, account_id=account_id)
        except StripeError as error:
            log.warning("could not end the plan of %s at period end: %s", account_id, error)
    forget_account(context.database, context.clients, account_id=account_id, reason=reason)
