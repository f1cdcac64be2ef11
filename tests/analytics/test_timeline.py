"""Rebuilding subscription history from old-shape (acacia) and new-shape (basil+) Stripe JSON."""

from __future__ import annotations

import random
from typing import Any

from revlens.analytics.model import Status
from revlens.analytics.movements import MovementKind, customer_ledger
from revlens.analytics.mrr import customer_mrr, subscription_mrr
from revlens.analytics.payloads import Catalog
from revlens.analytics.presets import PRESETS
from revlens.analytics.timeline import build_customers, build_timeline

from .factories import at

STANDARD = PRESETS["standard"]
JAN, FEB, MAR, APR, MAY = (at(2024, m, 1, 0) for m in (1, 2, 3, 4, 5))
FEB15 = at(2024, 2, 15, 9)


def _old_price(id: str, amount: int) -> dict[str, Any]:
    return {
        "id": id,
        "object": "price",
        "active": True,
        "billing_scheme": "per_unit",
        "currency": "usd",
        "product": "prod_seat",
        "type": "recurring",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
        "unit_amount": amount,
        "unit_amount_decimal": str(amount),
        "tiers_mode": None,
        "transform_quantity": None,
    }


def _old_plan(id: str, amount: int) -> dict[str, Any]:
    return {
        "id": id,
        "object": "plan",
        "amount": amount,
        "amount_decimal": str(amount),
        "currency": "usd",
        "interval": "month",
        "interval_count": 1,
        "usage_type": "licensed",
        "billing_scheme": "per_unit",
    }


BASIC, PRO = _old_price("price_basic", 1_000), _old_price("price_pro", 2_000)

# acacia shape: subscription-level periods, `discount` with `coupon`, invoice.subscription,
# line.price and line.plan. Upgraded basic -> pro on Feb 15; cancel requested Apr 10 at period end.
OLD_SUBSCRIPTION: dict[str, Any] = {
    "id": "sub_old",
    "object": "subscription",
    "customer": "cus_old",
    "currency": "usd",
    "status": "canceled",
    "created": JAN,
    "start_date": JAN,
    "billing_cycle_anchor": JAN,
    "current_period_start": APR,
    "current_period_end": MAY,
    "cancel_at_period_end": True,
    "canceled_at": at(2024, 4, 10),
    "ended_at": MAY,
    "cancel_at": MAY,
    "trial_start": None,
    "trial_end": None,
    "application_fee_percent": None,
    "discount": {
        "object": "discount",
        "id": "di_old",
        "start": JAN,
        "end": APR,
        "coupon": {
            "id": "co_half",
            "object": "coupon",
            "percent_off": 50.0,
            "duration": "repeating",
            "duration_in_months": 3,
            "amount_off": None,
        },
    },
    "items": {
        "object": "list",
        "has_more": False,
        "data": [
            {
                "id": "si_old",
                "object": "subscription_item",
                "quantity": 3,
                "price": PRO,
                "plan": _old_plan("price_pro", 2_000),
            },
        ],
    },
}


def _old_line(
    id: str, price: dict[str, Any], start: int, end: int, amount: int, *, proration: bool = False
) -> dict[str, Any]:
    return {
        "id": id,
        "object": "line_item",
        "amount": amount,
        "currency": "usd",
        "period": {"start": start, "end": end},
        "quantity": 3,
        "proration": proration,
        "type": "invoiceitem" if proration else "subscription",
        "subscription": "sub_old",
        "subscription_item": "si_old",
        "price": price,
        "plan": _old_plan(price["id"], price["unit_amount"]),
    }


def _old_invoice(id: str, created: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": id,
        "object": "invoice",
        "customer": "cus_old",
        "subscription": "sub_old",
        "status": "paid",
        "paid": True,
        "created": created,
        "currency": "usd",
        "billing_reason": "subscription_cycle",
        "amount_due": sum(line["amount"] for line in lines),
        "status_transitions": {"finalized_at": created, "paid_at": created + 60},
        "lines": {"object": "list", "has_more": False, "data": lines},
    }


OLD_INVOICES = [
    _old_invoice("in_jan", JAN, [_old_line("il_1", BASIC, JAN, FEB, 3_000)]),
    _old_invoice("in_feb", FEB, [_old_line("il_2", BASIC, FEB, MAR, 3_000)]),
    _old_invoice(
        "in_mar",
        MAR,
        [
            _old_line("il_3a", BASIC, FEB15, MAR, -1_500, proration=True),
            _old_line("il_3b", PRO, FEB15, MAR, 3_000, proration=True),
            _old_line("il_3c", PRO, MAR, APR, 6_000),
        ],
    ),
    _old_invoice("in_apr", APR, [_old_line("il_4", PRO, APR, MAY, 6_000)]),
]


def test_old_shape_history_comes_from_invoice_lines_not_todays_price() -> None:
    timeline = build_timeline(OLD_SUBSCRIPTION, invoices=OLD_INVOICES)
    value = {t: subscription_mrr(timeline, t, STANDARD) for t in (JAN, FEB15 - 1, FEB15, APR, MAY)}
    assert value == {JAN: 1_500, FEB15 - 1: 1_500, FEB15: 3_000, APR: 6_000, MAY: 0}
    assert timeline.ended_at == MAY  # the period end, never canceled_at (Apr 10)
    assert timeline.paid_through == MAY
    assert timeline.spans[1].sources == ("in_mar",)


def test_old_shape_movements_are_explained_by_the_invoice_behind_them() -> None:
    customers = build_customers(subscriptions=[OLD_SUBSCRIPTION], invoices=OLD_INVOICES)
    ledger = customer_ledger(customers[0], STANDARD)
    kinds = [(m.kind, m.amount) for m in ledger.movements]
    assert kinds == [
        (MovementKind.NEW, 1_500),
        (MovementKind.EXPANSION, 1_500),
        (MovementKind.EXPANSION, 3_000),  # the repeating coupon ended on Apr 1
        (MovementKind.CHURN, -6_000),
    ]
    upgrade = ledger.movements[1].changes[0]
    assert (upgrade.field, upgrade.before, upgrade.after, upgrade.sources) == (
        "price",
        "price_basic",
        "price_pro",
        ("in_mar",),
    )
    assert ledger.movements[2].changes[0].field == "discount"


# dahlia shape: item-level periods, `discounts` ids with `source.coupon`, invoice.parent,
# line.pricing.price_details.price ids. Trial Dec 18 -> Jan 1, 5 seats, 8 seats from Mar 10,
# past due Apr 1 -> Apr 3. Stored events start Mar 10 (the Events API keeps 30 days).
DEC18, MAR10, APR3 = at(2023, 12, 18), at(2024, 3, 10), at(2024, 4, 3)
SEAT = {
    "id": "price_seat",
    "object": "price",
    "type": "recurring",
    "currency": "usd",
    "billing_scheme": "per_unit",
    "unit_amount": 1_500,
    "unit_amount_decimal": "1500",
    "recurring": {
        "interval": "month",
        "interval_count": 1,
        "usage_type": "licensed",
        "meter": None,
        "trial_period_days": None,
    },
    "tiers_mode": None,
    "transform_quantity": None,
    "product": "prod_seat",
}
CATALOG = Catalog(
    prices={"price_seat": SEAT},
    discounts={
        "di_new": {
            "id": "di_new",
            "object": "discount",
            "start": DEC18,
            "end": None,
            "source": {"type": "coupon", "coupon": "co_ten"},
            "subscription": "sub_new",
        }
    },
    coupons={
        "co_ten": {
            "id": "co_ten",
            "object": "coupon",
            "amount_off": 1_000,
            "currency": "usd",
            "duration": "forever",
            "percent_off": None,
        }
    },
)


def _new_subscription(status: str, quantity: int, **changes: Any) -> dict[str, Any]:
    subscription = {
        "id": "sub_new",
        "object": "subscription",
        "customer": "cus_new",
        "currency": "usd",
        "status": status,
        "created": DEC18,
        "start_date": DEC18,
        "billing_cycle_anchor": JAN,
        "trial_start": DEC18,
        "trial_end": JAN,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "discounts": ["di_new"],
        "items": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": "si_new",
                    "object": "subscription_item",
                    "quantity": quantity,
                    "price": SEAT,
                    "discounts": [],
                    "current_period_start": APR,
                    "current_period_end": MAY,
                }
            ],
        },
    }
    subscription.update(changes)
    return subscription


def _event(id: str, created: int, obj: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": id,
        "object": "event",
        "type": "customer.subscription.updated",
        "created": created,
        "api_version": "2026-06-24.dahlia",
        "account": "acct_1",
        "livemode": False,
        "data": {"object": obj, "previous_attributes": previous},
        "request": {"id": None, "idempotency_key": None},
    }


NEW_EVENTS = [
    _event(
        "evt_seats",
        MAR10,
        _new_subscription("active", 8),
        {
            "items": {
                "data": [
                    {
                        "id": "si_new",
                        "object": "subscription_item",
                        "quantity": 5,
                        "price": SEAT,
                        "discounts": [],
                    }
                ]
            }
        },
    ),
    _event("evt_due", APR + 3_600, _new_subscription("past_due", 8), {"status": "active"}),
    _event("evt_paid", APR3, _new_subscription("active", 8), {"status": "past_due"}),
]


def _new_invoice(id: str, created: int, lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": id,
        "object": "invoice",
        "customer": "cus_new",
        "status": "paid",
        "created": created,
        "currency": "usd",
        "billing_reason": "subscription_cycle",
        "amount_due": sum(line["amount"] for line in lines),
        "total": sum(line["amount"] for line in lines),
        "parent": {
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {"subscription": "sub_new", "metadata": {}},
        },
        "status_transitions": {"finalized_at": created, "paid_at": created + 60},
        "lines": {"object": "list", "has_more": False, "data": lines},
    }


def _new_line(id: str, start: int, end: int, quantity: int, amount: int) -> dict[str, Any]:
    return {
        "id": id,
        "object": "line_item",
        "amount": amount,
        "currency": "usd",
        "period": {"start": start, "end": end},
        "quantity": quantity,
        "pricing": {
            "type": "price_details",
            "unit_amount_decimal": "1500",
            "price_details": {"price": "price_seat", "product": "prod_seat"},
        },
        "parent": {
            "type": "subscription_item_details",
            "subscription_item_details": {
                "subscription": "sub_new",
                "subscription_item": "si_new",
                "proration": False,
                "proration_details": {"credited_items": None},
                "invoice_item": None,
            },
        },
    }


NEW_INVOICES = [
    _new_invoice("in_trial", DEC18, [_new_line("il_t", DEC18, JAN, 5, 0)]),
    _new_invoice("in_jan", JAN, [_new_line("il_j", JAN, FEB, 5, 7_500)]),
    _new_invoice("in_feb", FEB, [_new_line("il_f", FEB, MAR, 5, 7_500)]),
    _new_invoice("in_mar", MAR, [_new_line("il_m", MAR, APR, 5, 7_500)]),
]


def test_new_shape_history_from_events_invoices_and_catalog_ids() -> None:
    timeline = build_timeline(
        _new_subscription("active", 8), events=NEW_EVENTS, invoices=NEW_INVOICES, catalog=CATALOG
    )
    statuses = [(span.start, span.status) for span in timeline.spans]
    assert statuses[:2] == [(DEC18, Status.TRIALING), (JAN, Status.ACTIVE)]
    assert (APR + 3_600, Status.PAST_DUE) in statuses
    value = {
        t: subscription_mrr(timeline, t, STANDARD)
        for t in (DEC18, JAN, MAR10 - 1, MAR10, APR + 7_200, APR3)
    }
    assert value == {
        DEC18: 0,
        JAN: 6_500,
        MAR10 - 1: 6_500,
        MAR10: 11_000,
        APR + 7_200: 11_000,
        APR3: 11_000,
    }
    assert timeline.trial is not None
    assert timeline.trial.converted
    assert timeline.trial.end == JAN


def test_events_out_of_order_and_duplicated_give_the_same_history() -> None:
    shuffled = [*NEW_EVENTS, NEW_EVENTS[0], NEW_EVENTS[2]]
    random.Random(7).shuffle(shuffled)
    ordered = build_timeline(
        _new_subscription("active", 8), events=NEW_EVENTS, invoices=NEW_INVOICES, catalog=CATALOG
    )
    messy = build_timeline(
        _new_subscription("active", 8),
        events=shuffled,
        invoices=list(reversed(NEW_INVOICES)),
        catalog=CATALOG,
    )
    assert messy.spans == ordered.spans


def test_past_due_beyond_the_grace_stops_counting_in_baremetrics() -> None:
    long_due = [*NEW_EVENTS[:2]]  # never paid again
    timeline = build_timeline(
        _new_subscription("past_due", 8), events=long_due, invoices=NEW_INVOICES, catalog=CATALOG
    )
    day = 86_400
    assert subscription_mrr(timeline, APR + 3_600 + 29 * day, PRESETS["baremetrics"]) == 11_000
    assert subscription_mrr(timeline, APR + 3_600 + 30 * day, PRESETS["baremetrics"]) == 0
    assert subscription_mrr(timeline, APR + 3_600 + 90 * day, PRESETS["stripe"]) == 11_000


def test_a_missed_trial_end_event_is_dated_at_trial_end() -> None:
    trialing = _new_subscription("trialing", 5)
    created = {
        **_event("evt_created", DEC18, trialing, {}),
        "type": "customer.subscription.created",
    }
    timeline = build_timeline(_new_subscription("active", 5), events=[created], catalog=CATALOG)
    assert [(s.start, s.status) for s in timeline.spans] == [
        (DEC18, Status.TRIALING),
        (JAN, Status.ACTIVE),
    ]
    assert timeline.spans[1].sources == ("sub_new",)


def test_deleted_event_ends_service_at_ended_at() -> None:
    ended = _new_subscription("canceled", 8, ended_at=MAY, canceled_at=APR3)
    deleted = {**_event("evt_deleted", MAY + 5, ended, {}), "type": "customer.subscription.deleted"}
    timeline = build_timeline(
        ended, events=[*NEW_EVENTS, deleted], invoices=NEW_INVOICES, catalog=CATALOG
    )
    assert timeline.ended_at == MAY
    assert subscription_mrr(timeline, MAY - 1, STANDARD) == 11_000
    assert subscription_mrr(timeline, MAY, STANDARD) == 0


def test_only_the_current_object_holds_from_the_start() -> None:
    timeline = build_timeline(
        _new_subscription("active", 2, trial_start=None, trial_end=None), catalog=CATALOG
    )
    assert [(s.start, s.status) for s in timeline.spans] == [(DEC18, Status.ACTIVE)]
    assert subscription_mrr(timeline, JAN, STANDARD) == 2_000


def test_customer_discount_applies_when_the_subscription_has_none() -> None:
    plain = _new_subscription("active", 2, trial_start=None, trial_end=None, discounts=[])
    customer = {
        "id": "cus_new",
        "object": "customer",
        "discount": {
            "id": "di_cus",
            "object": "discount",
            "start": DEC18,
            "end": None,
            "coupon": {"id": "co_q", "object": "coupon", "percent_off": 25, "duration": "forever"},
        },
    }
    [history] = build_customers(customers=[customer], subscriptions=[plain], catalog=CATALOG)
    assert customer_mrr(history, JAN, STANDARD) == {"usd": 2_250}
    with_own = build_customers(
        customers=[customer], subscriptions=[{**plain, "discounts": ["di_new"]}], catalog=CATALOG
    )
    assert customer_mrr(with_own[0], JAN, STANDARD) == {"usd": 2_000}


def test_truncated_lists_are_reported() -> None:
    partial = _new_subscription("active", 2)
    partial["items"] = {**partial["items"], "has_more": True}
    timeline = build_timeline(partial, catalog=CATALOG)
    assert any("has_more" in warning for warning in timeline.warnings)


def test_a_once_discount_used_by_the_first_invoice_counts_for_that_period_only() -> None:
    # Stripe removes a `once` discount as soon as the first invoice used it: the subscription no
    # longer shows it, its invoice does. Presets counting every discount see it for one period.
    once = {
        "id": "di_once",
        "object": "discount",
        "start": JAN,
        "end": None,
        "source": {
            "type": "coupon",
            "coupon": {"id": "ONCE", "duration": "once", "percent_off": 50},
        },
    }
    subscription = {
        "id": "sub_once",
        "object": "subscription",
        "customer": "cus_once",
        "currency": "usd",
        "status": "active",
        "created": JAN,
        "start_date": JAN,
        "billing_cycle_anchor": JAN,
        "discounts": [],
        "items": {
            "object": "list",
            "has_more": False,
            "data": [{"id": "si_once", "object": "subscription_item", "price": PRO, "quantity": 1}],
        },
    }
    invoice = {
        "id": "in_once",
        "object": "invoice",
        "subscription": "sub_once",
        "status": "paid",
        "created": JAN,
        "discounts": [once],
        "lines": {"object": "list", "has_more": False, "data": []},
    }
    timeline = build_timeline(subscription, invoices=[invoice], as_of=MAR)
    everything = PRESETS["profitwell"]
    assert subscription_mrr(timeline, JAN + 86_400, everything) == 1_000
    assert subscription_mrr(timeline, FEB + 86_400, everything) == 2_000
    assert subscription_mrr(timeline, JAN + 86_400, STANDARD) == 2_000  # `once` never counts
