"""Plans, subscribing and plan changes in a workspace; the operator's list of who pays."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from revlens.accounts.models import ConnectedAccount
from revlens.billing.entitlements import Access
from revlens.billing.overview import customer_rows
from revlens.billing.payment import PaymentCollector, PaymentRefused, TestCardCollector
from revlens.billing.service import (
    BillingRefused,
    access_now,
    cancel,
    change_plan,
    subscribe,
)
from revlens.config import Settings
from revlens.db.session import Database
from revlens.stripe_api.errors import StripeError
from revlens.stripe_api.platform_billing import PaymentDeclined
from revlens.web.deps import (
    AdminApi,
    ClientsDep,
    DatabaseDep,
    SettingsDep,
    TemplatesDep,
    WorkspaceDep,
)
from revlens.web.rendering import render
from revlens.web.sessions import check_csrf

router = APIRouter()


def _collector(request: Request) -> PaymentCollector:
    """The page that collects a card: the test cards unless the app was given another."""
    collector: PaymentCollector | None = getattr(request.app.state, "payment_collector", None)
    return collector or TestCardCollector()


CollectorDep = Annotated[PaymentCollector, Depends(_collector)]


def banner(request: Request, account_id: str) -> str | None:
    """Return the late-payment warning of a workspace (a template global for every page)."""
    settings = request.app.state.settings
    if not settings.billing.enabled:
        return None
    access = access_now(request.app.state.database, settings.billing, account_id, int(time.time()))
    return access.banner


def _page(
    request: Request,
    templates: Jinja2Templates,
    *,
    workspace: ConnectedAccount,
    access: Access,
    settings: Settings,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    return render(
        templates,
        request,
        "billing/plans.html",
        status=status,
        account=workspace,
        access=access,
        plans=settings.billing.plans,
        free=settings.billing.free_plan,
        error=error,
        notice=request.query_params.get("notice"),
    )


@router.get("/accounts/{account}/billing", response_class=HTMLResponse, include_in_schema=False)
def plans_page(
    request: Request,
    *,
    workspace: WorkspaceDep,
    templates: TemplatesDep,
    database: DatabaseDep,
    settings: SettingsDep,
) -> HTMLResponse:
    """Show the plans, the workspace's plan and what it can change."""
    if not settings.billing.enabled:
        raise HTTPException(404, "This deployment does not charge for revlens.")
    access = access_now(database, settings.billing, workspace.id, int(time.time()))
    return _page(request, templates, workspace=workspace, access=access, settings=settings)


@router.get(
    "/accounts/{account}/billing/subscribe/{plan}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def payment_page(
    request: Request,
    *,
    plan: str,
    workspace: WorkspaceDep,
    templates: TemplatesDep,
    settings: SettingsDep,
    collector: CollectorDep,
) -> HTMLResponse:
    """Collect a payment method for a plan (the collector's page)."""
    chosen = settings.billing.plan(plan)
    if chosen is None or chosen.free:
        raise HTTPException(404, f"There is no paid plan {plan!r}.")
    page = collector.page()
    return render(
        templates,
        request,
        "billing/subscribe.html",
        account=workspace,
        plan=chosen,
        collector_template=page.template,
        **page.context,
    )


@router.post("/accounts/{account}/billing/subscribe", include_in_schema=False, response_model=None)
async def subscribe_form(
    request: Request,
    *,
    workspace: WorkspaceDep,
    templates: TemplatesDep,
    database: DatabaseDep,
    clients: ClientsDep,
    settings: SettingsDep,
    collector: CollectorDep,
    plan: Annotated[str, Form(max_length=40)] = "",
    email: Annotated[str | None, Form(max_length=254)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    """Subscribe with the collected payment method, then go to the dashboard."""
    check_csrf(request, csrf_token)
    form = {key: str(value) for key, value in (await request.form()).items()}
    try:
        method = collector.payment_method(form)
        await run_in_threadpool(
            subscribe,
            database,
            clients,
            settings.billing,
            account_id=workspace.id,
            plan_key=plan,
            payment_method=method,
            email=(email or "").strip() or None,
        )
    except (PaymentRefused, PaymentDeclined, BillingRefused) as refused:
        access = access_now(database, settings.billing, workspace.id, int(time.time()))
        return _page(
            request,
            templates,
            workspace=workspace,
            access=access,
            settings=settings,
            error=str(refused),
            status=400,
        )
    return RedirectResponse(f"/accounts/{workspace.id}?notice=subscribed", status_code=303)


async def _change(
    request: Request,
    *,
    workspace: ConnectedAccount,
    templates: Jinja2Templates,
    settings: Settings,
    database: Database,
    work: Callable[[], None],
    notice: str,
) -> HTMLResponse | RedirectResponse:
    try:
        await run_in_threadpool(work)
    except (BillingRefused, PaymentDeclined, StripeError) as refused:
        access = access_now(database, settings.billing, workspace.id, int(time.time()))
        message = getattr(refused, "user_message", None) or str(refused)
        return _page(
            request,
            templates,
            workspace=workspace,
            access=access,
            settings=settings,
            error=message,
            status=400,
        )
    return RedirectResponse(f"/accounts/{workspace.id}/billing?notice={notice}", status_code=303)


@router.post("/accounts/{account}/billing/change", include_in_schema=False, response_model=None)
async def change_form(
    request: Request,
    *,
    workspace: WorkspaceDep,
    templates: TemplatesDep,
    database: DatabaseDep,
    clients: ClientsDep,
    settings: SettingsDep,
    plan: Annotated[str, Form(max_length=40)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    """Upgrade or downgrade (to the free plan: cancel at period end)."""
    check_csrf(request, csrf_token)

    def work() -> None:
        change_plan(database, clients, settings.billing, account_id=workspace.id, plan_key=plan)

    return await _change(
        request,
        workspace=workspace,
        templates=templates,
        settings=settings,
        database=database,
        work=work,
        notice="changed",
    )


@router.post("/accounts/{account}/billing/cancel", include_in_schema=False, response_model=None)
async def cancel_form(
    request: Request,
    *,
    workspace: WorkspaceDep,
    templates: TemplatesDep,
    database: DatabaseDep,
    clients: ClientsDep,
    settings: SettingsDep,
    resume: Annotated[bool, Form()] = False,
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse | RedirectResponse:
    """Cancel at the period's end, or take a scheduled cancellation back (`resume`)."""
    check_csrf(request, csrf_token)

    def work() -> None:
        cancel(database, clients, account_id=workspace.id, at_period_end=not resume)

    notice = "resumed" if resume else "canceled"
    return await _change(
        request,
        workspace=workspace,
        templates=templates,
        settings=settings,
        database=database,
        work=work,
        notice=notice,
    )


@router.get("/api/v1/billing/customers", dependencies=[AdminApi], tags=["operations"])
def billing_customers_api(database: DatabaseDep, settings: SettingsDep) -> dict[str, Any]:
    """Every connected account with who pays for it, its plan and subscription state (admin)."""
    with database.read() as session:
        rows = customer_rows(session, settings.billing, now=int(time.time()))
    return {"object": "list", "data": rows}
