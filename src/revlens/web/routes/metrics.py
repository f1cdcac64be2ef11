"""The metrics API (`/api/v1/accounts/{account}/…`, JSON or CSV) and the API keys page.

A caller reads an account's metrics with a browser session signed in to it, an API key of that
account, or the admin token (both as `Authorization: Bearer …`). Anything else is a 404, so that
nobody learns which accounts exist; a bearer token that is no key at all is a 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from revlens.accounts.service import get_account
from revlens.billing.entitlements import NotEntitled, earliest_day, entitlements, require_feature
from revlens.db.types import utcnow
from revlens.metrics import export, queries
from revlens.metrics.api_keys import (
    account_of_token,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)
from revlens.metrics.cache import MetricsCache
from revlens.metrics.params import BadParameter, limit_history, parse_preset, today
from revlens.metrics.params import query as make_query
from revlens.metrics.service import request_preset
from revlens.tasks.jobs import recompute_metrics
from revlens.web.deps import (
    DatabaseDep,
    QueueDep,
    SettingsDep,
    TemplatesDep,
    WorkspaceDep,
    is_admin_token,
)
from revlens.web.rendering import render
from revlens.web.sessions import check_csrf, signed_in_account

router = APIRouter(tags=["metrics"])
NOT_FOUND = "There is no such page."
Format = Literal["json", "csv"]


def _reader(account: str, request: Request, database: DatabaseDep, settings: SettingsDep) -> str:
    """Return the account whose metrics the caller may read (see the module's docstring)."""
    header = request.headers.get("authorization")
    allowed = False
    by_key = admin = False
    with database.unit_of_work() as session:
        if header is not None:
            scheme, _, token = header.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise HTTPException(401, "Send `Authorization: Bearer <API key>`.")
            if is_admin_token(settings, token):
                allowed = admin = True
            else:
                owner = account_of_token(session, token=token, now=utcnow())
                if owner is None:
                    raise HTTPException(401, "This API key is not valid (revoked or mistyped).")
                allowed = by_key = owner == account
        else:
            allowed = signed_in_account(request) == account
        found = get_account(session, account) if allowed else None
    if found is None or not found.is_connected:
        raise HTTPException(404, NOT_FOUND)
    if settings.billing.enabled and not admin:  # plans gate people, never the operator
        with database.read() as session:
            access = entitlements(
                session, billing=settings.billing, account_id=account, now=int(time.time())
            )
        try:
            if by_key:
                require_feature(access, "api")
            if request.query_params.get("format") == "csv":
                require_feature(access, "csv_export")
        except NotEntitled as refused:
            raise HTTPException(403, str(refused)) from None
        request.state.history_from = earliest_day(access, today())
    return account


ReaderDep = Annotated[str, Depends(_reader)]


def _history_from(request: Request, account: ReaderDep) -> date | None:
    """The first day the caller's plan shows (None: all history)."""
    earliest: date | None = getattr(request.state, "history_from", None)
    return earliest


HistoryDep = Annotated[date | None, Depends(_history_from)]


def _cache(request: Request) -> MetricsCache:
    cache: MetricsCache | None = getattr(request.app.state, "metrics_cache", None)
    if cache is None:
        cache = request.app.state.metrics_cache = MetricsCache()
    return cache


CacheDep = Annotated[MetricsCache, Depends(_cache)]
Start = Annotated[str | None, Query(description="YYYY-MM-DD; the series covers (start, end].")]
End = Annotated[str | None, Query(description="YYYY-MM-DD, default today (UTC).")]
Interval = Annotated[str | None, Query(description="day, week or month (default).")]
Preset = Annotated[str | None, Query(description="standard (default), stripe, chartmogul, …")]
Currency = Annotated[str | None, Query(description="ISO code; default the main currency.")]
FormatParam = Annotated[Format, Query(alias="format", description="json (default) or csv.")]


@contextmanager
def _answering(
    database: DatabaseDep, queue: QueueDep, account: str, preset: str | None
) -> Iterator[None]:
    """Turn bad parameters into 422 and metrics not computed yet into 409 (and queue them)."""
    try:
        yield
    except BadParameter as error:
        raise HTTPException(422, str(error)) from None
    except queries.MetricsNotReady as error:
        name = parse_preset(preset)
        with database.unit_of_work() as session:
            fresh = queries.state_of(session, account_id=account, preset=name) is None
            request_preset(session, account_id=account, preset=name)
        if fresh:
            queue.enqueue(recompute_metrics, account_id=account, presets=[name])
        raise HTTPException(409, str(error)) from None


def _respond(
    fmt: Format, document: dict[str, Any], rows: list[dict[str, Any]], fields: Any, name: str
) -> Response:
    if fmt == "csv":
        return Response(
            export.to_csv(rows, fields),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(orjson.dumps(document), media_type="application/json")


def _run(
    database: DatabaseDep,
    queue: QueueDep,
    account: str,
    preset: str | None,
    work: Callable[[], Response],
) -> Response:
    with _answering(database, queue, account, preset):
        return work()


@router.get("/api/v1/accounts/{account}/metrics")
def metrics_series(
    *,
    account: ReaderDep,
    history_from: HistoryDep,
    database: DatabaseDep,
    queue: QueueDep,
    cache: CacheDep,
    start: Start = None,
    end: End = None,
    interval: Interval = None,
    preset: Preset = None,
    currency: Currency = None,
    fmt: FormatParam = "json",
) -> Response:
    """MRR, ARR, movements, rates and cash per period: `date` is each period's last day."""

    def work() -> Response:
        checked = make_query(
            start=start, end=end, interval=interval, preset=preset, currency=currency
        )
        checked = limit_history(checked, history_from)
        with database.read() as session:
            report = queries.series(session, account_id=account, query=checked, cache=cache)
        if fmt == "json":
            return Response(export.series_json(report), media_type="application/json")
        document = export.series_document(report)
        return _respond(fmt, document, document["series"], export.SERIES_FIELDS, "metrics")

    return _run(database, queue, account, preset, work)


@router.get("/api/v1/accounts/{account}/mrr-movements")
def mrr_movements(
    *,
    account: ReaderDep,
    history_from: HistoryDep,
    database: DatabaseDep,
    queue: QueueDep,
    start: Start = None,
    end: End = None,
    preset: Preset = None,
    currency: Currency = None,
    fmt: FormatParam = "json",
) -> Response:
    """Every customer movement in (start, end], explained down to the Stripe ids behind it."""

    def work() -> Response:
        checked = make_query(start=start, end=end, preset=preset, currency=currency)
        checked = limit_history(checked, history_from)
        with database.read() as session:
            rows = queries.movements(session, account_id=account, query=checked)
        document = {
            "account": account,
            "preset": checked.preset,
            "start": checked.start.isoformat(),
            "end": checked.end.isoformat(),
            "movements": [export.movement_json(row) for row in rows],
        }
        csv_rows = [export.movement_csv_row(row) for row in rows]
        return _respond(fmt, document, csv_rows, export.MOVEMENT_FIELDS, "mrr-movements")

    return _run(database, queue, account, preset, work)


@router.get("/api/v1/accounts/{account}/customers")
def customers_list(
    *,
    account: ReaderDep,
    history_from: HistoryDep,
    database: DatabaseDep,
    queue: QueueDep,
    cache: CacheDep,
    end: End = None,
    preset: Preset = None,
    currency: Currency = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    fmt: FormatParam = "json",
) -> Response:
    """Customers who ever paid, by MRR at the end date (largest first)."""

    def work() -> Response:
        checked = limit_history(
            make_query(start=None, end=end, preset=preset, currency=currency), history_from
        )
        with database.read() as session:
            chosen, rows = queries.customers(
                session, account_id=account, query=checked, limit=limit, cache=cache
            )
        plain = export.customer_rows(rows)
        document = {"account": account, "currency": chosen, "date": checked.end.isoformat()}
        return _respond(fmt, {**document, "customers": plain}, plain, export.CUSTOMER_FIELDS, "c")

    return _run(database, queue, account, preset, work)


@router.get("/api/v1/accounts/{account}/customers/{customer}/mrr")
def customer_mrr(
    *,
    account: ReaderDep,
    customer: str,
    database: DatabaseDep,
    queue: QueueDep,
    history_from: HistoryDep,
    preset: Preset = None,
    fmt: FormatParam = "json",
) -> Response:
    """One customer's MRR on every day it changed, with its explained movements."""

    def work() -> Response:
        name = parse_preset(preset)
        with database.read() as session:
            found = queries.customer_timeline(
                session, account_id=account, preset=name, customer=customer, since=history_from
            )
        if found is None:
            raise HTTPException(404, f"No customer {customer} in this account.")
        document = export.timeline_document(account, found)
        rows = document["timeline"]
        return _respond(fmt, document, rows, export.TIMELINE_FIELDS, customer)

    return _run(database, queue, account, preset, work)


@router.get("/api/v1/accounts/{account}/cohorts")
def cohort_table(
    *,
    account: ReaderDep,
    history_from: HistoryDep,
    database: DatabaseDep,
    queue: QueueDep,
    cache: CacheDep,
    start: Start = None,
    end: End = None,
    interval: Annotated[Literal["month"], Query()] = "month",
    preset: Preset = None,
    currency: Currency = None,
    fmt: FormatParam = "json",
) -> Response:
    """Monthly cohorts by first payment: the share still paying and their MRR retention."""

    def work() -> Response:
        checked = make_query(
            start=start, end=end, interval=interval, preset=preset, currency=currency
        )
        checked = limit_history(checked, history_from)
        with database.read() as session:
            chosen, found = queries.cohort_table(
                session, account_id=account, query=checked, cache=cache
            )
        document = {
            "account": account,
            "currency": chosen,
            "preset": checked.preset,
            "interval": interval,
            "cohorts": export.cohort_json(found),
        }
        rows = export.cohort_rows(found)
        return _respond(fmt, document, rows, export.COHORT_FIELDS, "cohorts")

    return _run(database, queue, account, preset, work)


@router.get(
    "/accounts/{account}/settings/api-keys", response_class=HTMLResponse, include_in_schema=False
)
def api_keys_page(
    request: Request, workspace: WorkspaceDep, templates: TemplatesDep, database: DatabaseDep
) -> HTMLResponse:
    """List the workspace's API keys, with a form to create one."""
    with database.read() as session:
        keys = list_api_keys(session, account_id=workspace.id)
    return render(templates, request, "metrics/api_keys.html", account=workspace, keys=keys)


@router.post("/accounts/{account}/settings/api-keys", include_in_schema=False)
def api_key_create(
    *,
    request: Request,
    workspace: WorkspaceDep,
    templates: TemplatesDep,
    database: DatabaseDep,
    settings: SettingsDep,
    name: Annotated[str, Form()] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """Create a key and show its token, this once."""
    check_csrf(request, csrf_token)
    if settings.billing.enabled:
        with database.read() as session:
            access = entitlements(
                session, billing=settings.billing, account_id=workspace.id, now=int(time.time())
            )
        try:
            require_feature(access, "api")
        except NotEntitled as refused:
            raise HTTPException(403, str(refused)) from None
    with database.unit_of_work() as session:
        _, token = create_api_key(session, account_id=workspace.id, name=name, now=utcnow())
        keys = list_api_keys(session, account_id=workspace.id)
    return render(
        templates, request, "metrics/api_keys.html", account=workspace, keys=keys, token=token
    )


@router.post("/accounts/{account}/settings/api-keys/{key_id}/revoke", include_in_schema=False)
def api_key_revoke(
    request: Request,
    workspace: WorkspaceDep,
    database: DatabaseDep,
    key_id: str,
    csrf_token: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    """Revoke a key at once."""
    check_csrf(request, csrf_token)
    with database.unit_of_work() as session:
        if key_id.isdigit():
            revoke_api_key(session, account_id=workspace.id, key_id=int(key_id))
    return RedirectResponse(f"/accounts/{workspace.id}/settings/api-keys", status_code=303)
