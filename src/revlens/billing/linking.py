"""Connecting more accounts under one plan: the gate at OAuth connect, and where to land after."""

from __future__ import annotations

from revlens.billing.entitlements import NotEntitled, entitlements, require_another_account
from revlens.billing.models import BillingAccount
from revlens.billing.plans import BillingConfig
from revlens.billing.service import link_account
from revlens.db.session import Database


def check_can_connect(
    database: Database, billing: BillingConfig, *, signed_in: str | None, now: int
) -> None:
    """Refuse starting a connection from a workspace whose plan covers no more accounts."""
    if signed_in is None or not billing.enabled:
        return
    with database.read() as session:
        access = entitlements(session, billing=billing, account_id=signed_in, now=now)
        require_another_account(session, access)


def after_connect(
    database: Database,
    billing: BillingConfig,
    *,
    account_id: str,
    signed_in: str | None,
    now: int,
) -> tuple[str, str | None]:
    """Attach a new account to the plan of the workspace it was connected from, if it fits.

    Returns where the browser goes next (the plans page when the account has no plan) and a
    notice when the plan could not take it.
    """
    workspace = f"/accounts/{account_id}"
    if not billing.enabled:
        return workspace, None
    notice: str | None = None
    with database.unit_of_work() as session:
        own = session.get(BillingAccount, account_id)
        if own is None and signed_in is not None and signed_in != account_id:
            access = entitlements(session, billing=billing, account_id=signed_in, now=now)
            if access.customer_id is not None:
                try:
                    require_another_account(session, access)
                except NotEntitled as refused:
                    notice = str(refused)
                else:
                    link_account(
                        session,
                        account_id=account_id,
                        customer_id=access.customer_id,
                        owner=False,
                    )
        paying = entitlements(session, billing=billing, account_id=account_id, now=now).paying
    if paying and notice is None:
        return workspace, None
    return f"{workspace}/billing", notice
