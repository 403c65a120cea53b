"""The audit page (操作记录 /audit) filtered by a person or an action read the whole audit trail, kept
retention.audit_days (365 by default, up to 3650), up to three times: the page's rows (a guard with
few rows: his newest 301 looked for among all), its total for 显示前 300 条，共 N 条 (counted on every
load) and, paging back, the rows before the page counted again. On a busy estate's year (~330,000
rows) the office looking up what one guard did waited ~145 ms a page, up to a second under load.
Noticed by reviewer 64E.

Counted in SQLite's own steps, the page's reads (its connection's, as tests/test_retention_query_
plans.py counts them), not in time: the same page costs about the same on a trail of 10,000 rows
(36 days of a busy estate's) as on one of 100,000 (a year). Past AUDIT_COUNTED older rows the page
counts no further and says so: 共 3300 条以上 (3,300 or more)."""

from __future__ import annotations

import html as markup
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from fastapi.testclient import TestClient

from gateway.api.deps import read_db, read_only
from gateway.api.pages import AUDIT_COUNTED, AUDIT_PAGE
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account
from gateway.timefmt import to_db
from tests.conftest import query_plan
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving
from tests.ui.conftest import ADMIN, log_in, password_hash

SMALL, BIG = 10_000, 100_000
EVERY = 315  # seconds between audit rows: ~270 a day
# Filters as the office types them: one guard's few rows, a rare action (a lane closed for repair),
# a third of the trail (every fee), everything, a token's rows and those it took for guards, and
# one guard's 1,000 (a busy week of his, the newest).
PAGES = (
    "/audit?actor=guard1",
    "/audit?action=lane.close",
    "/audit?action=payment",
    "/audit",
    "/audit?actor=token:booth",
    "/audit?actor=Guard5&action=visitor",
)


def a_trail(gw: Gateway, rows: int) -> None:
    """`rows` audit rows, one every EVERY seconds up to now: other guards' fees (a third), visitors,
    a booth token's validations for guard4; among the newest, guard1's 20 fees, two lanes closed
    and guard5's 1,000 visitors. An admin to look."""

    def write(conn: sqlite3.Connection) -> None:
        now = gw.now()
        create_account(conn, now, "test", ADMIN[0], "王经理", "admin", password_hash(ADMIN[1]))
        conn.execute("BEGIN")
        conn.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)
            INSERT INTO audit (at, actor, action, target, detail)
            SELECT strftime('%Y-%m-%dT%H:%M:%f', :start, printf('+%d seconds', i * :every)) || '000+00:00',
                   CASE WHEN i >= :rows - 600 AND i % 30 = 0 THEN 'guard1'
                        WHEN i >= :rows - 3000 AND i % 3 = 1 THEN 'guard5'
                        WHEN i % 3 = 0 THEN 'guard2' WHEN i % 3 = 1 THEN 'guard3'
                        ELSE 'token:booth for guard4' END,
                   CASE WHEN i IN (:rows - 8, :rows - 77) THEN 'lane.close'
                        WHEN i % 3 = 0 THEN 'payment.take' WHEN i % 3 = 1 THEN 'visitor.register'
                        ELSE 'stay.validate' END,
                   'plate:苏E' || i, '500 fen cash B-' || i || ' at car-out'
            FROM n
            """,
            {"rows": rows, "every": EVERY, "start": to_db(now - timedelta(seconds=rows * EVERY))[:19]},
        )
        conn.execute("COMMIT")

    gw.on_worker(write).result(60)


@contextmanager
def counted(client: TestClient, gw: Gateway) -> Iterator[list[int]]:
    """The SQLite steps of each request's own connection (api/deps.py read_db), in order."""
    steps: list[int] = []

    def read() -> Iterator[sqlite3.Connection]:
        conn = read_only(gw)
        steps.append(0)

        def step() -> int:
            steps[-1] += 1
            return 0

        conn.set_progress_handler(step, 1)
        try:
            yield conn
        finally:
            conn.close()

    client.app.dependency_overrides[read_db] = read  # type: ignore[attr-defined]
    try:
        yield steps
    finally:
        client.app.dependency_overrides.clear()  # type: ignore[attr-defined]


def _older(html: str) -> str | None:
    found = re.search(r'id="audit-older" href="([^"]+)"', html)
    return markup.unescape(found.group(1)) if found else None


def _pages_steps(make: Callable[..., Gateway], rows: int) -> dict[str, int]:
    """Each page's steps, and its next older page's where it has one."""
    with serving(make()) as (gw, client, _):
        a_trail(gw, rows)
        log_in(client, ADMIN)
        costs: dict[str, int] = {}
        for path in PAGES:
            with counted(client, gw) as steps:
                page = client.get(path)
            assert page.status_code == 200, page.text
            costs[path] = sum(steps)
            older = _older(page.text)
            if older is not None:
                with counted(client, gw) as steps:
                    assert client.get(older).status_code == 200
                costs[f"{path} (older)"] = sum(steps)
        return costs


def test_the_audit_page_costs_the_same_however_long_the_trail(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    small, big = _pages_steps(make_gw, SMALL), _pages_steps(make_gw, BIG)
    assert small.keys() == big.keys()
    grown = {path: (small[path], big[path]) for path in small if big[path] >= 2 * small[path]}
    assert not grown, (
        f"SQLite steps of each page on a trail of {SMALL} rows and of {BIG}: {grown}: "
        "the page reads the whole trail to find its rows or count them"
    )


def test_the_page_counts_what_it_shows_and_says_where_it_stops_counting(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """guard5's 1,000 visitors are counted whole, on each page; every fee of the trail (3,334)
    is counted up to AUDIT_COUNTED older rows than the page: 3,300 or more, and the page after
    it knows exactly where it stands."""
    with serving(make_gw()) as (gw, client, _):
        a_trail(gw, SMALL)
        log_in(client, ADMIN)
        first = client.get("/audit", params={"actor": "guard5"}).text
        assert "显示前 300 条，共 1000 条" in first
        second = client.get(_older(first) or "").text
        assert "显示第 301–600 条，共 1000 条" in second
        assert second.count("visitor.register</small>") == AUDIT_PAGE

        fees = client.get("/audit", params={"action": "payment"}).text
        assert AUDIT_COUNTED == 3000
        assert "显示前 300 条，共 3300 条以上" in fees
        assert fees.count("payment.take</small>") == AUDIT_PAGE
        older = client.get(_older(fees) or "").text
        assert "显示第 301–600 条，共 3334 条" in older  # 2,734 older than it: all counted


def test_other_reads_of_a_days_audit_rows_keep_to_the_time_index(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """The daily report counts a day's `stay.%` rows: with the action's index (migration 68) SQLite
    would take every such row of the trail instead, without statistics."""
    gw = make_gw()
    plans: list[str] = []
    gw.conn.set_trace_callback(plans.append)
    try:
        day = (gw.now() - timedelta(days=1)).date()
        gw.operations.build_report(day, gw.now(), gw.conn, run=lambda write: write(gw.conn))
    finally:
        gw.conn.set_trace_callback(None)
    (sql,) = [s for s in plans if "FROM audit" in s and "stay.%" in s]
    plan = query_plan(gw.conn, sql)
    assert "audit_at" in plan and "audit_action" not in plan, plan
