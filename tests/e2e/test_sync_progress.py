"""After connecting, the dashboard shows the backfill's progress, then the finished mirror."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from revlens.mirror.store import stored_objects
from tests.e2e.conftest import Stack, connect_in_browser, running_worker

pytestmark = pytest.mark.browser


def test_connect_then_watch_the_backfill_complete(
    browser: Browser, stack: Stack, shoot: Callable[[Page, str], Path]
) -> None:
    business = stack.create_business("Progress Co")
    client = stack.clients.platform()
    for n in range(120):
        client.v1.customers.create({"email": f"p{n}@co.example"}, {"stripe_account": business})
    page = browser.new_context().new_page()
    connect_in_browser(page, stack, business)
    page.wait_for_url(f"{stack.url}/accounts/{business}")
    shoot(page, "1-before-worker")
    assert page.is_visible("#sync-progress") or "mirrored" in page.inner_text("#sync-state")
    with running_worker(stack):
        expect(page.locator("#sync-state")).to_contain_text("mirrored", timeout=60_000)
    shoot(page, "2-complete")
    customers = page.locator('tr[data-stream="customers"] td').nth(2).inner_text()
    assert customers == "120"
    with stack.database.read() as session:
        assert len(stored_objects(session, account_id=business, object_type="customer")) == 120
    page.context.close()
