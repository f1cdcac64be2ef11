"""`revlens webhooks setup`, then the emulator's signed deliveries keep the mirror fresh and a
revocation on the account's side purges the workspace."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from revlens.accounts.models import AccountStatus, ConnectedAccount, DeletionRecord
from revlens.mirror.store import stored_objects
from stripe_emulator.store import Scope
from tests.e2e.conftest import Stack, connect_in_browser, running_worker

pytestmark = pytest.mark.browser


def _revlens(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), **stack.environ}
    return subprocess.run(
        [sys.executable, "-m", "revlens", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _eventually(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_setup_deliveries_and_deauthorization(browser: Browser, stack: Stack) -> None:
    first = _revlens(stack, "webhooks", "setup")
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("created we_") == 2
    again = _revlens(stack, "webhooks", "setup")
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("kept we_") == 2
    assert "created" not in again.stdout
    endpoints = stack.clients.platform().v1.webhook_endpoints.list().data
    assert sorted(e.url for e in endpoints) == [stack.url + "/webhooks/stripe"] * 2

    business = stack.create_business("Hooked Ltd")
    page = browser.new_context().new_page()
    with running_worker(stack):
        connect_in_browser(page, stack, business)
        page.wait_for_url(f"{stack.url}/accounts/{business}*")
        created = stack.clients.platform().v1.customers.create(
            {"email": "live@hooked.example"}, {"stripe_account": business}
        )

        def mirrored() -> bool:
            with stack.database.read() as session:
                rows = stored_objects(session, account_id=business, object_type="customer")
            return any(row["id"] == created.id for row in rows)

        _eventually(mirrored, "the webhook to reach the mirror")
        owner = browser.new_page()
        owner.goto(f"{stack.emulator.url}/dashboard/{business}/applications")
        owner.click("text=Revoke access")

        def purged() -> bool:
            with stack.database.read() as session:
                account = session.get(ConnectedAccount, business)
                return account is not None and account.status is AccountStatus.DISCONNECTED

        _eventually(purged, "the deauthorization webhook to purge the workspace")
    with stack.database.read() as session:
        records = list(session.scalars(select(DeletionRecord)))
        assert stored_objects(session, account_id=business, object_type="customer") == []
    # The webhook, or any call the worker made after the revocation (`account_invalid`), may be
    # first to notice: either purges once, and the other finds nothing left to do.
    assert [r.account_id for r in records] == [business]
    assert records[0].reason in ("deauthorized", "account_invalid")
    events = stack.emulator.emulator.store.list_page(Scope(business, False), "event", limit=100)
    [deauthorized] = [
        row.id for row in events.rows if row.load()["type"] == "account.application.deauthorized"
    ]
    attempts = httpx.get(f"{stack.emulator.url}/_emulator/webhooks/attempts").json()["data"]
    assert any(a["event"] == deauthorized and a["status"] == 200 for a in attempts)
    assert records[0].rows_deleted["mirror_objects"] >= 1
    response = page.goto(f"{stack.url}/accounts/{business}")
    assert response is not None
    assert response.status == 404
    page.context.close()
