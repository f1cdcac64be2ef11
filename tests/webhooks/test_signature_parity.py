"""revlens' own v1 check gives the SDK's answer for every header shape (tolerance off)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import stripe

from revlens.stripe_api.webhooks import NO_MATCH, WebhookRejected, verify_webhook

BODY = b'{"id": "evt_1", "object": "event", "type": "customer.updated", "note": "caf\xc3\xa9"}'
T = 1_700_000_000


def _v1(secret: str, signed_timestamp: str | int, body: bytes = BODY) -> str:
    return hmac.new(
        secret.encode(), f"{signed_timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()


GOOD = _v1("whsec_a", T)
OTHER = _v1("whsec_b", T)

HEADERS = [
    f"t={T},v1={GOOD}",
    f"t={T},v1=deadbeef,v1={GOOD}",  # several v1 signatures: any one may match
    f"t={T},v0={GOOD}",  # only v1 counts
    f"v1={GOOD},t={T}",
    f"t={T},t={T + 1},v1={GOOD}",  # the first t is the signed one
    f"t={T + 1},t={T},v1={GOOD}",
    f"t=0{T},v1={GOOD}",  # signed as the int it parses to
    f"t= {T},v1={GOOD}",
    f"t={T}, v1={GOOD}",  # a padded key is not "v1"
    f"t={T},v1={GOOD},v1",  # a v1 without a value spoils the header
    f"t={T},t,v1={GOOD}",  # so does a t without one
    f"t={T},v1={GOOD}=x",  # "=" splits at most twice: the value before the second "=" counts
    f"t={T},v1={GOOD.upper()}",
    f"t={T},v1={OTHER}",
    f"t={T},v1=",
    f"t={T}",
    f"t=-{T},v1={_v1('whsec_a', -T)}",
    f"t=1_700_000_000,v1={GOOD}",
]


def _sdk_accepts(header: str, secrets: list[str]) -> bool:
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(BODY, header, secret, tolerance=None)
        except stripe.SignatureVerificationError:
            continue
        return True
    return False


def _ours_accepts(header: str, secrets: list[str]) -> bool:
    try:
        verify_webhook(BODY, header, secrets, tolerance=10**12, now=lambda: T)
    except WebhookRejected as rejected:
        if str(rejected) == NO_MATCH or "no valid timestamp" in str(rejected):
            return False
        raise
    return True


@pytest.mark.parametrize("header", HEADERS)
@pytest.mark.parametrize(
    "secrets", [["whsec_a"], ["whsec_b"], ["whsec_b", "whsec_a"], ["", "whsec_a"], ["whsec_c"]]
)
def test_the_same_answer_as_the_sdk(header: str, secrets: list[str]) -> None:
    assert _ours_accepts(header, secrets) is _sdk_accepts(header, secrets)


def test_the_cases_that_matter_are_accepted_and_refused() -> None:
    # The parity above would hold for a check that refuses everything.
    assert _ours_accepts(f"t={T},v1=deadbeef,v1={GOOD}", ["whsec_b", "whsec_a"])
    assert _ours_accepts(f"t=0{T},v1={GOOD}", ["whsec_a"])
    assert not _ours_accepts(f"t={T},v1={GOOD}", ["whsec_b"])
    assert not _ours_accepts(f"t={T},v1={GOOD},v1", ["whsec_a"])


def test_a_non_ascii_signature_is_refused_not_an_error() -> None:
    # The SDK's compare raises TypeError on non-ASCII text; a forged header gets a 400.
    with pytest.raises(WebhookRejected, match="no signature matches"):
        verify_webhook(BODY, f"t={T},v1=\u00e9", ["whsec_a"], now=lambda: T)


def test_a_payload_that_is_not_utf8_is_refused() -> None:
    body = b'{"id": "evt_1", "object": "event", "x": "\xff"}'
    header = f"t={T},v1={_v1('whsec_a', T, body)}"
    with pytest.raises(WebhookRejected, match="not UTF-8"):
        verify_webhook(body, header, ["whsec_a"], now=lambda: T)
