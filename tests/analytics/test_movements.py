"""Movement classification, explanations, and MRR(end) - MRR(start) = sum of movements."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from revlens.analytics.days import LocalDays
from revlens.analytics.model import CustomerHistory, Duration, Interval, Item, Status
from revlens.analytics.movements import MovementKind, classify, customer_ledger
from revlens.analytics.mrr import customer_mrr, value_at_day
from revlens.analytics.presets import PRESETS

from .factories import T0, at, changing, coupon_discount, customer, day, item, price, subscription

STANDARD = PRESETS["standard"]


def test_classification_table() -> None:
    assert classify(0, 100, paid_before=False) is MovementKind.NEW
    assert classify(0, 100, paid_before=True) is MovementKind.REACTIVATION
    assert classify(100, 0, paid_before=True) is MovementKind.CHURN
    assert classify(100, 150, paid_before=True) is MovementKind.EXPANSION
    assert classify(150, 100, paid_before=True) is MovementKind.CONTRACTION
    assert classify(100, 100, paid_before=True) is None


def test_two_subscriptions_bought_the_same_day_are_one_new() -> None:
    first = subscription("s1", "c", [item(price(1_000))], start=at(2024, 1, 3, 9))
    second = subscription("s2", "c", [item(price(2_000))], start=at(2024, 1, 3, 15))
    [movement] = customer_ledger(customer("c", first, second), STANDARD).movements
    assert (movement.kind, movement.amount) == (MovementKind.NEW, 3_000)
    assert {change.subscription for change in movement.changes} == {"s1", "s2"}


def test_churn_then_comeback_is_reactivation() -> None:
    first = subscription("s1", "c", [item(price(1_000))], ended_at=at(2024, 2, 1))
    later = subscription("s2", "c", [item(price(1_500))], start=at(2024, 4, 1))
    kinds = [m.kind for m in customer_ledger(customer("c", first, later), STANDARD).movements]
    assert kinds == [MovementKind.NEW, MovementKind.CHURN, MovementKind.REACTIVATION]


def test_moving_to_a_free_plan_or_a_full_discount_is_churn() -> None:
    paid, free = item(price(1_000, id="price_paid")), item(price(0, id="price_free"))
    sub = changing(
        "s", "c", [(T0, Status.ACTIVE, (paid,)), (at(2024, 3, 1), Status.ACTIVE, (free,))]
    )
    movements = customer_ledger(customer("c", sub), STANDARD).movements
    assert [m.kind for m in movements] == [MovementKind.NEW, MovementKind.CHURN]
    change = movements[1].changes[0]
    assert (change.field, change.before, change.after) == ("price", "price_paid", "price_free")
    full = coupon_discount(percent=100, start=at(2024, 3, 1))
    discounted = subscription("s", "c", [item(price(1_000))], discounts=(full,))
    movements = customer_ledger(customer("c", discounted), STANDARD).movements
    assert [m.kind for m in movements] == [MovementKind.NEW, MovementKind.CHURN]
    assert movements[1].changes[0].field == "discount"


def test_quantity_change_is_explained_with_its_event() -> None:
    seats = price(1_000, id="price_seat")
    sub = changing(
        "s",
        "c",
        [
            (T0, Status.ACTIVE, (item(seats, 2),)),
            (at(2024, 2, 1), Status.ACTIVE, (item(seats, 5),)),
        ],
    )
    expansion = customer_ledger(customer("c", sub), STANDARD).movements[1]
    change = expansion.changes[0]
    assert (expansion.kind, expansion.amount) == (MovementKind.EXPANSION, 3_000)
    assert (change.field, change.before, change.after, change.sources) == (
        "quantity",
        "2",
        "5",
        ("evt_s_1",),
    )


def test_trial_conversion_is_new_and_past_due_counts_until_unpaid() -> None:
    plan = (item(price(1_000)),)
    sub = changing(
        "s",
        "c",
        [
            (T0, Status.TRIALING, plan),
            (at(2024, 1, 15), Status.ACTIVE, plan),
            (at(2024, 2, 15), Status.PAST_DUE, plan),
            (at(2024, 3, 1), Status.UNPAID, plan),
        ],
    )
    movements = customer_ledger(customer("c", sub), STANDARD).movements
    assert [(m.kind, m.day) for m in movements] == [
        (MovementKind.NEW, day(2024, 1, 15)),
        (MovementKind.CHURN, day(2024, 3, 1)),
    ]
    assert movements[1].changes[0].field == "status"


def test_profitwell_churns_at_the_end_of_the_paid_period() -> None:
    sub = subscription("s", "c", [item(price(1_000))], ended_at=at(2024, 2, 10))
    paid = replace(sub, paid_through=at(2024, 3, 1, 0))
    churn = customer_ledger(customer("c", paid), PRESETS["profitwell"]).movements[-1]
    assert (churn.kind, churn.day) == (MovementKind.CHURN, day(2024, 3, 1))
    standard = customer_ledger(customer("c", paid), STANDARD).movements[-1]
    assert standard.day == day(2024, 2, 10)


# Generated histories: a few subscriptions, each a few state changes at random instants.
prices = st.builds(
    price,
    st.integers(min_value=0, max_value=50_000),
    st.sampled_from([Interval.MONTH, Interval.YEAR, Interval.WEEK]),
    st.integers(min_value=1, max_value=3),
)
states = st.tuples(
    st.integers(min_value=0, max_value=400 * 86_400),
    st.sampled_from(
        [Status.ACTIVE, Status.ACTIVE, Status.PAST_DUE, Status.TRIALING, Status.CANCELED]
    ),
    st.lists(st.builds(item, prices, st.integers(0, 20)), min_size=0, max_size=2).map(
        lambda items: tuple(Item(f"si_{n}", i.price, i.quantity) for n, i in enumerate(items))
    ),
)


@st.composite
def histories(draw: st.DrawFn) -> CustomerHistory:
    subscriptions = []
    for n in range(draw(st.integers(min_value=1, max_value=3))):
        changes = sorted(draw(st.lists(states, min_size=1, max_size=5)), key=lambda s: s[0])
        unique = {offset: (T0 + offset, status, items) for offset, status, items in changes}
        subscriptions.append(changing(f"s{n}", "c", list(unique.values())))
    discount = draw(
        st.sampled_from(
            [(), (coupon_discount(percent=30, duration=Duration.REPEATING, end=T0 + 90 * 86_400),)]
        )
    )
    return customer("c", *subscriptions, discounts=discount)


@settings(max_examples=60, deadline=None)
@given(
    histories(), st.integers(min_value=-5, max_value=420), st.integers(min_value=0, max_value=420)
)
def test_movements_sum_to_the_change_in_mrr(
    history: CustomerHistory, first: int, length: int
) -> None:
    for preset in ("standard", "baremetrics", "profitwell"):
        ledger = customer_ledger(history, PRESETS[preset], explain=False)
        start = LocalDays().day_of(T0) + first
        end = start + length
        daily = ledger.daily.get("usd", [])
        moved = sum(m.amount for m in ledger.movements if start < m.day <= end)
        assert value_at_day(daily, end) - value_at_day(daily, start) == moved


@settings(max_examples=40, deadline=None)
@given(histories(), st.integers(min_value=0, max_value=400))
def test_daily_values_are_the_customer_mrr_at_the_end_of_the_day(
    history: CustomerHistory, offset: int
) -> None:
    days = LocalDays()
    target = days.day_of(T0) + offset
    ledger = customer_ledger(history, STANDARD, explain=False)
    expected = customer_mrr(history, days.end_of(target), STANDARD).get("usd", 0)
    assert value_at_day(ledger.daily.get("usd", []), target) == expected
