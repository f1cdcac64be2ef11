"""The metrics dashboard after a sync: the MRR tile equals the API; charts, drill-down, keys."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import Stack, connect_in_browser, running_worker

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1280, "height": 800}
NOT_BLANK_BYTES = 20_000  # a blank 1280x800 PNG is a few KB


def _shop(stack: Stack, business: str) -> int:
    """Sell two plans to three customers; return the MRR they make, in cents."""
    client = stack.clients.platform()
    opts: dict[str, Any] = {"stripe_account": business}
    product = client.v1.products.create({"name": "Plan"}, opts)
    prices = [
        client.v1.prices.create(
            {
                "product": product.id,
                "unit_amount": amount,
                "currency": "usd",
                "recurring": {"interval": interval},
            },
            opts,
        ).id
        for amount, interval in ((4_900, "month"), (120_000, "year"))
    ]
    for name, price, quantity in (("Ada", 0, 2), ("Bob", 1, 1), ("Cyd", 0, 1)):
        customer = client.v1.customers.create(
            {"name": name, "email": f"{name.lower()}@co.example"}, opts
        )
        method = client.v1.payment_methods.attach("pm_card_visa", {"customer": customer.id}, opts)
        client.v1.customers.update(
            customer.id, {"invoice_settings": {"default_payment_method": method.id}}, opts
        )
        client.v1.subscriptions.create(
            {"customer": customer.id, "items": [{"price": prices[price], "quantity": quantity}]},
            opts,
        )
    return 2 * 4_900 + 10_000 + 4_900


def _api_mrr(page: Page, stack: Stack, business: str, end: str) -> int | None:
    answer = page.context.request.get(
        f"{stack.url}/api/v1/accounts/{business}/metrics?interval=day&start=2020-01-01&end={end}"
    )
    if answer.status != 200:
        return None
    mrr: int = answer.json()["series"][-1]["mrr"]
    return mrr


def test_dashboard_shows_the_metrics_of_the_api(
    browser: Browser, stack: Stack, shoot: Callable[[Page, str], Path]
) -> None:
    business = stack.create_business("Metrics Co")
    expected = _shop(stack, business)
    page = browser.new_context(viewport=VIEWPORT).new_page()
    connect_in_browser(page, stack, business)
    page.wait_for_url(f"{stack.url}/accounts/{business}*")
    with running_worker(stack):
        expect(page.locator("#sync-state")).to_contain_text("mirrored", timeout=60_000)
        end = page.input_value("#pick-end")
        # The backfill's completion queues the recompute; wait until the API answers with it.
        for _ in range(300):
            if _api_mrr(page, stack, business, end) == expected:
                break
            page.wait_for_timeout(200)
        assert _api_mrr(page, stack, business, end) == expected
    page.reload()
    tile = page.locator("#mrr-tile")
    expect(tile).not_to_have_attribute("data-value", "", timeout=30_000)
    expect(page.locator("#metrics")).to_have_attribute("data-loaded", "true")
    end = page.input_value("#pick-end")
    assert int(tile.get_attribute("data-value") or "0") == _api_mrr(page, stack, business, end)
    assert tile.inner_text() == "$247.00"
    assert tile.get_attribute("data-date") == end
    assert page.inner_text("#customers-tile") == "3"
    assert page.locator("#chart-mrr svg path").count() >= 2
    assert page.locator("#chart-mrr svg rect").count() >= 1  # the new-MRR bar
    expect(page.locator("#customers tbody tr")).to_have_count(3)
    expect(page.locator("#cohorts table tbody tr")).to_have_count(1)
    assert "Data as of" in page.inner_text("#metrics-asof")
    assert "sync: complete" in page.inner_text("#metrics-sync")
    shots = [shoot(page, "1-dashboard")]
    page.evaluate("document.getElementById('metrics').scrollIntoView()")
    shots.append(shots[0].parent / "1-viewport.png")
    page.screenshot(path=str(shots[-1]))  # what a 1280x800 screen shows of the metrics

    page.click("#customers tbody tr >> text=Bob")
    expect(page.locator("#customer-detail")).to_be_visible()
    expect(page.locator("#customer-movements tbody tr")).to_have_count(1)
    assert "new" in page.inner_text("#customer-movements tbody")
    shots.append(shoot(page, "2-drill-down"))

    page.select_option("#pick-interval", "day")
    page.click("#metrics-controls button")
    expect(page).to_have_url(re.compile(r"interval=day"))
    expect(page.locator("#metrics")).to_have_attribute("data-loaded", "true")
    assert page.locator("#chart-mrr svg rect").count() >= 1
    shots.append(shoot(page, "3-daily"))

    page.goto(f"{stack.url}/accounts/{business}/settings/api-keys")
    page.fill("#key-name", "spreadsheet")
    page.click("#create-key")
    token = page.inner_text("#new-key-token")
    shots.append(shoot(page, "4-api-key"))
    answer = httpx.get(
        f"{stack.url}/api/v1/accounts/{business}/metrics",
        params={"end": end},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200
    assert answer.json()["series"][-1]["mrr"] == expected
    for shot in shots:
        assert shot.stat().st_size > NOT_BLANK_BYTES, shot
    page.context.close()
