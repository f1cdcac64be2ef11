"""Onboarding in a real browser: connect, deny, tampering, reuse, disconnect, deauthorization."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import stripe
from playwright.sync_api import Browser, Page, Route
from sqlalchemy import func, select

from revlens.accounts.models import AccountStatus, ConnectedAccount, DeletionRecord
from revlens.accounts.onboarding import forget_account
from tests.e2e.conftest import Stack, connect_in_browser

pytestmark = pytest.mark.browser

Shoot = Callable[[Page, str], Path]


def _accounts(stack: Stack) -> list[ConnectedAccount]:
    with stack.database.read() as session:
        return list(session.scalars(select(ConnectedAccount)))


def test_connect_lands_in_the_workspace(browser: Browser, stack: Stack, shoot: Shoot) -> None:
    business = stack.create_business("Acme Analytics")
    page = browser.new_page()
    page.goto(stack.url + "/")
    shoot(page, "1-landing")
    page.fill("input[name=email]", "owner@acme.example")
    page.click("#connect-with-stripe")
    page.wait_for_url(stack.emulator.url + "/oauth/authorize*")
    query = parse_qs(urlsplit(page.url).query)
    assert query["scope"] == ["read_only"]
    assert query["response_type"] == ["code"]
    assert query["stripe_user[email]"] == ["owner@acme.example"]
    assert query["redirect_uri"] == [stack.url + "/oauth/callback"]
    assert len(query["state"][0]) >= 40
    assert "Acme Analytics" in page.content()
    shoot(page, "2-consent")
    page.check(f"input[name=account][value={business}]")
    page.click("button[value=allow]")
    page.wait_for_url(f"{stack.url}/accounts/{business}*")
    shoot(page, "3-workspace")
    assert page.inner_text("#workspace-name") == "Acme Analytics"
    [stored] = _accounts(stack)
    assert stored.id == business
    assert stored.status is AccountStatus.CONNECTED
    assert stored.scope_granted == "read_only"
    assert stored.livemode is False
    cookie = next(c for c in page.context.cookies() if c["name"] == "revlens_session")
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    # A returning user signs in with the same flow and lands in the same workspace.
    page.click("text=Sign out")
    page.wait_for_url(stack.url + "/")
    connect_in_browser(page, stack, business)
    page.wait_for_url(f"{stack.url}/accounts/{business}*")
    assert len(_accounts(stack)) == 1
    page.close()


def test_deny_shows_a_friendly_page_with_retry(
    browser: Browser, stack: Stack, shoot: Shoot
) -> None:
    stack.create_business("Denied Co")
    page = browser.new_page()
    page.goto(stack.url + "/")
    page.click("#connect-with-stripe")
    page.wait_for_url(stack.emulator.url + "/oauth/authorize*")
    page.click("button[value=deny]")
    page.wait_for_url(stack.url + "/oauth/callback*")
    shoot(page, "denied")
    assert "You chose not to connect" in page.inner_text("#message")
    assert page.is_visible("#retry")
    assert _accounts(stack) == []
    page.click("#retry")
    page.wait_for_url(stack.emulator.url + "/oauth/authorize*")
    page.close()


def test_a_tampered_state_stores_nothing(browser: Browser, stack: Stack, shoot: Shoot) -> None:
    business = stack.create_business("Tamper Co")
    page = browser.new_page()
    page.goto(stack.url + "/")
    page.click("#connect-with-stripe")
    page.wait_for_url(stack.emulator.url + "/oauth/authorize*")
    _rewrite_callback(page, stack, state="forged-state")
    page.check(f"input[name=account][value={business}]")
    page.click("button[value=allow]")
    page.wait_for_load_state()
    shoot(page, "tampered")
    assert "tampered with" in page.inner_text("#message")
    assert _accounts(stack) == []
    page.close()


def test_a_state_from_another_browser_is_refused(browser: Browser, stack: Stack) -> None:
    business = stack.create_business("Foreign Co")
    first = browser.new_context()
    page = first.new_page()
    page.goto(stack.url + "/")
    page.click("#connect-with-stripe")
    page.wait_for_url(stack.emulator.url + "/oauth/authorize*")
    captured = _rewrite_callback(page, stack, follow=False)
    page.check(f"input[name=account][value={business}]")
    page.click("button[value=allow]")
    page.wait_for_load_state()
    assert len(captured) == 1
    other = browser.new_context().new_page()
    other.goto(captured[0])
    assert "started in another browser" in other.inner_text("#message")
    assert _accounts(stack) == []
    first.close()
    other.context.close()


def test_a_reused_code_is_refused_by_stripe(browser: Browser, stack: Stack, shoot: Shoot) -> None:
    business = stack.create_business("Reuse Co")
    page = browser.new_context().new_page()
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/oauth/callback" in r.url else None)
    connect_in_browser(page, stack, business)
    page.wait_for_url(f"{stack.url}/accounts/{business}*")
    old_code = parse_qs(urlsplit(callbacks[0]).query)["code"][0]
    page.click("text=Sign out")
    page.wait_for_url(stack.url + "/")
    # A new flow with a fresh state, but carrying the code the first flow already redeemed.
    _rewrite_callback(page, stack, code=old_code)
    connect_in_browser(page, stack, business)
    page.wait_for_load_state()
    shoot(page, "reused-code")
    assert "expired or was already used" in page.inner_text("#message")
    page.context.close()


def test_two_accounts_in_two_browsers_are_isolated(browser: Browser, stack: Stack) -> None:
    a = stack.create_business("Alpha Ltd")
    b = stack.create_business("Beta GmbH")
    alice = browser.new_context().new_page()
    bob = browser.new_context().new_page()
    connect_in_browser(alice, stack, a)
    alice.wait_for_url(f"{stack.url}/accounts/{a}*")
    connect_in_browser(bob, stack, b)
    bob.wait_for_url(f"{stack.url}/accounts/{b}*")
    assert alice.inner_text("#workspace-name") == "Alpha Ltd"
    assert bob.inner_text("#workspace-name") == "Beta GmbH"
    response = alice.goto(f"{stack.url}/accounts/{b}")
    assert response is not None
    assert response.status == 404
    assert "Beta" not in alice.content()
    alice.context.close()
    bob.context.close()


def test_disconnect_from_settings_purges_and_signs_out(
    browser: Browser, stack: Stack, shoot: Shoot
) -> None:
    business = stack.create_business("Leaving Inc")
    page = browser.new_context().new_page()
    connect_in_browser(page, stack, business)
    page.wait_for_url(f"{stack.url}/accounts/{business}*")
    page.goto(f"{stack.url}/accounts/{business}/settings")
    assert page.inner_text("#status") == "connected"
    assert page.inner_text("#scope") == "read_only"
    shoot(page, "settings")
    page.click("#disconnect")
    page.wait_for_url(stack.url + "/?notice=disconnected")
    shoot(page, "after-disconnect")
    assert "Your data has been deleted" in page.content()
    [stored] = _accounts(stack)
    assert stored.status is AccountStatus.DISCONNECTED
    assert stored.disconnect_reason == "disconnected_by_user"
    with stack.database.read() as session:
        records = list(session.scalars(select(DeletionRecord)))
    assert [r.account_id for r in records] == [business]
    # Stripe no longer lets revlens act for the account.
    with pytest.raises(stripe.PermissionError):
        stack.clients.for_account(business).v1.customers.list()
    response = page.goto(f"{stack.url}/accounts/{business}")
    assert response is not None
    assert response.status == 404
    page.context.close()


def test_deauthorization_from_the_account_side(browser: Browser, stack: Stack) -> None:
    business = stack.create_business("Revoker SA")
    page = browser.new_context().new_page()
    connect_in_browser(page, stack, business)
    page.wait_for_url(f"{stack.url}/accounts/{business}*")
    # The account owner revokes access in their (emulated) Stripe dashboard.
    owner = browser.new_page()
    owner.goto(f"{stack.emulator.url}/dashboard/{business}/applications")
    owner.click("text=Revoke access")
    owner.wait_for_load_state()
    assert "No application has access" in owner.content()
    # What the account.application.deauthorized webhook does.
    record = forget_account(
        stack.database, stack.clients, account_id=business, reason="deauthorized"
    )
    assert record is not None
    assert record.reason == "deauthorized"
    assert forget_account(stack.database, stack.clients, account_id=business, reason="x") is None
    response = page.goto(f"{stack.url}/accounts/{business}")
    assert response is not None
    assert response.status == 404
    owner.close()
    page.context.close()


def test_operator_view_and_accounts_api(browser: Browser, stack: Stack) -> None:
    business = stack.create_business("Operated Co")
    page = browser.new_context().new_page()
    connect_in_browser(page, stack, business)
    page.wait_for_url(f"{stack.url}/accounts/{business}*")
    unauthorized = httpx.get(f"{stack.url}/api/v1/accounts")
    assert unauthorized.status_code == 401
    token = "operator-token-0123456789"
    listed = httpx.get(
        f"{stack.url}/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}
    ).json()
    assert [(a["id"], a["status"], a["display_name"]) for a in listed["data"]] == [
        (business, "connected", "Operated Co")
    ]
    admin = browser.new_context().new_page()
    admin.goto(stack.url + "/admin")
    admin.fill("input[name=token]", "wrong-token-wrong-token")
    admin.click("button[type=submit]")
    assert "Wrong token" in admin.content()
    admin.fill("input[name=token]", token)
    admin.click("button[type=submit]")
    admin.wait_for_url(stack.url + "/admin")
    assert business in admin.inner_text("#accounts")
    admin.context.close()
    page.context.close()


def test_every_account_route_of_another_workspace_is_404(browser: Browser, stack: Stack) -> None:
    """Walk the app's routes: with a session for A, every URL naming B answers 404."""
    a = stack.create_business("Owner A")
    b = stack.create_business("Victim B")
    page = browser.new_context().new_page()
    connect_in_browser(page, stack, a)
    page.wait_for_url(f"{stack.url}/accounts/{a}*")
    with stack.database.unit_of_work() as session:  # B is a real, connected workspace too
        from revlens.accounts.service import Grant, record_connection
        from revlens.db.types import utcnow

        record_connection(
            session, grant=Grant(b, "Victim B", False, "read_only", "read_only"), now=utcnow()
        )
    routes = [
        (method, route.path)  # type: ignore[attr-defined]
        for route in _app_routes(stack)
        for method in getattr(route, "methods", set())
        if "{account}" in route.path  # type: ignore[attr-defined]
    ]
    assert len(routes) >= 3
    request = page.context.request
    for method, template in routes:
        url = stack.url + template.replace("{account}", b).replace("{customer}", "cus_x")
        response = request.fetch(
            url, method=method, form={"csrf_token": "x"} if method == "POST" else None
        )
        assert response.status == 404, (method, template, response.status)
        assert "Victim B" not in response.text()
    with stack.database.read() as session:
        assert session.scalar(select(func.count()).select_from(DeletionRecord)) == 0
    page.context.close()


def _app_routes(stack: Stack) -> list[object]:
    """Every route of the app, descending into included routers (FastAPI keeps them nested)."""
    from revlens.web.app import create_app

    found: list[object] = []
    pending = list(create_app(stack.settings, database=stack.database).routes)
    while pending:
        route = pending.pop()
        original = getattr(route, "original_router", None)
        if original is not None:
            assert not getattr(route.include_context, "prefix", ""), "walker ignores prefixes"  # type: ignore[attr-defined]
            pending.extend(original.routes)
        else:
            found.append(route)
    return found


def _rewrite_callback(
    page: Page, stack: Stack, *, follow: bool = True, **changes: str
) -> list[str]:
    """Change Stripe's redirect back (as an attacker would); return the callback URLs.

    Playwright does not route requests that follow a redirect, so the emulator's 302 itself is
    fetched and answered with a rewritten Location (or not followed at all).
    """
    sent: list[str] = []

    def handle(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        response = route.fetch(max_redirects=0)
        location = _with(response.headers["location"], **changes)
        sent.append(location)
        if follow:
            route.fulfill(status=302, headers={"location": location})
        else:
            route.fulfill(status=200, body="held back", content_type="text/plain")

    page.route(stack.emulator.url + "/oauth/authorize", handle)
    return sent


def _with(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()
