"""`revlens emulator seed`: build a scenario and write its ground truth.

Determinism: the same options (seed, accounts, customers, months, end) against a fresh
emulator started with the same id seed (`--seed`, which `seed` passes itself when it starts
the emulator) give the same objects, ids, `created` instants, amounts, statuses and events
(ids, types, order, payloads) and byte-identical ground truth. Request ids (`req_…`, in event
`request.id`) are random by design and differ between runs.

Large histories are played in parts (`ScenarioOptions.shard_count`, `shards.py`): the
accounts and catalogs once, then each part's customers on an emulator of its own, in as many
processes as there are CPUs, merged into one state file. The number of parts follows from the
options, so the history does not depend on the machine; the number of processes only changes
how long it takes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import orjson

from stripe_emulator.resources.discounts import add_months
from stripe_emulator.scenario.driver import Driver
from stripe_emulator.scenario.options import ScenarioOptions
from stripe_emulator.scenario.play import (
    Opened,
    begin,
    bulk_config,
    open_accounts,
    play_customers,
    truth_json,
)
from stripe_emulator.scenario.wire import Api, ScenarioError

__all__ = ["ScenarioOptions", "run"]

JsonObject = dict[str, Any]
# The emulator's clock runs from its start: begin a little early so it is not past `start`
# by the time the first request arrives.
START_MARGIN_S = 60


def run(options: ScenarioOptions, *, on_played: Callable[[], None] | None = None) -> JsonObject:
    """Generate the scenario; return a summary (counts, seconds, where the truth went).

    `on_played` is called once, when every customer has played: what remains (merging the
    parts, building indexes, writing the truth) runs on one core, so a caller can start other
    work on the cores the parts leave idle.
    """
    if options.accounts < 1 or options.customers < 0 or options.months < 1:
        raise ScenarioError("need at least one account and one month")
    if options.weights and (len(options.weights) != options.accounts or min(options.weights) < 1):
        raise ScenarioError("give one positive weight per account")
    if len(options.growth) > options.accounts or not all(0 <= g <= 1 for g in options.growth):
        raise ScenarioError("give at most one monthly growth from 0 to 1 per account")
    if options.shards is not None and options.shards < 1:
        raise ScenarioError("--shards must be at least 1")
    if options.processes is not None and options.processes < 1:
        raise ScenarioError("--processes must be at least 1")
    started = time.perf_counter()
    start = add_months(options.end, -options.months)
    events: int | None
    if options.shard_count() > 1:
        from stripe_emulator.scenario.shards import run_sharded

        truth, events = run_sharded(options, start, margin=START_MARGIN_S, on_played=on_played)
    else:
        truth, events = _run_whole(options, start)
        if on_played is not None:
            on_played()
    options.truth.write_bytes(orjson.dumps(truth, option=orjson.OPT_SORT_KEYS))
    customers = [c for a in truth["accounts"] for c in a["customers"]]
    return {
        "accounts": len(truth["accounts"]),
        "customers": len(customers),
        "subscriptions": sum(len(c["subscriptions"]) for c in customers),
        "shards": options.shard_count(),
        "events": events,
        "simulated_seconds": options.end - start,
        "seconds": round(time.perf_counter() - started, 3),
        "truth": str(options.truth),
    }


def _run_whole(options: ScenarioOptions, start: int) -> tuple[JsonObject, int | None]:
    """Play the whole history on one emulator: a running one (`url`) or one started here."""
    opened: Opened | None = None
    if options.url is not None:
        api = Api(options.url)
    else:
        config = bulk_config(options, options.state, now=start - START_MARGIN_S)
        opened = Opened(config, http=options.http)
        api = opened.api
    try:
        begin(api, start)
        driver = Driver(api, options.end)
        catalogs, bursts = open_accounts(driver, options, start)
        players = play_customers(driver, options, start, (catalogs, bursts))
        api.advance(options.end, freeze=options.url is None)
        events = None if opened is None else opened.emulator.events_emitted
    finally:
        if opened is not None:
            opened.close()
        else:
            api.close()
    truths = {index: player.truth for index, player in players.items()}
    return truth_json(options, start, catalogs, truths), events
