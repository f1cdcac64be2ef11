"""The metrics API over real HTTP: JSON and CSV, and who may read what."""

from __future__ import annotations

import csv
import io
import json
from base64 import b64encode
from collections.abc import Iterator
from datetime import date, timedelta

import httpx
import itsdangerous
import pytest

from revlens.accounts.service import Grant, record_connection
from revlens.db.types import utcnow
from revlens.metrics.api_keys import create_api_key
from revlens.web.app import create_app
from revlens.web.sessions import ACCOUNT, SESSION_COOKIE
from tests.live_server import live_server
from tests.metrics.shop import DAY, Shop, clock, deliver_events_since, sync, today
from tests.mirror.conftest import Mirror

ADMIN = "admin-token-for-metrics-0123456789"


def session_cookie(mirror: Mirror, account: str) -> dict[str, str]:
    """Return the signed session cookie of a browser signed in to `account`."""
    signer = itsdangerous.TimestampSigner(mirror.settings.secret_key.get_secret_value())
    data = signer.sign(b64encode(json.dumps({ACCOUNT: account}).encode())).decode()
    return {SESSION_COOKIE: data}


@pytest.fixture
def served(mirror: Mirror) -> Iterator[tuple[Mirror, str, date]]:
    """A synced shop with a change five days later, served over HTTP with an admin token."""
    shop = Shop(mirror)
    monthly, yearly = shop.price(2_000), shop.price(60_000, "year")
    seats = shop.subscribe(shop.customer("Ada"), monthly, quantity=3)  # 6,000
    bob = shop.subscribe(shop.customer("Bob"), yearly)  # 5,000
    shop.subscribe(shop.customer("Cyd"), monthly)  # 2,000
    day0 = today(mirror)
    sync(mirror)
    clock(mirror).advance(5 * DAY)
    since = clock(mirror).now()
    shop.set_quantity(seats, 4)  # +2,000 expansion
    shop.cancel(bob)  # -5,000 churn
    deliver_events_since(mirror, since)
    settings = mirror.settings.model_copy(update={"admin_token": _secret(ADMIN)})
    app = create_app(settings, database=mirror.database, queue=mirror.queue)
    with live_server(app) as url:
        yield mirror, url, day0


def _secret(value: str) -> object:
    from pydantic import SecretStr

    return SecretStr(value)


def _admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def test_series_json_and_csv(served: tuple[Mirror, str, date]) -> None:
    mirror, url, day0 = served
    day5 = day0 + timedelta(days=5)
    params = {"start": (day0 - timedelta(days=1)).isoformat(), "end": day5.isoformat()}
    answer = httpx.get(
        f"{url}/api/v1/accounts/{mirror.account}/metrics",
        params={**params, "interval": "day"},
        headers=_admin(),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["account"], body["currency"], body["preset"], body["interval"]) == (
        mirror.account,
        "usd",
        "standard",
        "day",
    )
    assert body["settings"]["discount_rule"] == "forever_and_repeating"
    assert body["as_of"]
    rows = body["series"]
    assert [row["date"] for row in rows] == [
        (day0 + timedelta(days=n)).isoformat() for n in range(6)
    ]
    first, last = rows[0], rows[-1]
    assert (first["mrr"], first["new"], first["paying_customers"]) == (13_000, 13_000, 3)
    assert (last["mrr"], last["arr"], last["expansion"], last["churn"]) == (
        10_000,
        120_000,
        2_000,
        -5_000,
    )
    assert rows[1]["customer_churn_rate"] == 0.0
    assert last["customer_churn_rate"] == pytest.approx(1 / 3, abs=1e-6)
    assert last["gross_mrr_churn_rate"] == pytest.approx(5_000 / 13_000, abs=1e-6)
    assert first["customer_churn_rate"] is None  # nobody paid at the start: no denominator
    # The first invoices are charged on creation (the yearly one for a year): 2.9 % + 30 fees.
    assert (first["gross_volume"], first["fees"], first["net_revenue"]) == (68_000, 2_062, 65_938)
    assert first["refunds"] == first["failed_charges"] == 0
    # The invariant over the whole range, from the API alone.
    total = sum(row[k] for row in rows for k in ("new", "expansion", "contraction", "churn"))
    assert total + sum(row["reactivation"] for row in rows) == last["mrr"] - 0

    monthly = httpx.get(
        f"{url}/api/v1/accounts/{mirror.account}/metrics",
        params={**params, "interval": "month"},
        headers=_admin(),
    ).json()["series"]
    assert monthly[-1]["date"] == day5.isoformat()
    assert monthly[-1]["mrr"] == 10_000

    as_csv = httpx.get(
        f"{url}/api/v1/accounts/{mirror.account}/metrics",
        params={**params, "interval": "day", "format": "csv"},
        headers=_admin(),
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert [r["date"] for r in table] == [r["date"] for r in rows]
    assert [int(r["mrr"]) for r in table] == [r["mrr"] for r in rows]
    assert table[0]["customer_churn_rate"] == ""  # null is an empty cell


def test_movements_customers_and_cohorts(served: tuple[Mirror, str, date]) -> None:
    mirror, url, day0 = served
    base = f"{url}/api/v1/accounts/{mirror.account}"
    params = {
        "start": (day0 - timedelta(days=1)).isoformat(),
        "end": (day0 + timedelta(5)).isoformat(),
    }
    moves = httpx.get(f"{base}/mrr-movements", params=params, headers=_admin()).json()["movements"]
    assert sorted((m["type"], m["amount"]) for m in moves) == [
        ("churn", -5_000),
        ("expansion", 2_000),
        ("new", 2_000),
        ("new", 5_000),
        ("new", 6_000),
    ]
    expansion = next(m for m in moves if m["type"] == "expansion")
    assert "quantity 3 -> 4" in expansion["explanation"]
    assert any(c["field"] == "quantity" and c["sources"] for c in expansion["changes"])
    churn = next(m for m in moves if m["type"] == "churn")
    assert churn["changes"][0]["after"] == "canceled"

    as_csv = httpx.get(
        f"{base}/mrr-movements", params={**params, "format": "csv"}, headers=_admin()
    )
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert sorted(int(r["amount"]) for r in table) == sorted(m["amount"] for m in moves)
    assert all(r["sources"] for r in table)

    customer = expansion["customer"]
    timeline = httpx.get(f"{base}/customers/{customer}/mrr", headers=_admin()).json()
    assert timeline["name"] == "Ada"
    assert [(t["date"], t["mrr"]) for t in timeline["timeline"]] == [
        (day0.isoformat(), 6_000),
        ((day0 + timedelta(days=5)).isoformat(), 8_000),
    ]
    missing = httpx.get(f"{base}/customers/cus_nobody/mrr", headers=_admin())
    assert missing.status_code == 404

    listed = httpx.get(f"{base}/customers", params={"end": params["end"]}, headers=_admin()).json()
    assert [(c["name"], c["mrr"]) for c in listed["customers"]] == [
        ("Ada", 8_000),
        ("Cyd", 2_000),
        ("Bob", 0),
    ]

    cohorts = httpx.get(f"{base}/cohorts", params={"end": params["end"]}, headers=_admin()).json()
    (cohort,) = cohorts["cohorts"]
    assert cohort["cohort"] == day0.strftime("%Y-%m")
    assert cohort["customers"] == 3
    month0 = cohort["months"][-1]
    assert (month0["paying"], month0["mrr"]) == (2, 10_000)
    as_csv = httpx.get(
        f"{base}/cohorts", params={"end": params["end"], "format": "csv"}, headers=_admin()
    )
    assert as_csv.text.splitlines()[0].startswith("cohort,customers,month,paying,mrr")


def test_who_may_read(served: tuple[Mirror, str, date]) -> None:
    mirror, url, _ = served
    path = f"/api/v1/accounts/{mirror.account}/metrics"
    other = "acct_someoneelse0001"
    with mirror.database.unit_of_work() as session:
        record_connection(
            session, grant=Grant(other, "Other", False, "read_only", "read_only"), now=utcnow()
        )
        _, token = create_api_key(session, account_id=mirror.account, name="sheet", now=utcnow())
        _, other_token = create_api_key(session, account_id=other, name="x", now=utcnow())

    def get(**kwargs: object) -> httpx.Response:
        return httpx.get(url + path, **kwargs)  # type: ignore[arg-type]

    assert get(cookies=session_cookie(mirror, mirror.account)).status_code == 200
    assert get(headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert get(headers=_admin()).status_code == 200
    assert get().status_code == 404
    assert get(cookies=session_cookie(mirror, other)).status_code == 404
    assert get(headers={"Authorization": f"Bearer {other_token}"}).status_code == 404
    assert get(headers={"Authorization": "Bearer rlk_not_a_key"}).status_code == 401
    assert get(headers={"Authorization": "Basic abc"}).status_code == 401
    for url_path in (f"/api/v1/accounts/{other}/metrics", f"/api/v1/accounts/{other}/cohorts"):
        assert (
            httpx.get(url + url_path, headers={"Authorization": f"Bearer {token}"}).status_code
            == 404
        )

    bad = get(headers=_admin(), params={"interval": "year"})
    assert bad.status_code == 422
    assert "interval must be day, week or month" in bad.json()["detail"]
    backwards = get(headers=_admin(), params={"start": "2025-02-01", "end": "2025-01-01"})
    assert backwards.status_code == 422
    assert "must be before end" in backwards.json()["detail"]
    assert get(headers=_admin(), params={"end": "yesterday"}).status_code == 422

    # A preset asked for the first time is queued (and, with the inline queue, computed).
    first = get(headers=_admin(), params={"preset": "baremetrics"})
    assert first.status_code == 409
    assert "not computed yet" in first.json()["detail"]
    assert get(headers=_admin(), params={"preset": "baremetrics"}).status_code == 200

    schema = httpx.get(url + "/openapi.json").json()
    assert "/api/v1/accounts/{account}/metrics" in schema["paths"]
    assert "/api/v1/accounts/{account}/mrr-movements" in schema["paths"]
