"""Subscribing from the plans page in a real browser, right after connecting."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import select

from revlens.billing.models import BillingSubscription
from revlens.billing.plans import parse_billing
from revlens.billing.service import setup_prices
from tests.billing.conftest import PLANS
from tests.e2e.conftest import Stack, connect_in_browser, make_stack

pytestmark = pytest.mark.browser

Shoot = Callable[[Page, str], Path]


@pytest.fixture
def billing_stack(fresh_database_url: str, tmp_path: Path) -> Iterator[Stack]:
    """The e2e stack with plans configured and their prices made by `billing setup`."""

    def make_prices(stack: Stack) -> None:
        setup_prices(stack.database, stack.clients, stack.settings.billing)

    yield from make_stack(
        fresh_database_url,
        tmp_path,
        overrides={"billing": parse_billing(PLANS)},
        before_serving=make_prices,
    )


def test_subscribe_from_the_plans_page(
    browser: Browser, billing_stack: Stack, shoot: Shoot
) -> None:
    stack = billing_stack
    business = stack.create_business("Paying Pixels")
    page = browser.new_page()
    connect_in_browser(page, stack, business)
    # A new workspace without a plan lands on the plans.
    page.wait_for_url(f"{stack.url}/accounts/{business}/billing")
    shoot(page, "1-plans")
    assert page.inner_text("#current-plan") == "Free"
    assert page.is_visible("#continue-free")
    page.click("#choose-starter")
    page.wait_for_url(f"{stack.url}/accounts/{business}/billing/subscribe/starter")
    page.fill("#billing-email", "owner@pixels.example")
    page.check("input[name=payment_method][value=pm_card_chargeDeclined]")
    page.click("#subscribe")
    assert "declined" in page.inner_text("#billing-error")
    shoot(page, "2-declined")
    page.click("#choose-starter")
    page.check("input[name=payment_method][value=pm_card_visa]")
    shoot(page, "3-card")
    page.click("#subscribe")
    page.wait_for_url(f"{stack.url}/accounts/{business}?notice=subscribed")
    page.click("#plan-link")
    page.wait_for_url(f"{stack.url}/accounts/{business}/billing")
    shoot(page, "4-subscribed")
    assert page.inner_text("#current-plan") == "Starter"
    assert page.inner_text("#subscription-status") == "trialing"
    with stack.database.read() as session:
        [sub] = session.scalars(select(BillingSubscription)).all()
    customer = stack.clients.platform().v1.customers.retrieve(sub.customer_id)
    assert customer.email == "owner@pixels.example"
    assert customer.metadata["revlens_account"] == business
    # Upgrade from the same page.
    page.click("#change-pro")
    page.wait_for_url(f"{stack.url}/accounts/{business}/billing?notice=changed")
    assert page.inner_text("#current-plan") == "Pro"
    page.click("#cancel-subscription")
    page.wait_for_url(f"{stack.url}/accounts/{business}/billing?notice=canceled")
    assert "(ends at period end)" in page.inner_text("#subscription-status")
    shoot(page, "5-canceled")
    page.close()
