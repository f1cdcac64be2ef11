"""The emulator's consent page in a real browser: pick and allow, deny, create a new account."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe
from playwright.sync_api import Browser, Page

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer

pytestmark = pytest.mark.browser
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(redirect_uris=(REDIRECT,))) as server:
        yield server


def _client(emulator: EmulatorServer) -> stripe.StripeClient:
    platform = emulator.emulator.platform
    return stripe.StripeClient(
        platform.secret_key_test,
        client_id=platform.client_id,
        base_addresses={"api": emulator.url, "connect": emulator.url},
    )


def _decide(page: Page, url: str | None, choose: str | None, decision: str) -> dict[str, list[str]]:
    """Open the consent page (unless open), choose, decide; return the redirect's query."""
    if url is not None:
        page.goto(url)
    if choose:
        page.check(f"input[name=account][value={choose}]")
    # The redirect lands on the platform (nothing listens there): watch the request itself.
    with page.expect_request(lambda request: request.url.startswith(REDIRECT)) as back:
        page.click(f"button[value={decision}]")
    landed = [back.value.url]
    return parse_qs(urlsplit(landed[0]).query)


def test_pick_allow_deny_and_create(browser: Browser, emulator: EmulatorServer) -> None:
    client = _client(emulator)
    existing = client.v1.accounts.create(
        {"type": "standard", "business_profile": {"name": "Existing Shop"}}
    )
    page = browser.new_page()
    allowed = _decide(
        page, client.oauth.authorize_url({"scope": "read_only", "state": "a"}), existing.id, "allow"
    )
    token = client.oauth.token({"grant_type": "authorization_code", "code": allowed["code"][0]})
    assert token.stripe_user_id == existing.id
    assert allowed["state"] == ["a"]

    page = browser.new_page()
    denied = _decide(page, client.oauth.authorize_url({"state": "d"}), None, "deny")
    assert denied["error"] == ["access_denied"]
    assert denied["state"] == ["d"]

    page = browser.new_page()
    url = client.oauth.authorize_url(
        {"scope": "read_only", "state": "n", "stripe_user": {"email": "new@shop.example"}}
    )
    page.goto(url)
    assert page.input_value("input[name='stripe_user[email]']") == "new@shop.example"
    page.fill("input[name='stripe_user[business_name]']", "Brand New Shop")
    created = _decide(page, None, "new", "allow")
    code = created["code"][0]
    token = client.oauth.token({"grant_type": "authorization_code", "code": code})
    account = client.v1.accounts.retrieve(token.stripe_user_id)
    assert account.email == "new@shop.example"
    assert account.business_profile is not None
    assert account.business_profile.name == "Brand New Shop"
