"""Plans in revlens.toml: what is read, and one clear line for each mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from revlens.billing.plans import DEFAULT_FREE_UNLOCKS, EVERYTHING, Unlocks
from revlens.config import load_settings
from revlens.errors import ConfigError

GOOD = """
[billing]
grace_days = 3

[billing.plans.free]
free = true
unlocks = { accounts = 1, history_days = 30 }

[billing.plans.team]
name = "Team"
amount = 4900
currency = "EUR"
interval = "year"
trial_days = 14
unlocks = { accounts = 5, csv_export = true, api = true }

[billing.plans.legacy]
price = "price_existing123"
"""


def _load(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "revlens.toml"
    path.write_text(text)
    return load_settings({"REVLENS_DATA_DIR": str(tmp_path / "data")}, config_file=path)


def test_plans_are_read_in_order(tmp_path: Path) -> None:
    billing = _load(tmp_path, GOOD).billing
    assert billing.enabled
    assert billing.grace_days == 3
    assert [plan.key for plan in billing.plans] == ["free", "team", "legacy"]
    team = billing.plan("team")
    assert team is not None
    assert (team.name, team.amount, team.currency, team.interval, team.trial_days) == (
        "Team",
        4900,
        "eur",
        "year",
        14,
    )
    assert team.unlocks == Unlocks(accounts=5, history_days=None, csv_export=True, api=True)
    assert team.lookup_key == "revlens_plan_team"
    assert billing.free_plan.key == "free"
    # A feature not listed is not unlocked; a limit not given is no limit.
    assert billing.free_plan.unlocks == Unlocks(
        accounts=1, history_days=30, csv_export=False, api=False
    )
    legacy = billing.plan("legacy")
    assert legacy is not None
    assert legacy.price == "price_existing123"
    assert legacy.unlocks == Unlocks(csv_export=False, api=False)


def test_without_plans_nothing_is_gated(tmp_path: Path) -> None:
    billing = _load(tmp_path, "").billing
    assert not billing.enabled
    assert billing.free_plan.unlocks == EVERYTHING
    only_paid = _load(tmp_path, '[billing.plans.pro]\nprice = "price_x"\n').billing
    assert only_paid.free_plan.unlocks == DEFAULT_FREE_UNLOCKS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[billing.plans.pro]\nname = 'Pro'\n",
            "revlens.toml: billing.plans.pro: has no price: set `price` to an existing price_… "
            "or `amount`, `currency` and `interval` for `revlens billing setup` to create "
            "(or `free = true`)",
        ),
        (
            "[billing.plans.pro]\nprice = 'price_x'\nunlocks = { csv = true }\n",
            "revlens.toml: billing.plans.pro.unlocks.csv: unknown feature (did you mean "
            "csv_export?)",
        ),
        (
            "[billing.plans.pro]\nprice = 'price_x'\nunlocks = { seats = 3 }\n",
            "revlens.toml: billing.plans.pro.unlocks.seats: unknown feature (known: accounts, "
            "history_days, csv_export, api)",
        ),
        (
            "[billing.plans.pro]\nprice = 'plan_x'\n",
            "revlens.toml: billing.plans.pro.price: expected a Stripe price id (price_…), "
            "got 'plan_x'",
        ),
        (
            "[billing.plans.pro]\namount = 100\n",
            "revlens.toml: billing.plans.pro.currency: expected a three-letter ISO code such as "
            "usd",
        ),
        (
            "[billing.plans.pro]\namount = 100\ncurrency = 'usd'\ninterval = 'fortnight'\n",
            "revlens.toml: billing.plans.pro.interval: expected one of day, week, month, year",
        ),
        (
            "[billing.plans.pro]\nprice = 'price_x'\nunlocks = { accounts = 0 }\n",
            "revlens.toml: billing.plans.pro.unlocks.accounts: expected a whole number ≥ 1, got 0",
        ),
        (
            "[billing.plans.pro]\nprice = 'price_x'\ntrial = 14\n",
            "revlens.toml: billing.plans.pro.trial: unknown plan setting (did you mean "
            "trial_days?)",
        ),
        (
            "[billing.plans.free]\nfree = true\ntrial_days = 3\n"
            "[billing.plans.pro]\nprice = 'price_x'\n",
            "revlens.toml: billing.plans.free.trial_days: a free plan has no price or trial",
        ),
        (
            "[billing.plans.free]\nfree = true\n",
            "revlens.toml: billing.plans: declares no paid plan",
        ),
        (
            "[billing]\ngrace = 3\n",
            "revlens.toml: billing.grace: unknown setting (did you mean grace_days?)",
        ),
        (
            "[billing]\ngrace_days = -1\n",
            "revlens.toml: billing.grace_days: expected a whole number ≥ 0, got -1",
        ),
    ],
)
def test_a_bad_plan_is_one_line_naming_it(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, text)
    assert str(caught.value).endswith(message)
    assert "\n" not in str(caught.value)


def test_plans_are_not_read_from_the_environment(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="REVLENS_BILLING: unknown setting"):
        load_settings({"REVLENS_DATA_DIR": str(tmp_path / "data"), "REVLENS_BILLING": "x"})
