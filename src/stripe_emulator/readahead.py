"""List read-ahead: after serving a page, compute the next one while the client parses.

Clients page with `starting_after=<last id>` and the same filters (the SDK's
`auto_paging_iter`), so the next request is predictable. The prepared page is only used if no
write touched that (account, mode, type) since: the store's generation counter says so.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from stripe_emulator.store import Page

MAX_ENTRIES = 256

# (account, livemode, type, canonical filters, limit, starting_after id)
Key = tuple[str, bool, str, bytes, int, str]


@dataclass(frozen=True)
class Prepared:
    """A page computed ahead of time and the store generation it was read at."""

    generation: int
    page: Page


class ReadAhead:
    """A small LRU of prepared next pages."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, Prepared] = OrderedDict()

    def take(self, key: Key, generation: int) -> Page | None:
        """Return and forget the prepared page for `key` if it is still current."""
        with self._lock:
            prepared = self._entries.pop(key, None)
        if prepared is None or prepared.generation != generation:
            return None
        return prepared.page

    def put(self, key: Key, prepared: Prepared) -> None:
        """Remember a prepared page, evicting the oldest beyond the bound."""
        with self._lock:
            self._entries[key] = prepared
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
