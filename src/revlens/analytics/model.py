"""The plain-data model of subscription history that every analytics function reads.

Instants are Unix seconds (int). Amounts are exact (`Fraction`) in the minor unit of their currency
until a customer's total is rounded once. A subscription's history is a tuple of spans [start, end)
during which its status, items, prices, quantities and discounts are constant; each span keeps the
ids of the Stripe objects and events it was built from, so every movement can be explained.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

Instant = int
"""Unix seconds."""


class Interval(StrEnum):
    """A recurring price's billing interval unit."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


class Status(StrEnum):
    """A subscription's status, as Stripe names it."""

    INCOMPLETE = "incomplete"
    INCOMPLETE_EXPIRED = "incomplete_expired"
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELED = "canceled"
    UNPAID = "unpaid"
    PAUSED = "paused"


CONTRIBUTING_STATUSES = frozenset({Status.ACTIVE, Status.PAST_DUE})
TERMINAL_STATUSES = frozenset({Status.CANCELED, Status.INCOMPLETE_EXPIRED})


class BillingScheme(StrEnum):
    """How a price turns a quantity into an amount."""

    PER_UNIT = "per_unit"
    TIERED = "tiered"


class TiersMode(StrEnum):
    """How tiers combine: one tier for the whole quantity, or each tier for its own units."""

    VOLUME = "volume"
    GRADUATED = "graduated"


class UsageType(StrEnum):
    """Licensed prices bill a quantity; metered prices bill reported usage."""

    LICENSED = "licensed"
    METERED = "metered"


class Duration(StrEnum):
    """How long a coupon applies."""

    FOREVER = "forever"
    ONCE = "once"
    REPEATING = "repeating"


@dataclass(frozen=True, slots=True)
class Tier:
    """One tier of a tiered price; `up_to` None is the last, unbounded tier."""

    up_to: int | None
    unit_amount: Fraction = Fraction(0)
    flat_amount: Fraction = Fraction(0)


@dataclass(frozen=True, slots=True)
class Price:
    """A price (or legacy plan); `interval` None means a one-time price, never MRR."""

    id: str
    currency: str
    unit_amount: Fraction = Fraction(0)
    interval: Interval | None = Interval.MONTH
    interval_count: int = 1
    usage_type: UsageType = UsageType.LICENSED
    billing_scheme: BillingScheme = BillingScheme.PER_UNIT
    tiers_mode: TiersMode | None = None
    tiers: tuple[Tier, ...] = ()
    transform_divide_by: int | None = None
    transform_round_up: bool = True

    @property
    def recurring(self) -> bool:
        """Return whether the price bills on a recurring interval."""
        return self.interval is not None


@dataclass(frozen=True, slots=True)
class Coupon:
    """A coupon: `percent_off` (exact, 0-100) or `amount_off` in `currency` per billing period."""

    id: str
    duration: Duration = Duration.FOREVER
    percent_off: Fraction | None = None
    amount_off: int | None = None
    currency: str | None = None
    duration_in_months: int | None = None


@dataclass(frozen=True, slots=True)
class Discount:
    """A coupon applied in [start, end): Stripe sets `end` for repeating coupons, removal too."""

    id: str
    coupon: Coupon
    start: Instant | None = None
    end: Instant | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """A subscription item as it was during a span."""

    id: str
    price: Price
    quantity: int = 1
    discounts: tuple[Discount, ...] = ()


@dataclass(frozen=True, slots=True)
class Span:
    """An interval [start, end) during which a subscription's state is constant.

    `end` None means the state still holds. `past_due_since` is when the current run of `past_due`
    began (it may precede `start`). `sources` are the Stripe ids (events, invoices, the
    subscription) this span was rebuilt from.
    """

    start: Instant
    end: Instant | None
    status: Status
    items: tuple[Item, ...] = ()
    discounts: tuple[Discount, ...] = ()
    past_due_since: Instant | None = None
    sources: tuple[str, ...] = ()

    def contains(self, instant: Instant) -> bool:
        """Return whether the instant falls in [start, end)."""
        return self.start <= instant and (self.end is None or instant < self.end)


@dataclass(frozen=True, slots=True)
class Trial:
    """A trial that ended at `end`; `converted` when the first invoice after it was paid."""

    end: Instant
    converted: bool


@dataclass(frozen=True, slots=True)
class SubscriptionTimeline:
    """The rebuilt history of one subscription: contiguous spans ordered by start.

    `ended_at` is when service ended (churn timing `ended_at`); `paid_through` is the end of the
    last paid service period (churn timing `paid_period_end`). Before the first span the
    subscription did not exist.
    """

    id: str
    customer: str
    currency: str
    spans: tuple[Span, ...]
    ended_at: Instant | None = None
    paid_through: Instant | None = None
    trial: Trial | None = None
    billing_anchor: Instant | None = None
    application_fee_percent: Fraction | None = None
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CustomerHistory:
    """A customer's subscriptions and customer-level discounts (each bounded by start and end)."""

    id: str
    subscriptions: tuple[SubscriptionTimeline, ...] = ()
    discounts: tuple[Discount, ...] = ()
