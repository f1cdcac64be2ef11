"""Playing a large history in parts, at once, and merging the parts into one state file.

Customers are independent of one another: what one does never changes what another sees,
except through the objects every customer of an account shares (its catalog). So:

1. the accounts and their catalogs are created once, on an emulator of their own (the fork);
2. each part starts from a copy of the fork, draws its ids from a stream of its own, and plays
   its customers (`ScenarioOptions.shard_of`) through the API and the clock, to the end;
3. `merge.py` adds every part's new rows to the fork, and combines what parts changed in the
   fork's rows (a coupon's `times_redeemed`), refusing anything it cannot combine.

The parts run in a pool of processes (`spawn`: a clean interpreter each, no threads inherited).
"""

from __future__ import annotations

import multiprocessing
import shutil
import signal
import sqlite3
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stripe_emulator.scenario.catalog import AccountCatalog
from stripe_emulator.scenario.driver import Driver
from stripe_emulator.scenario.merge import merge_states, prepare_fork
from stripe_emulator.scenario.options import ScenarioOptions
from stripe_emulator.scenario.play import (
    Opened,
    begin,
    bulk_config,
    open_accounts,
    play_customers,
    truth_json,
)
from stripe_emulator.scenario.truth import CustomerTruth
from stripe_emulator.scenario.wire import ScenarioError

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class ShardJob:
    """One part to play: which, from which fork, into which file."""

    options: ScenarioOptions
    start: int
    shard: int
    fork: str
    margin: int
    state: str
    catalogs: Sequence[AccountCatalog]
    bursts: Sequence[list[int]]


@dataclass(frozen=True)
class ShardResult:
    """What a part played: its customers' truth and the events it emitted."""

    truths: dict[int, CustomerTruth]
    events: int


def run_sharded(
    options: ScenarioOptions,
    start: int,
    *,
    margin: int,
    on_played: Callable[[], None] | None = None,
) -> tuple[JsonObject, int]:
    """Play the history in parts and merge them into `options.state`; return truth and events.

    `on_played` is called when every part has played, before the merge.
    """
    folder = Path(options.state).parent if options.state is not None else None
    with tempfile.TemporaryDirectory(prefix="scenario-parts-", dir=folder) as work:
        fork = Path(work) / "fork.db"
        if options.state is not None and Path(options.state).exists():
            # Seeding into an existing state adds to it: the fork starts as a copy of it.
            with (
                closing(sqlite3.connect(options.state)) as source,
                closing(sqlite3.connect(fork)) as copy,
            ):
                source.backup(copy)
            _refuse_billing_due(fork, options.end)
        opened = Opened(bulk_config(options, str(fork), now=start - margin), http=False)
        try:
            begin(opened.api, start)
            catalogs, bursts = open_accounts(Driver(opened.api, options.end), options, start)
            fork_events = opened.emulator.events_emitted
        finally:
            opened.close()
        fork_seq = prepare_fork(fork)
        jobs = [
            ShardJob(
                options=options,
                start=start,
                shard=shard,
                fork=str(fork),
                margin=margin,
                state=str(Path(work) / f"part-{shard}.db"),
                catalogs=catalogs,
                bursts=bursts,
            )
            for shard in range(options.shard_count())
        ]
        results = _play_all(jobs, options.process_count())
        if on_played is not None:
            on_played()
        target = Path(options.state) if options.state is not None else Path(work) / "merged.db"
        merge_states(target, fork, [Path(job.state) for job in jobs], fork_seq)
    truths = {index: truth for result in results for index, truth in result.truths.items()}
    events = fork_events + sum(result.events for result in results)
    return truth_json(options, start, catalogs, truths), events


def _refuse_billing_due(state: Path, end: int) -> None:
    """Refuse an existing state whose own subscriptions fall due before `end`.

    Every part would bill them on its way to the end, each its own way: they cannot be merged.
    """
    with closing(sqlite3.connect(state)) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name='schedule'").fetchall():
            return
        due = db.execute(
            "SELECT COUNT(*) FROM schedule WHERE clock='' AND done=0 AND due <= ?", (end,)
        ).fetchone()[0]
    if due:
        raise ScenarioError(
            f"the state file already holds {due} piece(s) of billing due before the history's"
            " end, which each part would run its own way: seed into a new --state file, or"
            " drive an emulator running on this one with --url (played whole)"
        )


def _play_all(jobs: list[ShardJob], processes: int) -> list[ShardResult]:
    if processes <= 1:
        return [play_shard(job) for job in jobs]
    context = multiprocessing.get_context("spawn")
    # The caller's own child processes, which a failure here must leave alone.
    theirs = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        processes, mp_context=context, initializer=_leave_interrupts_to_parent
    )
    try:
        return list(pool.map(play_shard, jobs))
    except BaseException:
        # Ctrl-C, or a part that failed: stop the others now rather than let them play on.
        for process in set(multiprocessing.active_children()) - theirs:
            process.terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _leave_interrupts_to_parent() -> None:
    """Ignore Ctrl-C in a part's process: the parent stops the parts (no trace per process)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def play_shard(job: ShardJob) -> ShardResult:
    """Play one part's customers from a copy of the fork, to the end of the history."""
    options = job.options
    shutil.copyfile(job.fork, job.state)
    opened = Opened(bulk_config(options, job.state, now=job.start - job.margin), http=options.http)
    try:
        begin(opened.api, job.start)
        # Every part starts from the same fork: each draws from its own id stream from here.
        opened.emulator.ids.reseed(f"{options.seed}:part:{job.shard}:{options.shard_count()}")
        driver = Driver(opened.api, options.end)
        players = play_customers(
            driver, options, job.start, (job.catalogs, job.bursts), shard=job.shard
        )
        opened.api.advance(options.end, freeze=True)
        events = opened.emulator.events_emitted
    finally:
        opened.close()
    return ShardResult({index: player.truth for index, player in players.items()}, events)
