"""What the mirror reads: every type a metric uses, and nothing it does not."""

from __future__ import annotations

import re

from revlens.metrics.inputs import CASH_TYPES, DISCOUNT_EVENTS, SUBSCRIPTION_EVENTS
from revlens.stripe_api.catalog import (
    HISTORY_EVENT_TYPES,
    STREAMS,
    account_streams,
    object_type_of,
)
from tests.conftest import require_shared


def test_every_type_the_metrics_read_is_backfilled() -> None:
    listed = {stream.object_type for stream in account_streams()}
    assert set(CASH_TYPES) <= listed
    assert {"customer", "subscription", "invoice", "price", "coupon"} <= listed


def test_payment_intents_are_neither_listed_nor_taken_from_events() -> None:
    # No metric reads them: cash comes from charges, refunds, disputes, balance transactions.
    assert "payment_intent" not in {stream.object_type for stream in STREAMS}
    intent = {"object": "payment_intent", "id": "pi_1"}
    assert object_type_of("payment_intent.succeeded", intent) is None
    charge = {"object": "charge", "id": "ch_1"}
    found = object_type_of("charge.succeeded", charge)
    assert found is not None
    assert found.name == "charge"


def test_the_event_history_holds_every_type_the_metrics_read_and_no_other() -> None:
    spec = require_shared("stripe-oracles/openapi/spec3.2023-08-16.yaml").read_text()
    prefixes = tuple(
        pattern.removesuffix("%") for pattern in (SUBSCRIPTION_EVENTS, DISCOUNT_EVENTS)
    )
    defined = set(re.findall(r"\b(customer\.(?:subscription|discount)\.[a-z_]+)\b", spec))
    assert {name for name in defined if name.startswith(prefixes)} == set(HISTORY_EVENT_TYPES)
    assert len(HISTORY_EVENT_TYPES) <= 20  # Stripe's limit on `types`
