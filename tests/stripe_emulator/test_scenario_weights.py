"""Scenario accounts of different sizes: customers are dealt in the weights' ratio."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from stripe_emulator.scenario.run import ScenarioOptions, run
from stripe_emulator.scenario.wire import ScenarioError


def _options(tmp_path: Path, **changes: object) -> ScenarioOptions:
    base = {
        "accounts": 3,
        "customers": 100,
        "months": 1,
        "seed": 1,
        "end": 1_790_000_000,
        "truth": tmp_path / "truth.json",
        "weights": (75, 17, 8),
    }
    return ScenarioOptions(**{**base, **changes})  # type: ignore[arg-type]


def test_customers_are_dealt_in_the_weights_ratio(tmp_path: Path) -> None:
    options = _options(tmp_path)
    sizes = Counter(options.account_of(index) for index in range(1000))
    assert sizes == {0: 750, 1: 170, 2: 80}
    assert Counter(_options(tmp_path, weights=()).account_of(i) for i in range(9)) == {
        0: 3,
        1: 3,
        2: 3,
    }


@pytest.mark.parametrize("weights", [(1, 2), (1, 0, 1)])
def test_bad_weights_are_refused(tmp_path: Path, weights: tuple[int, ...]) -> None:
    with pytest.raises(ScenarioError, match="one positive weight per account"):
        run(_options(tmp_path, weights=weights))
