"""Failed renewal payments: the retry schedule, and what happens once retries run out.

Stripe's Smart Retries pick their own times; the emulator uses a fixed, documented schedule that
each account can change (`/_emulator/accounts/{id}/billing_settings`):

- an automatically collected invoice (other than a subscription's first, which leaves the
  subscription `incomplete` instead) whose payment fails is retried 3, 5 and 7 days after the
  previous attempt (`retry_days`), so at +3, +8 and +15 days: four attempts in all;
- after the last failure the subscription becomes `canceled` (reason `payment_failed`, the
  default), `unpaid` or stays `past_due` (`subscription_after_retries`), and the invoice stays
  open or is marked uncollectible (`invoice_after_retries`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

import orjson

from stripe_emulator.billing.periods import DAY

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx
    from stripe_emulator.store import Store

JsonObject = dict[str, Any]
SUBSCRIPTION_OUTCOMES = ("canceled", "unpaid", "past_due")
INVOICE_OUTCOMES = ("open", "uncollectible")
MAX_RETRIES = 8


@dataclass(frozen=True)
class BillingSettings:
    """An account's dunning settings."""

    retry_days: tuple[int, ...] = (3, 5, 7)
    subscription_after_retries: str = "canceled"
    invoice_after_retries: str = "open"

    def to_json(self) -> JsonObject:
        """Return the settings as the control API shows them."""
        data = asdict(self)
        data["retry_days"] = list(self.retry_days)
        return data


def _key(account: str) -> str:
    return f"billing_settings:{account}"


def load_settings(store: Store, account: str) -> BillingSettings:
    """Return an account's settings (the defaults until changed)."""
    raw = store.meta_get(_key(account))
    if raw is None:
        return BillingSettings()
    data = orjson.loads(raw)
    return BillingSettings(
        retry_days=tuple(data["retry_days"]),
        subscription_after_retries=data["subscription_after_retries"],
        invoice_after_retries=data["invoice_after_retries"],
    )


def configure(store: Store, account: str, changes: JsonObject) -> BillingSettings:
    """Validate and store changes to an account's settings; unknown keys are a ValueError."""
    settings = load_settings(store, account)
    unknown = set(changes) - set(asdict(settings))
    if unknown:
        raise ValueError(f"unknown billing settings: {', '.join(sorted(unknown))}")
    if "retry_days" in changes:
        days = changes["retry_days"]
        if (
            not isinstance(days, list)
            or len(days) > MAX_RETRIES
            or not all(type(day) is int and 1 <= day <= 60 for day in days)
        ):
            raise ValueError(f"retry_days must be up to {MAX_RETRIES} whole days, each 1-60")
        settings = replace(settings, retry_days=tuple(days))
    for name, allowed in (
        ("subscription_after_retries", SUBSCRIPTION_OUTCOMES),
        ("invoice_after_retries", INVOICE_OUTCOMES),
    ):
        if name in changes:
            if changes[name] not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}")
            settings = replace(settings, **{name: changes[name]})
    store.meta_set(_key(account), orjson.dumps(settings.to_json()).decode())
    return settings


def retried(invoice: JsonObject) -> bool:
    """Tell whether failed payments of this invoice follow the retry schedule."""
    return (
        invoice["collection_method"] == "charge_automatically"
        and bool(invoice.get("auto_advance"))
        and invoice["billing_reason"] != "subscription_create"
    )


def schedule_retry(ctx: Ctx, invoice: JsonObject) -> bool:
    """Set `next_payment_attempt` after a failed attempt; return True when retries ran out."""
    if not retried(invoice):
        invoice["next_payment_attempt"] = None
        return False
    days = load_settings(ctx.store, ctx.scope.account).retry_days
    attempt = int(invoice["attempt_count"])
    if attempt <= len(days):
        invoice["next_payment_attempt"] = ctx.now() + days[attempt - 1] * DAY
        return False
    invoice["next_payment_attempt"] = None
    return True


def give_up(ctx: Ctx, invoice: JsonObject) -> None:
    """Apply the account's outcome once an invoice's last retry failed."""
    from stripe_emulator.billing import collection
    from stripe_emulator.billing.lifecycle import cancel
    from stripe_emulator.billing.subscriptions import invoice_subscription, save, shown

    settings = load_settings(ctx.store, ctx.scope.account)
    if settings.invoice_after_retries == "uncollectible" and invoice["status"] == "open":
        collection.mark_uncollectible(ctx, invoice)
    subscription = invoice_subscription(ctx, invoice)
    if subscription is None or subscription["status"] in ("canceled", "incomplete_expired"):
        return
    if settings.subscription_after_retries == "canceled":
        cancel(ctx, subscription, reason="payment_failed")
    elif settings.subscription_after_retries == "unpaid":
        before = shown(ctx, subscription)
        subscription["status"] = "unpaid"
        save(ctx, subscription, before)
