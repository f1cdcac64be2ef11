"""Gates where the features live: connect, metrics history, CSV, API keys; the pages; who pays."""

from __future__ import annotations

import time
from datetime import date, timedelta

from revlens.accounts.service import get_account
from revlens.billing.linking import after_connect
from revlens.billing.service import subscribe
from revlens.db.types import utcnow
from revlens.metrics.api_keys import create_api_key
from revlens.metrics.params import limit_history, query
from revlens.metrics.service import recompute_account
from stripe_emulator.store import Scope
from tests.billing.conftest import ADMIN_TOKEN, Platform

DEAUTHORIZED = "account.application.deauthorized"


def _subscribe(platform: Platform, account: str, plan: str) -> None:
    subscribe(
        platform.database,
        platform.clients,
        platform.billing,
        account_id=account,
        plan_key=plan,
        payment_method="pm_card_visa",
    )


def _ready(platform: Platform, account: str) -> None:
    with platform.database.unit_of_work() as session:
        recompute_account(session, account_id=account, presets=["standard"])


def test_metrics_csv_api_and_history_follow_the_plan(platform: Platform) -> None:
    account = platform.connect("Gated Co")
    _ready(platform, account)
    with platform.database.unit_of_work() as session:
        _, key = create_api_key(session, account_id=account, name="sheet", now=utcnow())
    platform.sign_in(account)
    path = f"/api/v1/accounts/{account}/metrics"
    today = date.today()
    year_ago = (today - timedelta(days=365)).isoformat()
    # Free: 30 days of history, no CSV, no API.
    page = platform.client.get(path, params={"start": year_ago, "interval": "day"})
    assert page.status_code == 200, page.text
    assert page.json()["start"] == (today - timedelta(days=30)).isoformat()
    old = platform.client.get(path, params={"start": "2020-01-01", "end": "2020-06-01"})
    assert old.status_code == 422
    earliest = (today - timedelta(days=30)).isoformat()
    assert old.json()["detail"] == (
        f"this plan shows history from {earliest} on: end must be after {earliest}"
    )
    csv = platform.client.get(path, params={"format": "csv"})
    assert (csv.status_code, csv.json()["detail"]) == (
        403,
        "CSV export is not part of the Free plan.",
    )
    customers = platform.client.get(
        f"/api/v1/accounts/{account}/customers", params={"end": "2020-01-01"}
    )
    assert customers.status_code == 422
    assert customers.json()["detail"].startswith("this plan shows history from ")
    csrf = platform.sign_in(account)
    new_key = platform.client.post(
        f"/accounts/{account}/settings/api-keys", data={"csrf_token": csrf, "name": "x"}
    )
    assert new_key.status_code == 403
    assert "API access is not part of the Free plan." in new_key.text
    bearer = {"Authorization": f"Bearer {key}"}
    platform.client.cookies.clear()  # the key alone, no browser session
    by_key = platform.client.get(path, headers=bearer)
    assert (by_key.status_code, by_key.json()["detail"]) == (
        403,
        "API access is not part of the Free plan.",
    )
    # The operator is never gated.
    admin = platform.client.get(
        path, params={"format": "csv"}, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert admin.status_code == 200
    # Pro: all history, CSV and API.
    _subscribe(platform, account, "pro")
    platform.sign_in(account)
    page = platform.client.get(path, params={"start": year_ago})
    assert page.json()["start"] == year_ago
    csv = platform.client.get(path, params={"format": "csv"})
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    platform.client.cookies.clear()
    assert platform.client.get(path, headers=bearer).status_code == 200


def test_history_limit_is_a_start_no_earlier_than_the_plan() -> None:
    checked = query(start="2026-01-01", end="2026-03-01", interval="day")
    assert limit_history(checked, None) is checked
    assert limit_history(checked, date(2025, 12, 1)) is checked
    assert limit_history(checked, date(2026, 2, 1)).start == date(2026, 2, 1)


def test_connecting_more_accounts_than_the_plan_covers_is_refused(platform: Platform) -> None:
    first = platform.connect("First Co")
    csrf = platform.sign_in(first)
    refused = platform.client.post("/connect", data={"csrf_token": csrf})
    assert refused.status_code == 403
    assert "The Free plan covers 1 connected account; upgrade to connect another." in refused.text
    _subscribe(platform, first, "pro")  # covers 3
    allowed = platform.client.post("/connect", data={"csrf_token": csrf})
    assert allowed.status_code == 303
    assert allowed.headers["location"].startswith(platform.emulator.url + "/oauth/authorize")
    now = platform.now()
    second, third, fourth = (platform.connect(name) for name in ("Second", "Third", "Fourth"))
    for account in (second, third):
        landing = after_connect(
            platform.database, platform.billing, account_id=account, signed_in=first, now=now
        )
        assert landing == (f"/accounts/{account}", None)
        assert platform.access(account).plan.key == "pro"
    landing = after_connect(
        platform.database, platform.billing, account_id=fourth, signed_in=first, now=now
    )
    assert landing == (
        f"/accounts/{fourth}/billing",
        "The Pro plan covers 3 connected accounts; upgrade to connect another.",
    )
    assert platform.access(fourth).plan.key == "free"
    # Someone not signed in lands on the plans page of the account they connected.
    alone = after_connect(
        platform.database, platform.billing, account_id=fourth, signed_in=None, now=now
    )
    assert alone == (f"/accounts/{fourth}/billing", None)


def test_plans_page_subscribe_change_and_cancel_forms(platform: Platform) -> None:
    account = platform.connect("Form Co")
    csrf = platform.sign_in(account)
    plans = platform.client.get(f"/accounts/{account}/billing")
    assert plans.status_code == 200
    assert 'id="choose-starter"' in plans.text
    assert 'id="continue-free"' in plans.text
    payment = platform.client.get(f"/accounts/{account}/billing/subscribe/starter")
    assert 'value="pm_card_visa"' in payment.text
    form = {"csrf_token": csrf, "plan": "starter"}
    bogus = platform.client.post(
        f"/accounts/{account}/billing/subscribe",
        data={**form, "payment_method": "pm_card_bogus"},
    )
    assert bogus.status_code == 400
    assert "payment_method: &#39;pm_card_bogus&#39; is not one of the test cards." in bogus.text
    declined = platform.client.post(
        f"/accounts/{account}/billing/subscribe",
        data={**form, "payment_method": "pm_card_chargeDeclined"},
    )
    assert declined.status_code == 400
    assert "declined" in declined.text
    done = platform.client.post(
        f"/accounts/{account}/billing/subscribe",
        data={**form, "payment_method": "pm_card_visa", "email": "a@form.example"},
    )
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/accounts/{account}?notice=subscribed",
    )
    page = platform.client.get(f"/accounts/{account}/billing")
    assert '<dd id="current-plan">Starter</dd>' in page.text
    assert "trialing" in page.text
    changed = platform.client.post(
        f"/accounts/{account}/billing/change", data={"csrf_token": csrf, "plan": "pro"}
    )
    assert changed.status_code == 303
    assert platform.access(account).plan.key == "pro"
    unknown = platform.client.post(
        f"/accounts/{account}/billing/change", data={"csrf_token": csrf, "plan": "gold"}
    )
    assert unknown.status_code == 400
    assert "plan: there is no plan &#39;gold&#39;" in unknown.text
    canceled = platform.client.post(
        f"/accounts/{account}/billing/cancel", data={"csrf_token": csrf}
    )
    assert canceled.status_code == 303
    page = platform.client.get(f"/accounts/{account}/billing")
    assert "(ends at period end)" in page.text
    assert 'id="resume-subscription"' in page.text
    forged = platform.client.post(f"/accounts/{account}/billing/cancel", data={})
    assert forged.status_code == 403


def test_operator_sees_who_pays(platform: Platform) -> None:
    paying = platform.connect("Paying Co")
    free = platform.connect("Free Co")
    _subscribe(platform, paying, "pro")
    unauthenticated = platform.client.get("/api/v1/billing/customers")
    assert unauthenticated.status_code == 401
    listed = platform.client.get(
        "/api/v1/billing/customers", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    rows = {row["account"]: row for row in listed.json()["data"]}
    assert {k: rows[paying][k] for k in ("plan", "status", "paying", "in_grace")} == {
        "plan": "pro",
        "status": "active",
        "paying": True,
        "in_grace": False,
    }
    assert rows[paying]["customer"].startswith("cus_")
    assert rows[paying]["current_period_end"] == "2026-02-01T00:00:00+00:00"
    assert {k: rows[free][k] for k in ("plan", "status", "paying", "customer")} == {
        "plan": "free",
        "status": "none",
        "paying": False,
        "customer": None,
    }
    platform.sign_in_operator()
    page = platform.client.get("/admin")
    assert f'data-account="{paying}"' in page.text
    assert "Application fees are off: this deployment connects accounts with the read_only" in (
        page.text
    )


def test_disconnecting_ends_the_subscription_unless_it_is_shared(platform: Platform) -> None:
    owner = platform.connect("Owner Co")
    _subscribe(platform, owner, "pro")
    second = platform.connect("Second Co")
    after_connect(
        platform.database, platform.billing, account_id=second, signed_in=owner, now=platform.now()
    )
    csrf = platform.sign_in(second)
    gone = platform.client.post(f"/accounts/{second}/disconnect", data={"csrf_token": csrf})
    assert gone.status_code == 303
    [running] = platform.stripe.v1.subscriptions.list({"limit": 10}).data
    assert running.cancel_at_period_end is False  # the owner's workspace still uses it
    csrf = platform.sign_in(owner)
    gone = platform.client.post(f"/accounts/{owner}/disconnect", data={"csrf_token": csrf})
    assert gone.status_code == 303
    ending = platform.stripe.v1.subscriptions.retrieve(running.id)
    assert ending.cancel_at_period_end is True
    # The operator still sees the subscription until it ends.
    listed = platform.client.get(
        "/api/v1/billing/customers", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    ).json()["data"]
    assert [(r["account"], r["connected"], r["status"], r["plan"]) for r in listed] == [
        (owner, False, "active", "pro")
    ]
    assert listed[0]["cancel_at_period_end"] is True


def test_a_deauthorization_webhook_ends_the_plan_and_purges_the_workspace(
    platform: Platform,
) -> None:
    owner = platform.connect("Leaving Co")
    _subscribe(platform, owner, "pro")
    # The account revokes revlens at Stripe; the emulator records the event Stripe sends.
    platform.stripe.oauth.deauthorize({"stripe_user_id": owner})
    page = platform.emulator.emulator.store.list_page(Scope(owner, False), "event", limit=10)
    [event] = [row.load() for row in page.rows if row.load()["type"] == DEAUTHORIZED]
    answer = platform.post_event(event)
    assert answer.status_code == 200, answer.text
    # The purge removes the event with the rest of the workspace: wait for the account to go.
    deadline = time.monotonic() + 30
    while True:
        with platform.database.read() as session:
            account = get_account(session, owner)
            if account is None or not account.is_connected:
                break
        assert time.monotonic() < deadline, "the deauthorization was never applied"
        time.sleep(0.05)
    [running] = platform.stripe.v1.subscriptions.list({"limit": 10}).data
    assert (running.status, running.cancel_at_period_end) == ("active", True)
