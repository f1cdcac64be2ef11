"""The SQL of a list page: live objects of one type, filtered, newest first, by cursor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe_emulator.store import Condition, Scope

# The promoted columns list filters can use.
SLOTS = ("k1", "k2", "k3", "k4")


def list_query(
    scope: Scope,
    type_: str,
    *,
    limit: int,
    conditions: Sequence[Condition],
    created: dict[str, int] | None,
    after: tuple[int, int] | None,
    before: tuple[int, int] | None,
    ids: Sequence[str] | None,
) -> tuple[str, list[Any]]:
    """Return the SQL and arguments of a list page (see `Store.list_page`)."""
    where = ["account=?", "livemode=?", "type=?", "deleted=0"]
    args: list[Any] = [scope.account, scope.livemode, type_]
    for condition in conditions:
        values = tuple(value for value in condition.values if value is not None)
        marks = ",".join("?" * len(values))
        if condition.column.startswith("$."):
            # Unindexed filters read the JSON; fine for the small catalog resources.
            column, lead = "json_extract(CAST(data AS TEXT), ?)", [condition.column]
        elif condition.column in SLOTS:
            column, lead = condition.column, []
        else:
            raise ValueError(f"not a filter column: {condition.column}")
        tests: list[str] = []
        if values or not condition.values:
            tests.append(f"{column} IN ({marks})")
            args.extend([*lead, *values])
        if len(values) < len(condition.values):
            # A None value matches a missing or null field (e.g. no test clock).
            tests.append(f"{column} IS NULL")
            args.extend(lead)
        where.append("(" + " OR ".join(tests) + ")")
    if ids is not None:
        where.append(f"id IN ({','.join('?' * len(ids))})")
        args.extend(ids)
    for op, operator in (("eq", "="), ("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
        if created and op in created:
            where.append(f"created {operator} ?")
            args.append(created[op])
    if after is not None:
        where.append("(created, seq) < (?, ?)")
        args.extend(after)
    order = "DESC"
    if before is not None:
        where.append("(created, seq) > (?, ?)")
        args.extend(before)
        order = "ASC"
    # Only constant fragments are joined here; every value is a bound parameter.
    sql = (
        "SELECT id, created, seq, deleted, data FROM objects WHERE "  # noqa: S608
        + " AND ".join(where)
        + f" ORDER BY created {order}, seq {order} LIMIT ?"
    )
    args.append(limit + 1)
    return sql, args
