"""Connect OAuth on the emulator, driven through the stripe SDK and plain HTTP like a browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import stripe
from stripe import oauth_error

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from tests.stripe_emulator.conftest import make_client

REDIRECT = "http://127.0.0.1:9/oauth/callback"
OTHER_REDIRECT = "http://localhost:9/oauth/callback"


@pytest.fixture(scope="module")
def server() -> Iterator[EmulatorServer]:
    config = EmulatorConfig(control=True, redirect_uris=(REDIRECT, OTHER_REDIRECT))
    with EmulatorServer(config) as running:
        yield running


@pytest.fixture(scope="module")
def sdk(server: EmulatorServer) -> stripe.StripeClient:
    return make_client(server)


@pytest.fixture
def browser(server: EmulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=10) as client:
        yield client


class _Form(HTMLParser):
    """Collect the inputs of the consent page's form."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.accounts: list[str] = []
        self.buttons: list[str] = []
        self.action: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = values.get("action")
        if tag == "input" and values.get("type") == "hidden":
            self.hidden[values["name"]] = values.get("value", "")
        if tag == "input" and values.get("name") == "account":
            self.accounts.append(values["value"])
        if tag == "button" and values.get("name") == "decision":
            self.buttons.append(values["value"])


def _consent(browser: httpx.Client, url: str) -> _Form:
    response = browser.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    form = _Form()
    form.feed(response.text)
    return form


def _decide(browser: httpx.Client, form: _Form, **fields: str) -> dict[str, list[str]]:
    response = browser.post(form.action or "", data={**form.hidden, **fields})
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?"), location
    return parse_qs(urlsplit(location).query)


def _authorize(
    sdk: stripe.StripeClient, browser: httpx.Client, account: str, **params: Any
) -> dict[str, list[str]]:
    url = sdk.oauth.authorize_url({"scope": "read_only", "state": "s1", **params})
    return _decide(browser, _consent(browser, url), account=account, decision="allow")


def test_the_consent_page_lists_accounts_and_posts_exactly_the_documented_fields(
    sdk: stripe.StripeClient, browser: httpx.Client, server: EmulatorServer
) -> None:
    created = sdk.v1.accounts.create({"type": "standard", "business_profile": {"name": "Acme"}})
    url = sdk.oauth.authorize_url(
        {"scope": "read_only", "state": "xyz", "stripe_user": {"email": "a@b.example"}}
    )
    page = browser.get(url)
    assert "Acme" in page.text
    assert "a@b.example" in page.text  # prefilled for a new account
    form = _Form()
    form.feed(page.text)
    assert form.action == "/oauth/authorize"
    assert set(form.hidden) == {"client_id", "redirect_uri", "scope", "state", "response_type"}
    assert form.hidden["redirect_uri"] == REDIRECT  # the first registered URI by default
    assert form.hidden["state"] == "xyz"
    assert created.id in form.accounts
    assert "new" in form.accounts
    assert form.buttons == ["allow", "deny"]


def test_allow_then_token_then_calls_as_the_account(
    sdk: stripe.StripeClient, browser: httpx.Client, server: EmulatorServer
) -> None:
    account = sdk.v1.accounts.create({"type": "standard"}).id
    query = _authorize(sdk, browser, account)
    assert query["scope"] == ["read_only"]
    assert query["state"] == ["s1"]
    code = query["code"][0]
    assert code.startswith("ac_")
    token = sdk.oauth.token({"grant_type": "authorization_code", "code": code})
    assert token.stripe_user_id == account
    assert token.scope == "read_only"
    assert token.livemode is False
    assert token.token_type == "bearer"
    assert token.access_token.startswith("sk_test_")
    assert token.refresh_token.startswith("rt_")
    assert token.stripe_publishable_key.startswith("pk_test_")
    # The platform key plus Stripe-Account acts as the account.
    listed = sdk.v1.customers.list({"limit": 3}, {"stripe_account": account})
    assert listed.data == []
    # The access token is a key of the connected account itself.
    own = stripe.StripeClient(token.access_token, base_addresses={"api": server.url})
    assert own.v1.accounts.retrieve_current().id == account
    assert own.v1.customers.list().data == []


def test_deny_redirects_with_access_denied_and_state(
    sdk: stripe.StripeClient, browser: httpx.Client
) -> None:
    url = sdk.oauth.authorize_url({"scope": "read_only", "state": "keep-me"})
    query = _decide(browser, _consent(browser, url), account="new", decision="deny")
    assert query == {
        "error": ["access_denied"],
        "error_description": ["The user denied your request"],
        "state": ["keep-me"],
    }


def test_new_account_is_created_from_the_prefill(
    sdk: stripe.StripeClient, browser: httpx.Client
) -> None:
    url = sdk.oauth.authorize_url({"scope": "read_write", "state": "n"})
    form = _consent(browser, url)
    query = _decide(
        browser,
        form,
        account="new",
        decision="allow",
        **{"stripe_user[business_name]": "Fresh Co", "stripe_user[email]": "f@co.example"},
    )
    token = sdk.oauth.token({"grant_type": "authorization_code", "code": query["code"][0]})
    assert token.scope == "read_write"
    created = sdk.v1.accounts.retrieve(token.stripe_user_id)
    assert created.email == "f@co.example"
    assert created.business_profile is not None
    assert created.business_profile.name == "Fresh Co"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"client_id": "ca_nope1234567"}, "No application matches"),
        ({"redirect_uri": "http://evil.example/cb"}, "Invalid redirect URI"),
    ],
)
def test_bad_client_or_redirect_shows_an_error_page_and_never_redirects(
    sdk: stripe.StripeClient,
    browser: httpx.Client,
    server: EmulatorServer,
    params: dict[str, str],
    message: str,
) -> None:
    base = {
        "client_id": server.emulator.platform.client_id,
        "response_type": "code",
        "scope": "read_only",
    }
    response = browser.get("/oauth/authorize", params={**base, **params})
    assert response.status_code == 400
    assert "location" not in response.headers
    assert message in response.text
    post = browser.post("/oauth/authorize", data={**base, **params, "decision": "allow"})
    assert post.status_code == 400
    assert "location" not in post.headers


def test_bad_scope_and_response_type_redirect_with_the_error(
    browser: httpx.Client, server: EmulatorServer
) -> None:
    base = {"client_id": server.emulator.platform.client_id, "state": "s"}
    response = browser.get(
        "/oauth/authorize", params={**base, "response_type": "code", "scope": "everything"}
    )
    assert response.status_code == 302
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["invalid_scope"]
    assert query["state"] == ["s"]
    response = browser.get("/oauth/authorize", params={**base, "response_type": "token"})
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["error"] == ["unsupported_response_type"]


def test_a_code_is_single_use_and_reuse_revokes_its_tokens(
    sdk: stripe.StripeClient, browser: httpx.Client, server: EmulatorServer
) -> None:
    account = sdk.v1.accounts.create({"type": "standard"}).id
    code = _authorize(sdk, browser, account)["code"][0]
    token = sdk.oauth.token({"grant_type": "authorization_code", "code": code})
    with pytest.raises(oauth_error.InvalidGrantError) as caught:
        sdk.oauth.token({"grant_type": "authorization_code", "code": code})
    assert caught.value.code == "invalid_grant"
    assert "already been used" in str(caught.value)
    own = stripe.StripeClient(token.access_token, base_addresses={"api": server.url})
    with pytest.raises(stripe.AuthenticationError):
        own.v1.customers.list()


def test_a_code_expires_after_five_minutes(
    sdk: stripe.StripeClient, browser: httpx.Client, server: EmulatorServer
) -> None:
    account = sdk.v1.accounts.create({"type": "standard"}).id
    code = _authorize(sdk, browser, account)["code"][0]
    record = server.emulator.oauth_grants.code(code)
    assert record is not None
    record["created"] -= 301  # as if five minutes had passed on the emulator's clock
    server.emulator.store.update(
        server.emulator.oauth_grants._scope(False),
        "oauth_code",
        record,
    )
    with pytest.raises(oauth_error.InvalidGrantError, match="expired"):
        sdk.oauth.token({"grant_type": "authorization_code", "code": code})


@pytest.mark.parametrize(
    ("params", "error_class", "status"),
    [
        ({}, oauth_error.InvalidRequestError, 400),
        ({"grant_type": "authorization_code"}, oauth_error.InvalidRequestError, 400),
        ({"grant_type": "password"}, oauth_error.UnsupportedGrantTypeError, 400),
        (
            {"grant_type": "authorization_code", "code": "ac_x"},
            oauth_error.InvalidGrantError,
            400,
        ),
        (
            {"grant_type": "refresh_token", "refresh_token": "rt_x"},
            oauth_error.InvalidGrantError,
            400,
        ),
    ],
)
def test_token_errors_raise_the_sdk_classes(
    sdk: stripe.StripeClient, params: dict[str, str], error_class: type[Exception], status: int
) -> None:
    with pytest.raises(error_class) as caught:
        sdk.oauth.token(params)  # type: ignore[arg-type]
    assert getattr(caught.value, "http_status", None) == status


def test_invalid_client_without_a_key_and_with_a_foreign_key(server: EmulatorServer) -> None:
    response = httpx.post(f"{server.url}/oauth/token", data={"grant_type": "authorization_code"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "No authentication was provided" in response.json()["error_description"]
    stranger = stripe.StripeClient(
        "sk_test_notthisplatform1", base_addresses={"connect": server.url}
    )
    with pytest.raises(oauth_error.InvalidClientError):
        stranger.oauth.token({"grant_type": "authorization_code", "code": "ac_1"})


def test_a_live_key_cannot_redeem_a_test_code(
    sdk: stripe.StripeClient, browser: httpx.Client, server: EmulatorServer
) -> None:
    account = sdk.v1.accounts.create({"type": "standard"}).id
    code = _authorize(sdk, browser, account)["code"][0]
    live = make_client(server, live=True)
    with pytest.raises(oauth_error.InvalidGrantError, match="test mode code"):
        live.oauth.token({"grant_type": "authorization_code", "code": code})


def test_refresh_token_narrows_scope_but_never_widens(
    sdk: stripe.StripeClient, browser: httpx.Client
) -> None:
    account = sdk.v1.accounts.create({"type": "standard"}).id
    url = sdk.oauth.authorize_url({"scope": "read_write", "state": "r"})
    code = _decide(browser, _consent(browser, url), account=account, decision="allow")["code"][0]
    token = sdk.oauth.token({"grant_type": "authorization_code", "code": code})
    narrowed = sdk.oauth.token(
        {"grant_type": "refresh_token", "refresh_token": token.refresh_token, "scope": "read_only"}
    )
    assert narrowed.scope == "read_only"
    assert narrowed.access_token != token.access_token
    first = sdk.oauth.token(
        {"grant_type": "refresh_token", "refresh_token": narrowed.refresh_token}
    )
    assert first.scope == "read_only"
    with pytest.raises(oauth_error.InvalidScopeError):
        sdk.oauth.token(
            {
                "grant_type": "refresh_token",
                "refresh_token": narrowed.refresh_token,
                "scope": "read_write",
            }
        )


def test_deauthorize_cuts_off_stripe_account_calls(
    sdk: stripe.StripeClient, browser: httpx.Client
) -> None:
    account = sdk.v1.accounts.create({"type": "standard"}).id
    code = _authorize(sdk, browser, account)["code"][0]
    sdk.oauth.token({"grant_type": "authorization_code", "code": code})
    result = sdk.oauth.deauthorize({"stripe_user_id": account})
    assert result.stripe_user_id == account
    with pytest.raises(stripe.PermissionError) as caught:
        sdk.v1.customers.list({}, {"stripe_account": account})
    assert caught.value.error is not None
    assert caught.value.error.code == "account_invalid"
    assert re.search(rf"does not have access to account '{account}'", str(caught.value))
    with pytest.raises(oauth_error.InvalidClientError, match="not connected"):
        sdk.oauth.deauthorize({"stripe_user_id": account})


def test_the_account_can_revoke_from_its_side(
    sdk: stripe.StripeClient, browser: httpx.Client
) -> None:
    account = sdk.v1.accounts.create({"type": "standard"}).id
    _authorize(sdk, browser, account)
    page = browser.get(f"/dashboard/{account}/applications")
    assert "Revoke access" in page.text
    revoke = re.search(r'action="([^"]+/revoke)"', page.text)
    assert revoke is not None
    assert browser.post(revoke.group(1)).status_code == 302
    assert "No application has access" in browser.get(f"/dashboard/{account}/applications").text
    with pytest.raises(stripe.PermissionError):
        sdk.v1.customers.list({}, {"stripe_account": account})


def test_authorize_and_deauthorize_create_application_events(
    sdk: stripe.StripeClient, browser: httpx.Client, server: EmulatorServer
) -> None:
    account = sdk.v1.accounts.create({"type": "standard"}).id
    code = _authorize(sdk, browser, account)["code"][0]
    sdk.oauth.token({"grant_type": "authorization_code", "code": code})
    listed = sdk.v1.events.list(
        {"type": "account.application.authorized"}, {"stripe_account": account}
    )
    [authorized] = listed.data
    assert authorized.account == account
    assert authorized.data.object["object"] == "application"
    assert authorized.data.object["id"] == server.emulator.platform.client_id
    assert authorized["request"]["id"] is None  # `.request` is a method of StripeObject
    sdk.oauth.deauthorize({"stripe_user_id": account})
    # After deauthorization the account is out of reach; the stored event is still there.
    from stripe_emulator.store import Scope

    page = server.emulator.store.list_page(Scope(account, False), "event", limit=10)
    types = [row.load()["type"] for row in page.rows]
    assert types[0] == "account.application.deauthorized"
    assert "account.application.authorized" in types


def test_the_consent_page_shows_the_platform_branding(
    sdk: stripe.StripeClient, browser: httpx.Client, server: EmulatorServer
) -> None:
    icon = "data:image/svg+xml;base64,PHN2Zy8+"
    answer = browser.post("/_emulator/platform/branding", json={"name": "Acme Lens", "icon": icon})
    assert answer.status_code == 200
    assert answer.json() == {"name": "Acme Lens", "icon": icon}
    page = browser.get(sdk.oauth.authorize_url({"scope": "read_only"})).text
    assert "Connect Acme Lens to Stripe" in page
    assert f'src="{icon}"' in page
    bad = browser.post("/_emulator/platform/branding", json={"icon": "javascript:alert(1)"})
    assert bad.status_code == 400
    assert "icon must be" in bad.json()["error"]["message"]


def test_branding_comes_from_the_config_until_set() -> None:
    config = EmulatorConfig(redirect_uris=(REDIRECT,), platform_name="Configured Co")
    with EmulatorServer(config) as running:
        client = make_client(running)
        page = httpx.get(client.oauth.authorize_url({"scope": "read_only"})).text
    assert "Connect Configured Co to Stripe" in page
