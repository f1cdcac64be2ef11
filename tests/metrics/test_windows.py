"""MRR at the end of a day is one number, whatever window, interval or cache state asks for it.

A generated scenario is backfilled, then changed while webhooks refresh the metrics; after each
round every day's MRR is read through one long-lived cache (as the web app does) for the
one-day window ending that day, a week and a year of weeks and months ending that day, and
the whole history by day, and compared with an uncached read.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from revlens.metrics import queries
from revlens.metrics.cache import MetricsCache
from revlens.metrics.params import query
from revlens.mirror.ingest import receive
from revlens.tasks.jobs import apply_event_job
from revlens.tasks.queue import make_queue
from stripe_emulator.scenario.activity import Activity
from stripe_emulator.scenario.wire import Api
from tests.reference.scenario import Generated, Synced, generated, synced

pytestmark = pytest.mark.slow
ROUNDS = 3


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Generated]:
    folder = tmp_path_factory.mktemp("windows")
    with generated(folder, seed=7, customers=30, months=6, accounts=2) as found:
        yield found


def _mrr(
    mirror: Synced, account: str, start: date, end: date, interval: str, **kw: object
) -> dict[date, int]:
    with mirror.database.read() as session:
        report = queries.series(
            session,
            account_id=account,
            query=query(start=start.isoformat(), end=end.isoformat(), interval=interval),
            **kw,  # type: ignore[arg-type]
        )
    return {row.date: row.mrr for row in report.series.rows}


def _deliver_since(mirror: Synced, api: Api, since: int) -> int:
    """Deliver every account's events created since `since` as webhooks, in order."""
    events = []
    for account in mirror.scenario.accounts:
        cursor: str | None = None
        while True:
            params = {"limit": 100, "created[gte]": since}
            page = api.call(
                "GET",
                "/v1/events",
                {**params, **({"starting_after": cursor} if cursor else {})},
                account,
            )
            events += [{**event, "account": account} for event in page["data"]]
            if not page["has_more"]:
                break
            cursor = page["data"][-1]["id"]
    queue = make_queue(mirror.settings, database=mirror.database, immediate=True)
    for event in sorted(events, key=lambda e: (e["created"], e["id"])):
        with mirror.database.unit_of_work() as session:
            account, new = receive(session, event)
        if new:
            queue.enqueue(apply_event_job, account_id=account, event_id=event["id"])
    return len(events)


def test_mrr_at_a_day_end_does_not_depend_on_the_window(
    scenario: Generated, fresh_database_url: str, tmp_path: Path
) -> None:
    cache = MetricsCache()
    api = Api(scenario.server.url)
    activity = Activity(api, scenario.accounts)
    start = date.fromtimestamp(scenario.truth["start"])
    with synced(scenario, fresh_database_url, tmp_path / "data") as mirror:
        for round_ in range(ROUNDS + 1):
            if round_:
                since = api.control("GET", "/_emulator/platform")["now"]
                for _ in range(6):
                    activity.step()
                assert _deliver_since(mirror, api, since) > 0
            now = api.control("GET", "/_emulator/platform")["now"]
            today = datetime.fromtimestamp(now).date()
            for account in scenario.accounts:
                whole = _mrr(mirror, account, start, today, "day", cache=cache)
                assert whole == _mrr(mirror, account, start, today, "day")  # uncached
                assert any(whole.values())
                days = sorted(whole)
                for day in days[-3:] + days[::31]:
                    asked = {
                        "day": _mrr(mirror, account, day - timedelta(1), day, "day", cache=cache),
                        "week": _mrr(mirror, account, day - timedelta(9), day, "week", cache=cache),
                        "months": _mrr(
                            mirror, account, day - timedelta(365), day, "month", cache=cache
                        ),
                        "weeks": _mrr(
                            mirror, account, day - timedelta(365), day, "week", cache=cache
                        ),
                    }
                    found = {name: rows[day] for name, rows in asked.items()}
                    assert found == dict.fromkeys(asked, whole[day]), (round_, account, day)
            api.control("POST", "/_emulator/clock/advance", {"to": now + 7 * 3600, "freeze": False})
    api.close()
