"""A customer's contribution as compact JSON and back (movements' explanations live elsewhere)."""

from __future__ import annotations

from typing import Any

from revlens.analytics.explain import Change
from revlens.analytics.ledger import CustomerContribution, TrialEnd
from revlens.analytics.movements import FxImpact, Movement, MovementKind
from revlens.analytics.windows import episodes


def encode(contribution: CustomerContribution) -> dict[str, Any]:
    """Return the contribution as plain JSON: lists of small arrays, no explanations."""
    return {
        "daily": {
            currency: [[day, value] for day, value in daily]
            for currency, daily in contribution.daily.items()
        },
        "movements": [
            [m.currency, m.day, m.kind.value, m.amount, m.before, m.after]
            for m in contribution.movements
        ],
        "fx": [[i.currency, i.day, i.amount] for i in contribution.fx_impacts],
        "trials": [[t.currency, t.day, t.converted] for t in contribution.trials],
    }


# A dict lookup: calling the enum costs more than the rest of a movement's decoding.
_KINDS = {kind.value: kind for kind in MovementKind}


def decode(customer: str, data: dict[str, Any]) -> CustomerContribution:
    """Return the contribution stored by `encode`."""
    daily = {
        currency: [(int(day), int(value)) for day, value in steps]
        for currency, steps in (data.get("daily") or {}).items()
    }
    return CustomerContribution(
        customer=customer,
        daily=daily,
        movements=tuple(
            Movement(customer, cur, day, _KINDS[kind], amount, before, after)
            for cur, day, kind, amount, before, after in data.get("movements") or ()
        ),
        fx_impacts=tuple(
            FxImpact(customer, cur, day, amount) for cur, day, amount in data.get("fx") or ()
        ),
        trials=tuple(TrialEnd(cur, day, bool(done)) for cur, day, done in data.get("trials") or ()),
        episodes={currency: episodes(steps) for currency, steps in daily.items()},
    )


def encode_changes(changes: tuple[Change, ...]) -> list[dict[str, Any]]:
    """Return a movement's explanation as JSON objects."""
    return [
        {
            "subscription": change.subscription,
            "field": change.field,
            "before": None if change.before is None else str(change.before),
            "after": None if change.after is None else str(change.after),
            "item": change.item,
            "sources": list(change.sources),
        }
        for change in changes
    ]
