"""The store's cached list pages stay in step with writes; a bulk load builds its indexes."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stripe_emulator.store import Condition, Scope, Store

SCOPE = Scope("acct_1", False)


def _ids(store: Store, k1: str) -> list[str]:
    page = store.list_page(SCOPE, "thing", limit=10, conditions=[Condition("k1", (k1,))])
    return [row.id for row in page.rows]


def _thing(object_id: str, owner: str, created: int = 1) -> dict[str, object]:
    return {"id": object_id, "created": created, "owner": owner}


def test_pages_of_one_k1_see_writes_to_it_and_moves_off_it() -> None:
    store = Store()
    with store.transaction():
        store.insert(SCOPE, "thing", _thing("a", "x"), ("x",))
        store.insert(SCOPE, "thing", _thing("b", "y"), ("y",))
    assert (_ids(store, "x"), _ids(store, "y")) == (["a"], ["b"])
    with store.transaction():
        store.insert(SCOPE, "thing", _thing("c", "y", 2), ("y",))
    # A write elsewhere leaves x's page as it was; y's page sees the new object.
    assert (_ids(store, "x"), _ids(store, "y")) == (["a"], ["c", "b"])
    with store.transaction():
        store.update(SCOPE, "thing", _thing("b", "x"), ("x",))
    assert (_ids(store, "x"), _ids(store, "y")) == (["b", "a"], ["c"])
    with store.transaction():
        store.update(SCOPE, "thing", _thing("a", "x"), ("x",), deleted=True)
    assert _ids(store, "x") == ["b"]


def test_a_rolled_back_move_leaves_pages_as_stored() -> None:
    store = Store()
    with store.transaction():
        store.insert(SCOPE, "thing", _thing("a", "x"), ("x",))

    def move_then_fail() -> None:
        with store.transaction():
            store.update(SCOPE, "thing", _thing("a", "y"), ("y",))
            assert _ids(store, "y") == ["a"]
            raise RuntimeError

    with pytest.raises(RuntimeError):
        move_then_fail()
    assert (_ids(store, "x"), _ids(store, "y")) == (["a"], [])
    # The move is made again for real: x's page (cached just above) must drop the object.
    with store.transaction():
        store.update(SCOPE, "thing", _thing("a", "y"), ("y",))
    assert (_ids(store, "x"), _ids(store, "y")) == ([], ["a"])


def test_a_bulk_load_builds_the_created_index_when_closed(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    store = Store(str(path), bulk_load=True)
    with store.transaction():
        store.insert(SCOPE, "thing", _thing("a", "x"), ("x",))
    store.close()
    with sqlite3.connect(path) as db:
        names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {"objects_by_id", "objects_by_k1", "objects_by_created"} <= names


def test_pages_stay_right_when_the_store_forgets_per_k1_counters(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("stripe_emulator.store.MAX_KNOWN_K1", 2)
    store = Store()
    with store.transaction():
        store.insert(SCOPE, "thing", _thing("a", "x"), ("x",))
    assert _ids(store, "x") == ["a"]
    with store.transaction():
        for index in range(5):
            store.insert(SCOPE, "thing", _thing(f"o{index}", f"k{index}"), (f"k{index}",))
        store.insert(SCOPE, "thing", _thing("b", "x", 2), ("x",))
        store.update(SCOPE, "thing", _thing("a", "y"), ("y",))
    assert (_ids(store, "x"), _ids(store, "y")) == (["b"], ["a"])
