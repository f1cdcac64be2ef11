"""`revlens emulator seed`: build a scenario and write its ground truth.

Determinism: the same options (seed, accounts, customers, months, end) against a fresh
emulator started with the same id seed (`--seed`, which `seed` passes itself when it starts
the emulator) give the same objects, ids, `created` instants, amounts, statuses and events
(ids, types, order, payloads) and byte-identical ground truth. Request ids (`req_…`, in event
`request.id`) are random by design and differ between runs.
"""

from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from stripe_emulator.billing.dunning import BillingSettings
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.emulator import Emulator
from stripe_emulator.resources.discounts import add_months
from stripe_emulator.scenario.catalog import COUNTRIES, AccountCatalog
from stripe_emulator.scenario.driver import Driver, Player
from stripe_emulator.scenario.stories import DAY, MIX, Step, signup_time, tell
from stripe_emulator.scenario.truth import FORMAT, CustomerTruth
from stripe_emulator.scenario.wire import Api, LocalTransport, ScenarioError
from stripe_emulator.server import EmulatorServer

JsonObject = dict[str, Any]
BURST_DAYS = 3
# The emulator's clock runs from its start: begin a little early so it is not past `start`
# by the time the first request arrives.
START_MARGIN_S = 60


@dataclass(frozen=True)
class ScenarioOptions:
    """What to generate and where."""

    accounts: int
    customers: int
    months: int
    seed: int
    end: int
    truth: Path
    url: str | None = None
    state: str | None = None
    # For the emulator `run` starts: serve it on a port and drive it over HTTP instead of
    # handing requests to its application in this process (same pipeline, no socket).
    http: bool = False
    # Relative sizes of the accounts (customers are dealt in this ratio); even when empty.
    weights: tuple[int, ...] = ()

    def account_of(self, index: int) -> int:
        """Return which account the `index`-th customer belongs to (deterministic)."""
        if not self.weights:
            return index % self.accounts
        pattern = [a for a, weight in enumerate(self.weights) for _ in range(weight)]
        return pattern[index % len(pattern)]


def run(options: ScenarioOptions) -> JsonObject:
    """Generate the scenario; return a summary (counts, seconds, where the truth went)."""
    if options.accounts < 1 or options.customers < 0 or options.months < 1:
        raise ScenarioError("need at least one account and one month")
    if options.weights and (len(options.weights) != options.accounts or min(options.weights) < 1):
        raise ScenarioError("give one positive weight per account")
    started = time.perf_counter()
    start = add_months(options.end, -options.months)
    owned: Emulator | EmulatorServer | None = None  # started here, closed here
    api: Api | None = None
    try:
        if options.url is not None:
            api = Api(options.url)
        else:
            config = EmulatorConfig(
                control=True,
                now=start - START_MARGIN_S,
                seed=options.seed,
                state_file=options.state,
                # Nobody reads the state until the history is complete.
                bulk_load=True,
            )
            if options.http:
                owned = EmulatorServer(config).start()
                api = Api(owned.url)
            else:
                owned = Emulator(config)
                api = Api(LocalTransport(owned))
        if api.now > start:
            raise ScenarioError(
                f"the emulator's clock ({api.now}) is past the scenario's start ({start}); "
                "start it with an earlier --now"
            )
        api.advance(start)
        driver = Driver(api, options.end)
        truth = _play(driver, options, start)
        api.advance(options.end, freeze=options.url is None)
        events = _count_events(owned)
    finally:
        if api is not None:
            api.close()
        if isinstance(owned, EmulatorServer):
            owned.stop()
        elif owned is not None:
            owned.close()
    options.truth.write_bytes(orjson.dumps(truth, option=orjson.OPT_SORT_KEYS))
    customers = [c for a in truth["accounts"] for c in a["customers"]]
    return {
        "accounts": len(truth["accounts"]),
        "customers": len(customers),
        "subscriptions": sum(len(c["subscriptions"]) for c in customers),
        "events": events,
        "simulated_seconds": options.end - start,
        "seconds": round(time.perf_counter() - started, 3),
        "truth": str(options.truth),
    }


def _play(driver: Driver, options: ScenarioOptions, start: int) -> JsonObject:
    catalogs: list[AccountCatalog] = []
    bursts: list[list[int]] = []
    for index in range(options.accounts):
        country, currency = COUNTRIES[index % len(COUNTRIES)]
        catalogs.append(driver.open_account(country, currency, index))
        rng = random.Random(f"{options.seed}:bursts:{index}")
        days = (options.end - start) // DAY
        bursts.append([start + rng.randrange(max(days - 2, 1)) * DAY for _ in range(BURST_DAYS)])
    players: list[Player] = []
    queue: list[tuple[int, int, int, Step]] = []
    names = [name for name, _weight in MIX]
    for index in range(options.customers):
        account = options.account_of(index)
        rng = random.Random(f"{options.seed}:customer:{index}")
        signup = signup_time(rng, start, options.end, bursts[account])
        # The first customers cover every story once; the rest follow the weighted mix.
        force = names[index] if index < len(names) else None
        story = tell(rng, signup=signup, end=options.end, force=force)
        players.append(Player(catalogs[account], CustomerTruth("", story.name)))
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
    return _truth(options, start, catalogs, players)


def _truth(
    options: ScenarioOptions, start: int, catalogs: list[AccountCatalog], players: list[Player]
) -> JsonObject:
    accounts = []
    for catalog in catalogs:
        customers = [
            {
                "id": player.truth.id,
                "story": player.truth.story,
                "subscriptions": [
                    {"id": sub.id, "currency": sub.currency, "timeline": sub.timeline(options.end)}
                    for sub in player.truth.subscriptions
                ],
            }
            for player in players
            if player.catalog is catalog and player.truth.id
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
    settings = BillingSettings().to_json()
    return {
        "format": FORMAT,
        "seed": options.seed,
        "start": start,
        "end": options.end,
        "months": options.months,
        "billing_settings": settings,
        "accounts": accounts,
    }


def _count_events(owned: Emulator | EmulatorServer | None) -> int | None:
    """Count stored events when the emulator runs in this process."""
    if owned is None:
        return None
    emulator = owned.emulator if isinstance(owned, EmulatorServer) else owned
    rows = emulator.store.execute("SELECT COUNT(*) FROM objects WHERE type='event'")
    return int(rows[0][0])
