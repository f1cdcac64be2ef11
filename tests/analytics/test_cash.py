"""Cash totals: every field is summed and subtracted."""

from __future__ import annotations

from dataclasses import fields

from revlens.analytics.cash import CashTotals


def test_cash_totals_add_and_subtract_every_field() -> None:
    small = CashTotals(*range(1, 8))
    large = CashTotals(*range(10, 80, 10))
    total = small + large
    assert [getattr(total, f.name) for f in fields(CashTotals)] == [11, 22, 33, 44, 55, 66, 77]
    assert total - large == small
    assert total.net_revenue == 11 - 22 - 33 - 44
