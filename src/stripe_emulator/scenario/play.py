"""Playing a scenario: the accounts and their catalogs, then the customers' stories in time order.

Shared by a history played whole (`run.py`) and one played in parts (`shards.py`).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Sequence
from typing import Any

from stripe_emulator.billing.dunning import BillingSettings
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.emulator import Emulator
from stripe_emulator.resources.events import RETENTION
from stripe_emulator.scenario.catalog import COUNTRIES, AccountCatalog
from stripe_emulator.scenario.driver import Driver, Player
from stripe_emulator.scenario.options import ScenarioOptions
from stripe_emulator.scenario.stories import DAY, MIX, Step, signup_time, tell
from stripe_emulator.scenario.truth import FORMAT, CustomerTruth
from stripe_emulator.scenario.wire import Api, LocalTransport, ScenarioError
from stripe_emulator.server import EmulatorServer

JsonObject = dict[str, Any]
BURST_DAYS = 3


def bulk_config(options: ScenarioOptions, state: str | None, *, now: int) -> EmulatorConfig:
    """Return the settings of an emulator a scenario starts and nobody reads until it ends."""
    return EmulatorConfig(
        control=True,
        now=now,
        seed=options.seed,
        state_file=state,
        bulk_load=True,
        # Events older than the Events API's retention at the end are never stored.
        events_kept_from=options.end - RETENTION,
    )


class Opened:
    """An emulator started for a scenario (in this process, maybe on a port) and its client."""

    def __init__(self, config: EmulatorConfig, *, http: bool) -> None:
        self.server: EmulatorServer | None = None
        if http:
            self.server = EmulatorServer(config).start()
            self.emulator = self.server.emulator
            self.api = Api(self.server.url)
        else:
            self.emulator = Emulator(config)
            self.api = Api(LocalTransport(self.emulator))

    def close(self) -> None:
        """Close the client, then the emulator (its store is complete on disk afterwards)."""
        self.api.close()
        if self.server is not None:
            self.server.stop()
        else:
            self.emulator.close()


def begin(api: Api, start: int) -> None:
    """Move a fresh emulator's clock to the scenario's start."""
    if api.now > start:
        raise ScenarioError(
            f"the emulator's clock ({api.now}) is past the scenario's start ({start}); "
            "start it with an earlier --now"
        )
    api.advance(start)


def open_accounts(
    driver: Driver, options: ScenarioOptions, start: int
) -> tuple[list[AccountCatalog], list[list[int]]]:
    """Create the accounts and their catalogs; return them and each account's burst days."""
    catalogs: list[AccountCatalog] = []
    bursts: list[list[int]] = []
    for index in range(options.accounts):
        country, currency = COUNTRIES[index % len(COUNTRIES)]
        catalogs.append(driver.open_account(country, currency, index))
        rng = random.Random(f"{options.seed}:bursts:{index}")
        days = (options.end - start) // DAY
        bursts.append([start + rng.randrange(max(days - 2, 1)) * DAY for _ in range(BURST_DAYS)])
    return catalogs, bursts


def play_customers(
    driver: Driver,
    options: ScenarioOptions,
    start: int,
    accounts: tuple[Sequence[AccountCatalog], Sequence[list[int]]],
    *,
    shard: int | None = None,
) -> dict[int, Player]:
    """Play every customer's story (or only those of one part) in time order.

    `accounts` is what `open_accounts` returned: the catalogs and each account's burst days.
    """
    catalogs, bursts = accounts
    players: dict[int, Player] = {}
    queue: list[tuple[int, int, int, Step]] = []
    names = [name for name, _weight in MIX]
    for index in range(options.customers):
        if shard is not None and options.shard_of(index) != shard:
            continue
        account = options.account_of(index)
        rng = random.Random(f"{options.seed}:customer:{index}")
        signup = signup_time(rng, start, options.end, bursts[account], options.growth_of(account))
        # The first customers cover every story once; the rest follow the weighted mix.
        force = names[index] if index < len(names) else None
        story = tell(rng, signup=signup, end=options.end, force=force)
        players[index] = Player(catalogs[account], CustomerTruth("", story.name))
        for step in story.steps:
            heapq.heappush(queue, (step.at, len(queue) + index * 1000, index, step))
    order = 0
    while queue:
        at, _order, index, step = heapq.heappop(queue)
        if at > driver.api.now:
            driver.api.advance(at)
        player = players[index]
        driver.play(player, step)
        for later in player.pending:
            order += 1
            heapq.heappush(queue, (later.at, -1_000_000 + order, index, later))
        player.pending.clear()
    return players


def truth_json(
    options: ScenarioOptions,
    start: int,
    catalogs: Sequence[AccountCatalog],
    truths: dict[int, CustomerTruth],
) -> JsonObject:
    """Return the ground truth document (customers in their index order)."""
    accounts = []
    for number, catalog in enumerate(catalogs):
        customers = [
            {
                "id": truth.id,
                "story": truth.story,
                "subscriptions": [
                    {"id": sub.id, "currency": sub.currency, "timeline": sub.timeline(options.end)}
                    for sub in truth.subscriptions
                ],
            }
            for index, truth in sorted(truths.items())
            if options.account_of(index) == number and truth.id
        ]
        accounts.append(
            {
                "id": catalog.account,
                "currency": catalog.currency,
                "prices": catalog.price_json,
                "coupons": catalog.coupon_json,
                "customers": customers,
            }
        )
    return {
        "format": FORMAT,
        "seed": options.seed,
        "start": start,
        "end": options.end,
        "months": options.months,
        "billing_settings": BillingSettings().to_json(),
        "accounts": accounts,
    }
