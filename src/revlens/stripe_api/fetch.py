"""Reading Stripe for the mirror: list pages and objects, within budget, retried with backoff."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, cast

import orjson
import stripe

from revlens.stripe_api.budget import BudgetSource
from revlens.stripe_api.client import StripeClients
from revlens.stripe_api.errors import Verdict, classify, retry_after_hint

# Reads of the platform's own account (no Stripe-Account header) use this account id.
PLATFORM = "platform"
MAX_ATTEMPTS = 8
BASE_DELAY_S = 0.25
MAX_DELAY_S = 20.0
_ID = re.compile(r"/(?:acct|cus|sub|in|ii|ch|re|dp|pi|txn|fee|prod|price|plan|promo|txr)_[^/]+")


@dataclass(frozen=True)
class Page:
    """One page of a list: the raw objects, whether more follow, and Stripe's clock."""

    data: list[dict[str, Any]]
    has_more: bool
    server_time: int


@dataclass
class Counters:
    """What reading one account cost: requests, 429s and retries."""

    requests: int = 0
    rate_limited: int = 0
    retries: int = 0

    def add(self, other: Counters) -> None:
        """Add another set of counts to this one."""
        self.requests += other.requests
        self.rate_limited += other.rate_limited
        self.retries += other.retries


class StripeUnavailable(Exception):
    """Stripe kept failing after every retry; `verdict` says how the last attempt failed."""

    def __init__(self, verdict: Verdict, error: stripe.StripeError) -> None:
        super().__init__(f"{verdict.value}: {error}")
        self.verdict = verdict
        self.error = error


@dataclass
class Fetcher:
    """Reads on behalf of connected accounts through the SDK, one budget per account."""

    clients: StripeClients
    budgets: BudgetSource
    max_attempts: int = MAX_ATTEMPTS
    base_delay: float = BASE_DELAY_S
    sleep: Callable[[float], None] = time.sleep

    def list_page(
        self,
        account_id: str,
        path: str,
        params: Mapping[str, Any],
        counters: Counters | None = None,
    ) -> Page:
        """Return one page of a list endpoint (limit 100 unless params say otherwise)."""
        body, headers = self._get(account_id, path, {"limit": 100, **params}, counters)
        return Page(list(body["data"]), bool(body["has_more"]), _server_time(headers))

    def retrieve(
        self, account_id: str, path: str, counters: Counters | None = None
    ) -> tuple[dict[str, Any], int]:
        """Return one object and Stripe's clock at the time it was read."""
        body, headers = self._get(account_id, path, {}, counters)
        return body, _server_time(headers)

    def _get(
        self,
        account_id: str,
        path: str,
        params: Mapping[str, Any],
        counters: Counters | None,
    ) -> tuple[dict[str, Any], Mapping[str, str]]:
        client = (
            self.clients.platform()
            if account_id == PLATFORM
            else self.clients.for_account(account_id)
        )
        budget = self.budgets.of(account_id)
        endpoint = "GET " + _ID.sub("/{id}", path)
        counters = counters if counters is not None else Counters()
        for attempt in range(self.max_attempts):
            budget.acquire(endpoint)
            counters.requests += 1
            try:
                data, headers = get_json(client, path, params)
            except stripe.StripeError as error:
                verdict = classify(error)  # raises for anything not named in the policy
                if verdict is not Verdict.RETRY or retry_after_hint(error) is False:
                    raise StripeUnavailable(verdict, error) from error
                if isinstance(error, stripe.RateLimitError) or error.http_status == 429:
                    reason = (error.headers or {}).get("Stripe-Rate-Limited-Reason") or (
                        error.headers or {}
                    ).get("stripe-rate-limited-reason")
                    budget.rate_limited(endpoint, reason)
                    counters.rate_limited += 1
                if attempt + 1 == self.max_attempts:
                    raise StripeUnavailable(verdict, error) from error
                counters.retries += 1
                # Full jitter keeps many workers from retrying in lockstep.
                self.sleep(random.uniform(0, min(MAX_DELAY_S, self.base_delay * 2**attempt)))
                continue
            budget.succeeded(endpoint)
            return data, headers
        raise AssertionError("unreachable")


def get_json(
    client: stripe.StripeClient, path: str, params: Mapping[str, Any]
) -> tuple[dict[str, Any], Mapping[str, str]]:
    """GET a v1 path through the SDK and decode the answer with orjson.

    The request is the SDK's own (key, `Stripe-Account`, version, headers, connection errors) and
    so is every error raised for a failed answer; only a successful body is decoded here. The
    SDK decodes it with `json` into an `OrderedDict` per object, which was 28 % of a backfill
    worker's CPU (py-spy, the demo's largest account); orjson does the same in a fraction.
    `StripeClient.raw_request` offers no way around it, so its two steps are taken here.
    """
    requestor = client._requestor  # private: see the docstring
    body, code, headers = requestor.request_raw(
        "get", path, dict(params), base_address="api", api_mode="V1", usage=["raw_request"]
    )
    if not 200 <= code < 300:
        requestor._interpret_response(body, code, headers, "V1")  # raises
        raise AssertionError(f"the SDK took HTTP {code} for a success")
    raw = cast(bytes, body)
    try:
        decoded = orjson.loads(raw)
    except orjson.JSONDecodeError:
        decoded = None
    if not isinstance(decoded, dict):
        # As the SDK says it (an APIError), with the start of the body only.
        raise stripe.APIError(
            f"Invalid response body from API: {raw[:200]!r} (HTTP response code was {code})",
            raw,
            code,
            headers,
        )
    return decoded, headers


def _server_time(headers: Mapping[str, str]) -> int:
    """Return Stripe's clock from the Date header (the local clock when it is missing)."""
    value = next((v for k, v in headers.items() if k.lower() == "date"), None)
    if value:
        try:
            return int(parsedate_to_datetime(value).timestamp())
        except (TypeError, ValueError):
            pass
    return int(time.time())
