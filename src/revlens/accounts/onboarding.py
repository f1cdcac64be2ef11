"""The Connect flow end to end: each step owns its unit of work; Stripe calls sit between them."""

from __future__ import annotations

from revlens.accounts.models import ConnectedAccount, DeletionRecord
from revlens.accounts.oauth_state import consume_state, issue_state
from revlens.accounts.purge import disconnect_and_purge
from revlens.accounts.service import Grant, record_connection
from revlens.config import Settings
from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.stripe_api import oauth
from revlens.stripe_api.client import StripeClients


def begin_connection(
    database: Database,
    clients: StripeClients,
    settings: Settings,
    *,
    browser_id: str,
    email: str | None,
) -> str:
    """Issue a state for this browser and return Stripe's authorize URL."""
    with database.unit_of_work() as session:
        state = issue_state(
            session, browser_id=browser_id, scope=settings.stripe_scope, now=utcnow()
        )
    return oauth.authorize_url(
        clients,
        state=state,
        scope=settings.stripe_scope,
        redirect_uri=settings.oauth_redirect_uri,
        email=email,
    )


def complete_connection(
    database: Database,
    clients: StripeClients,
    *,
    state: str | None,
    code: str,
    browser_id: str | None,
) -> ConnectedAccount:
    """Check the state, redeem the code and store the workspace.

    The state is spent (committed) before the code is redeemed, so a failed exchange cannot be
    retried with it. Raises StateRefused or OAuthFailed; stores nothing of the account then.
    """
    with database.unit_of_work() as session:
        pending = consume_state(session, state=state, browser_id=browser_id, now=utcnow())
        requested_scope = pending.scope
    token = oauth.exchange_code(clients, code)
    name = oauth.account_display_name(clients, token.account_id)
    grant = Grant(
        account_id=token.account_id,
        display_name=name,
        livemode=token.livemode,
        scope_requested=requested_scope,
        scope_granted=token.scope,
    )
    with database.unit_of_work() as session:
        return record_connection(session, grant=grant, now=utcnow())


def disconnect(
    database: Database, clients: StripeClients, *, account_id: str, reason: str
) -> DeletionRecord | None:
    """Revoke revlens' access at Stripe (when still granted) and purge the workspace."""
    oauth.deauthorize(clients, account_id)
    return forget_account(database, clients, account_id=account_id, reason=reason)


def forget_account(
    database: Database, clients: StripeClients, *, account_id: str, reason: str
) -> DeletionRecord | None:
    """Purge an account whose access ended at Stripe (deauthorized, account_invalid)."""
    clients.forget(account_id)
    with database.unit_of_work() as session:
        return disconnect_and_purge(session, account_id=account_id, reason=reason, now=utcnow())
