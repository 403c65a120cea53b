"""Review 65 Rh: the plate log's 按车牌查找 with no day reads "the last 30 days' readings" (docs/guard-app.md,
/plates row). The range of row ids it reads is min..max id of the records dated from 30 days ago
to "9" (views.py dated). A reading the gateway dated on a clock typed years ahead (docs/parking.md
*A running clock stepped*: "an installer typing 2035 for 2025"; the rows written keep their dates,
and retention, deleting by `at`, never deletes a row dated 2035) is "dated in the last 30 days"
for ever: its old id starts the range, and every plate search reads the whole log after it.

Store: 90 days of 1,500 plate readings a day. One reading 80 days ago re-dated 2035 (as written
on the clock ahead). A plate search that holds no reading costs as many SQLite steps as before."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account
from gateway.timefmt import to_db
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving
from tests.ui.conftest import ADMIN, log_in, password_hash
from tests.ui.test_audit_trail_fix64n import counted

PER_DAY, DAYS = 1500, 90
EVENT = re.compile(r'data-event="([^"]+)"')


def _fill(gw: Gateway, ahead: int) -> None:
    now = gw.now()

    def write(conn: sqlite3.Connection) -> None:
        create_account(conn, now, "test", ADMIN[0], "王经理", "admin", password_hash(ADMIN[1]))
        ev = gw.handle(Presented("car-in", "plate", "苏E00000", 0.97, now - timedelta(days=DAYS + 1), "cam"))
        rows = PER_DAY * DAYS
        conn.execute("BEGIN")
        conn.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :rows - 1)
            INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, reason,
                billing, flags, holder_kind, holder_id, vehicle_id, slot_id, snapshot, class, direction,
                lane_type, car)
            SELECT printf('hist-%09d', i),
                   CASE WHEN i = :ahead THEN '2035-03-03T01:00:00.000000+00:00' ELSE
                   strftime('%Y-%m-%dT%H:%M:%S', :start, printf('+%d seconds', i * :span / :rows))
                       || '.000000+00:00' END,
                   CASE WHEN i % 2 THEN 'car-out' ELSE 'car-in' END, device, kind,
                   printf('苏E%05d', i % 70000), confidence, admitted, reason, billing, flags,
                   holder_kind, holder_id, vehicle_id, slot_id, snapshot, class, direction, lane_type,
                   printf('苏E%05d', i % 70000)
            FROM n, (SELECT * FROM access_log WHERE event_id = :ev)
            """,
            {
                "rows": rows,
                "start": to_db(now - timedelta(days=DAYS))[:19],
                "span": DAYS * 86400,
                "ev": ev.event_id,
                "ahead": ahead,
            },
        )
        conn.execute("COMMIT")

    gw.on_worker(write).result(300)


def _steps(make: Callable[..., Gateway], ahead: int) -> int:
    """The SQLite steps of a plate search with no day that finds nothing."""
    with serving(make()) as (gw, client, _):
        _fill(gw, ahead)
        log_in(client, ADMIN)
        with counted(client, gw) as steps:
            page = client.get("/plates", params={"plate": "Z9Z9Z"})
        assert page.status_code == 200 and EVENT.findall(page.text) == []
        assert "最近 30 天" in page.text
        return sum(steps)


def test_one_reading_dated_on_a_clock_ahead_does_not_make_plate_searches_read_the_whole_log(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Before: 1,574,273 steps without, 2,237,895 with the one reading dated 2035 (its old id
    started the range of "the last 30 days", and retention, by date, never deletes it)."""
    before = _steps(make_gw, -1)
    after = _steps(make_gw, 10 * PER_DAY)  # one reading, 80 days ago, written on a clock at 2035
    assert after <= 1.1 * before, f"{after} SQLite steps with one reading dated 2035, {before} without"
