"""Webhook verification against Stripe's published vector and rolled secrets."""

from __future__ import annotations

import json

import pytest

from revlens.stripe_api.webhooks import WebhookRejected, sign_payload, verify_webhook
from tests.conftest import require_shared

VECTOR_T = 1533204620
VECTOR_HEADER = (
    "t=1533204620,"
    "v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,"
    "v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef"
)


def _vector() -> bytes:
    return require_shared("stripe-oracles/signature-vector/event_test_signature.json").read_bytes()


def test_published_vector_is_accepted_within_tolerance() -> None:
    event = verify_webhook(_vector(), VECTOR_HEADER, ["webhook_secret"], now=lambda: VECTOR_T + 100)
    assert event["object"] == "event"
    assert event["id"] == json.loads(_vector())["id"]


def test_published_vector_is_rejected_past_tolerance() -> None:
    with pytest.raises(WebhookRejected, match="older than 300 s"):
        verify_webhook(_vector(), VECTOR_HEADER, ["webhook_secret"], now=lambda: VECTOR_T + 400)


def test_our_signer_reproduces_the_published_v1() -> None:
    header = sign_payload(_vector(), "webhook_secret", timestamp=VECTOR_T)
    assert header == VECTOR_HEADER.rsplit(",", 1)[0]


def test_the_vector_without_its_trailing_newline_has_another_signature() -> None:
    header = sign_payload(_vector().rstrip(b"\n"), "webhook_secret", timestamp=VECTOR_T)
    assert header.endswith("v1=8c506d7d19ece69e9a38e398964787dda54eeb2583381ffc7f56070c28d7f119")


def test_any_configured_secret_verifies_while_rolling() -> None:
    body = json.dumps({"id": "evt_1", "object": "event", "type": "customer.created"}).encode()
    header = sign_payload(body, "whsec_new", timestamp=1000)
    event = verify_webhook(body, header, ["whsec_old", "whsec_new"], now=lambda: 1000)
    assert event["id"] == "evt_1"
    with pytest.raises(WebhookRejected, match="no signature matches"):
        verify_webhook(body, header, ["whsec_old"], now=lambda: 1000)


@pytest.mark.parametrize(
    ("header", "secrets", "reason"),
    [
        (None, ["whsec_a"], "missing Stripe-Signature"),
        ("v1=abc", ["whsec_a"], "no valid timestamp"),
        ("t=abc,v1=abc", ["whsec_a"], "no valid timestamp"),
        ("t=1000,v1=deadbeef", ["whsec_a"], "no signature matches"),
        ("t=1000,v1=deadbeef", [], "no webhook secret is configured"),
    ],
)
def test_bad_signatures_say_why(header: str | None, secrets: list[str], reason: str) -> None:
    with pytest.raises(WebhookRejected, match=reason):
        verify_webhook(b"{}", header, secrets, now=lambda: 1000)


def test_a_signed_payload_that_is_not_an_event_is_rejected() -> None:
    for body, reason in ((b"{not json", "not JSON"), (b'{"object": "customer"}', "not a Stripe")):
        header = sign_payload(body, "whsec_a", timestamp=1000)
        with pytest.raises(WebhookRejected, match=reason):
            verify_webhook(body, header, ["whsec_a"], now=lambda: 1000)
