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
from revlens.config import load_settings
from revlens.db import migrate
from revlens.db.session import Database
from revlens.stripe_api.client import StripeClients
from revlens.web.app import create_app
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from tests.billing.conftest import PLANS
from tests.e2e.conftest import Stack, connect_in_browser
from tests.live_server import free_port, live_server

pytestmark = pytest.mark.browser

Shoot = Callable[[Page, str], Path]


@pytest.fixture
def billing_stack(fresh_database_url: str, tmp_path: Path) -> Iterator[Stack]:
    """The e2e stack with plans configured and their prices made by `billing setup`."""
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    config = EmulatorConfig(control=True, redirect_uris=(public_url + "/oauth/callback",))
    with EmulatorServer(config) as emulator:
        platform = emulator.emulator.platform
        environ = {
            "REVLENS_DATA_DIR": str(tmp_path / "data"),
            "REVLENS_DATABASE_URL": fresh_database_url,
            "REVLENS_PUBLIC_URL": public_url,
            "REVLENS_STRIPE_SECRET_KEY": platform.secret_key_test,
            "REVLENS_STRIPE_CLIENT_ID": platform.client_id,
            "REVLENS_STRIPE_API_BASE": emulator.url,
            "REVLENS_STRIPE_CONNECT_BASE": emulator.url,
        }
        settings = load_settings(environ, overrides={"billing": parse_billing(PLANS)})
        database = Database.from_url(settings.database_url)
        migrate.upgrade(database.engine)
        clients = StripeClients(settings)
        setup_prices(database, clients, settings.billing)
        app = create_app(settings, database=database)
        with live_server(app, port=port) as url:
            yield Stack(emulator, url, settings, database, clients, environ)
        database.dispose()


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
