"""The store's read cache: rows by id and list pages by parameters, in step with its writes.

A billing job reads the same few objects again and again (a subscription, its items and
prices, an invoice and its lines, rendered once per event it emits). The store is the only
writer of its database, so it can keep what it read: rows are written through on every write,
and a list page is valid while the generation of its (account, livemode, type) is unchanged
(for a page of one `k1`, while no object with that `k1` was written: `Store._page_validity`).
A rollback clears everything. Each map is bounded by the bytes of JSON it holds: when one is
full it starts over (the working set of a billing job is a few dozen objects).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stripe_emulator.store import Page, Row

RowKey = tuple[str, bool, str, str]  # account, livemode, type, id
MAX_ROW_BYTES = 32 * 1024 * 1024
MAX_PAGE_BYTES = 32 * 1024 * 1024
# Written once and seldom read back: caching them would only evict the rows that are.
UNCACHED = frozenset({"event"})


class ReadCache:
    """Rows by (account, livemode, type, id) and pages by their parameters and type generation."""

    def __init__(self) -> None:
        self._rows: dict[RowKey, Row] = {}
        self._pages: dict[Hashable, tuple[Hashable, Page]] = {}
        self._row_bytes = 0
        self._page_bytes = 0

    def clear(self) -> None:
        """Forget everything (after a rollback)."""
        self._rows.clear()
        self._pages.clear()
        self._row_bytes = self._page_bytes = 0

    def row(self, key: RowKey) -> Row | None:
        """Return the cached row of an id, or None when it is not cached."""
        return self._rows.get(key)

    def put_row(self, key: RowKey, row: Row) -> None:
        """Remember a row just read or inserted."""
        if key[2] in UNCACHED:
            return
        if self._row_bytes >= MAX_ROW_BYTES:
            self._rows.clear()
            self._row_bytes = 0
        old = self._rows.get(key)
        self._rows[key] = row
        self._row_bytes += len(row.data) - (len(old.data) if old is not None else 0)

    def rewrite_row(self, key: RowKey, data: bytes, deleted: bool) -> None:
        """Replace a cached row's content after an update (its `created` and `seq` stay)."""
        row = self._rows.get(key)
        if row is not None:
            self._rows[key] = row._replace(data=data, deleted=deleted)
            self._row_bytes += len(data) - len(row.data)

    def page(self, query: Hashable, generation: Hashable) -> Page | None:
        """Return a cached page of this query if it is still valid (`generation` unchanged:
        nothing of its type, or of its `k1`, was written since)."""
        found = self._pages.get(query)
        if found is None or found[0] != generation:
            return None
        return found[1]

    def put_page(self, query: Hashable, generation: Hashable, page: Page) -> None:
        """Remember a page read at this generation of its type."""
        if self._page_bytes >= MAX_PAGE_BYTES:
            self._pages.clear()
            self._page_bytes = 0
        self._pages[query] = (generation, page)
        self._page_bytes += sum(len(row.data) for row in page.rows)
