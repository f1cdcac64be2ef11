"""Scenario accounts of different sizes and growth: customers dealt in ratio, signups growing."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest

from stripe_emulator.scenario.run import ScenarioOptions, run
from stripe_emulator.scenario.stories import MONTH, signup_time
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


def test_signups_grow_by_the_monthly_rate(tmp_path: Path) -> None:
    start, end = 1_700_000_000, 1_700_000_000 + 24 * round(MONTH)
    rng = random.Random(3)
    flat = [signup_time(rng, start, end, []) for _ in range(20_000)]
    growing = [signup_time(rng, start, end, [], 0.08) for _ in range(20_000)]
    assert all(start <= t < end for t in flat + growing)
    half = start + 12 * MONTH
    # Evenly spread: half of the signups in each year. Growing 8 % a month (2.52 times a
    # year): (1.08^24 - 1.08^12) / (1.08^24 - 1) = 71.6 % of them in the second year.
    assert sum(t >= half for t in flat) / len(flat) == pytest.approx(0.5, abs=0.015)
    assert sum(t >= half for t in growing) / len(growing) == pytest.approx(0.716, abs=0.015)
    last, first = (
        sum(start + m * MONTH <= t < start + (m + 1) * MONTH for t in growing) for m in (23, 0)
    )
    assert last / first == pytest.approx(1.08**23, rel=0.2)


def _first_seen(truth: Path) -> list[int]:
    accounts = json.loads(truth.read_text())["accounts"]
    return sorted(
        min(sub["timeline"][0]["at"] for sub in customer["subscriptions"])
        for customer in accounts[0]["customers"]
        if customer["subscriptions"]
    )


def test_a_growing_account_signs_its_customers_up_later(tmp_path: Path) -> None:
    common = {"accounts": 1, "customers": 120, "months": 6, "weights": ()}
    flat = _options(tmp_path, truth=tmp_path / "flat.json", **common)
    grown = _options(tmp_path, truth=tmp_path / "grown.json", growth=(0.5,), **common)
    assert grown.growth_of(0) == 0.5
    assert _options(tmp_path).growth_of(1) == 0.0  # none given: evenly spread
    run(flat)
    run(grown)
    before, after = _first_seen(flat.truth), _first_seen(grown.truth)
    assert len(before) == len(after) > 100  # the same customers, signed up at other times
    middle = flat.end - 3 * MONTH
    # Growing 50 % a month for 6 months, 1.5^3 = 3.4 times as many sign up in the second
    # half as in the first (77 %); evenly spread, about half.
    assert sum(t >= middle for t in after) / len(after) > 0.68
    assert sum(t >= middle for t in before) / len(before) < 0.62


@pytest.mark.parametrize("growth", [(0.1, 0.1, 0.1, 0.1), (-0.01,), (1.5,), (float("nan"),)])
def test_bad_growth_is_refused(tmp_path: Path, growth: tuple[float, ...]) -> None:
    with pytest.raises(ScenarioError, match="one monthly growth from 0 to 1 per account"):
        run(_options(tmp_path, growth=growth))
