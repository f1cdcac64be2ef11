"""Cash metrics from charges, refunds, disputes and balance transactions, bucketed by local day.

Refunds live here and never in MRR. Each amount stays in the currency Stripe reports it in (fees
in the balance transaction's settlement currency).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from revlens.analytics.days import Day, LocalDays

JSON = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CashTotals:
    """Cash for one currency over some days; `net_revenue` is derived."""

    gross_volume: int = 0
    refunds: int = 0
    dispute_losses: int = 0
    fees: int = 0
    failed_charges: int = 0
    failed_amount: int = 0
    application_fees: int = 0

    @property
    def net_revenue(self) -> int:
        """Return gross volume - refunds - dispute losses - fees."""
        return self.gross_volume - self.refunds - self.dispute_losses - self.fees

    # Spelled out field by field: a series sums thousands of these per request.
    def __add__(self, other: CashTotals) -> CashTotals:
        return CashTotals(
            self.gross_volume + other.gross_volume,
            self.refunds + other.refunds,
            self.dispute_losses + other.dispute_losses,
            self.fees + other.fees,
            self.failed_charges + other.failed_charges,
            self.failed_amount + other.failed_amount,
            self.application_fees + other.application_fees,
        )

    def __sub__(self, other: CashTotals) -> CashTotals:
        return CashTotals(
            self.gross_volume - other.gross_volume,
            self.refunds - other.refunds,
            self.dispute_losses - other.dispute_losses,
            self.fees - other.fees,
            self.failed_charges - other.failed_charges,
            self.failed_amount - other.failed_amount,
            self.application_fees - other.application_fees,
        )


CashByDay = dict[str, dict[Day, CashTotals]]
"""currency -> day -> totals."""

_EMPTY = CashTotals()


# Field positions in a day's running totals (a list per day: a recompute adds ~130,000 amounts).
_GROSS, _REFUNDS, _DISPUTES, _FEES, _FAILED, _FAILED_AMOUNT, _APPLICATION_FEES = range(7)


def _day(running: dict[str, dict[Day, list[int]]], currency: str | None, day: Day) -> list[int]:
    days = running.get(currency or "")
    if days is None:
        days = running.setdefault((currency or "").lower(), {})
    totals = days.get(day)
    if totals is None:
        totals = days[day] = [0, 0, 0, 0, 0, 0, 0]
    return totals


def _captured(charge: JSON) -> int:
    captured = charge.get("amount_captured")
    if isinstance(captured, int) and captured:
        return captured
    return int(charge.get("amount") or 0) if charge.get("captured", True) else 0


def cash_by_day(
    *,
    charges: Iterable[JSON] = (),
    refunds: Iterable[JSON] = (),
    disputes: Iterable[JSON] = (),
    balance_transactions: Iterable[JSON] = (),
    timezone: str = "UTC",
) -> CashByDay:
    """Return daily cash totals per currency from plain Stripe objects."""
    day_of = LocalDays(timezone).day_of
    running: dict[str, dict[Day, list[int]]] = {}
    for charge in charges:
        day = day_of(int(charge["created"]))
        status = charge.get("status") or ("succeeded" if charge.get("paid") else "failed")
        if status == "succeeded":
            totals = _day(running, charge.get("currency"), day)
            totals[_GROSS] += _captured(charge)
            totals[_APPLICATION_FEES] += int(charge.get("application_fee_amount") or 0)
        elif status == "failed":
            totals = _day(running, charge.get("currency"), day)
            totals[_FAILED] += 1
            totals[_FAILED_AMOUNT] += int(charge.get("amount") or 0)
    for refund in refunds:
        if refund.get("status", "succeeded") == "succeeded":
            day = day_of(int(refund["created"]))
            _day(running, refund.get("currency"), day)[_REFUNDS] += int(refund["amount"])
    for dispute in disputes:
        if dispute.get("status") == "lost":
            day = day_of(_dispute_loss_instant(dispute))
            _day(running, dispute.get("currency"), day)[_DISPUTES] += int(dispute["amount"])
    for transaction in balance_transactions:
        fee = int(transaction.get("fee") or 0)
        if fee:
            day = day_of(int(transaction["created"]))
            _day(running, transaction.get("currency"), day)[_FEES] += fee
    return {
        currency: {day: CashTotals(*totals) for day, totals in days.items()}
        for currency, days in running.items()
    }


def _dispute_loss_instant(dispute: JSON) -> int:
    """Return when the disputed funds left: the first withdrawal, else the dispute's creation."""
    withdrawals = [
        int(bt["created"])
        for bt in dispute.get("balance_transactions") or ()
        if isinstance(bt, Mapping) and int(bt.get("amount") or 0) < 0
    ]
    return min(withdrawals) if withdrawals else int(dispute["created"])


def cash_totals(book: CashByDay, currency: str, start: Day, end: Day) -> CashTotals:
    """Return the cash totals of a currency over the days in (start, end]."""
    return CashIndex(book, currency).between(start, end)


class CashIndex:
    """Cumulative cash of one currency, so that any (start, end] sum is two bisections."""

    def __init__(self, book: CashByDay, currency: str) -> None:
        entries = sorted(book.get(currency, {}).items())
        self._days = [day for day, _ in entries]
        self._cumulative: list[CashTotals] = [_EMPTY]
        for _, totals in entries:
            self._cumulative.append(self._cumulative[-1] + totals)

    def between(self, start: Day, end: Day) -> CashTotals:
        """Return the totals of the days in (start, end]."""
        upper = self._cumulative[bisect_right(self._days, end)]
        return upper - self._cumulative[bisect_right(self._days, start)]
