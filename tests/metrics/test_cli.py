"""`revlens metrics ACCOUNT` prints the numbers of the API: a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from revlens.metrics import export, queries
from revlens.metrics.params import query
from tests.metrics.shop import Shop, sync, today
from tests.mirror.conftest import Mirror


def _run(mirror: Mirror, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "REVLENS_DATA_DIR": str(tmp_path / "cli-data"),
        "REVLENS_DATABASE_URL": mirror.settings.database_url,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "revlens", "metrics", *args],
        env=environ,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_prints_the_numbers_of_the_api(mirror: Mirror, tmp_path: Path) -> None:
    shop = Shop(mirror)
    price = shop.price(2_500)
    shop.subscribe(shop.customer("Ada"), price, quantity=2)
    shop.subscribe(shop.customer("Bob"), price)
    sync(mirror)
    day0 = today(mirror)
    window = ["--start", (day0 - timedelta(days=3)).isoformat(), "--end", day0.isoformat()]
    with mirror.database.read() as session:
        expected = export.series_document(
            queries.series(
                session,
                account_id=mirror.account,
                query=query(start=window[1], end=window[3], interval="day"),
            )
        )

    as_json = _run(mirror, tmp_path, mirror.account, *window, "--interval", "day", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == expected
    assert expected["series"][-1]["mrr"] == 7_500

    as_csv = _run(mirror, tmp_path, mirror.account, *window, "--interval", "day", "--csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [int(r["mrr"]) for r in rows] == [r["mrr"] for r in expected["series"]]

    table = _run(mirror, tmp_path, mirror.account, *window, "--interval", "day")
    assert table.returncode == 0, table.stderr
    assert "75.00" in table.stdout  # MRR in dollars, never cents
    assert "900.00" in table.stdout  # ARR
    assert "preset standard" in table.stdout

    other = _run(mirror, tmp_path, mirror.account, *window, "--preset", "profitwell", "--json")
    assert other.returncode == 0, other.stderr
    assert "computing the profitwell metrics" in other.stderr
    assert json.loads(other.stdout)["settings"]["preset"] == "profitwell"

    bad = _run(mirror, tmp_path, mirror.account, "--interval", "year")
    assert bad.returncode == 2
    assert "interval must be day, week or month" in bad.stderr
    unknown = _run(mirror, tmp_path, "acct_unknown")
    assert unknown.returncode == 2
    assert "no account acct_unknown is connected" in unknown.stderr
