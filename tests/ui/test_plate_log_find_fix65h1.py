"""Review 65H: the plate log (车牌记录 /plates) finds a car's reading on a busy estate.

The office checks a day's readings there later (a misread nobody noticed, a driver disputing a fee).
It listed readings 50 to a page, newest first, filtered by lane and "refused only" alone: a busy
estate reads some 4,000 plates a day, and a reading of three days ago was 240 pages of "older" back.
Now it takes a plate, or a piece of one, as 按车牌查找 on the occupancy page does, and a day (日期).

The store: 8 days of 4,000 plate readings a day (copies of a real decision's row, as
tests/parking/test_history_scans_fix62i.py fills its store), 苏E77777 read once three days ago, and
苏E40404 read 40 days ago, past the last days a plate is searched in with no day."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from gateway.api.pages import PLATE_SEARCH_DAYS
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_account
from gateway.timefmt import to_db
from tests.parking.conftest import make_gw  # noqa: F401  (fixture)
from tests.parking.test_api import serving
from tests.ui.conftest import ADMIN, log_in, password_hash

PER_DAY, DAYS = 4000, 8
TARGET = "苏E77777"
LONG_AGO = "苏E40404"
EVENT = re.compile(r'data-event="([^"]+)"')


def _fill(gw: Gateway) -> dict[str, str]:
    """The store above; the event ids of the two readings."""
    now = gw.now()
    long_ago = gw.on_worker(
        lambda _: gw.handle(Presented("car-in", "plate", LONG_AGO, 0.97, now - timedelta(days=40), "cam"))
    ).result(10)

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
                   strftime('%Y-%m-%dT%H:%M:%S', :start, printf('+%d seconds', i * :span / :rows))
                       || '.000000+00:00',
                   CASE WHEN i % 2 THEN 'car-out' ELSE 'car-in' END, device, kind,
                   CASE WHEN i = :target THEN :plate ELSE printf('苏E%05d', i % 70000) END,
                   confidence, admitted, reason, billing, flags, holder_kind, holder_id, vehicle_id,
                   slot_id, snapshot, class, direction, lane_type,
                   CASE WHEN i = :target THEN :plate ELSE printf('苏E%05d', i % 70000) END
            FROM n, (SELECT * FROM access_log WHERE event_id = :ev)
            """,
            {
                "rows": rows,
                "start": to_db(now - timedelta(days=DAYS))[:19],
                "span": DAYS * 86400,
                "ev": ev.event_id,
                "target": rows - 3 * PER_DAY,  # three days ago
                "plate": TARGET,
            },
        )
        conn.execute("COMMIT")

    gw.on_worker(write).result(120)
    return {"target": f"hist-{PER_DAY * DAYS - 3 * PER_DAY:09d}", "long_ago": long_ago.event_id}


def _local_day(gw: Gateway, event_id: str) -> date:
    with sqlite3.connect(gw.db_path) as conn:
        (at,) = conn.execute("SELECT at FROM access_log WHERE event_id = ?", (event_id,)).fetchone()
    return datetime.fromisoformat(at).astimezone(gw.site.tz).date()


def _readings_on(gw: Gateway, day: date) -> int:
    start = datetime.combine(day, time(0), gw.site.tz)
    with sqlite3.connect(gw.db_path) as conn:
        (n,) = conn.execute(
            "SELECT count(*) FROM access_log WHERE kind = 'plate' AND at >= ? AND at < ?",
            (to_db(start), to_db(start + timedelta(days=1))),
        ).fetchone()
    return int(n)


def _older(page: str) -> str:
    m = re.search(r'id="plates-older" href="([^"]+)"', page)
    return m.group(1).replace("&amp;", "&") if m else ""


def test_the_office_finds_a_reading_of_three_days_ago_by_its_plate_or_its_day(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    with serving(make_gw()) as (gw, client, _):
        ids = _fill(gw)
        log_in(client, ADMIN)
        # A piece of the plate as a guard types it at the rush (no province, lower case).
        page = client.get("/plates", params={"plate": "e77777"}).text
        assert EVENT.findall(page) == [ids["target"]], "苏E77777's reading is not found by its plate"
        assert f"最近 {PLATE_SEARCH_DAYS} 天" in page  # how far back a plate is searched, said

        # Its day: that day's readings, the day's last first, and "older" keeps to the day.
        day = _local_day(gw, ids["target"])
        url, shown, days_shown, pages = f"/plates?day={day.isoformat()}", 0, set(), 0
        while url and pages < 200:
            page = client.get(url).text
            pages += 1
            shown += len(EVENT.findall(page))
            days_shown |= set(re.findall(r"<td><small>(\d\d-\d\d) ", page))
            if pages == 1:
                assert 'name="day" type="date" value="' + day.isoformat() + '"' in page
            url = _older(page)
            assert not url or f"day={day.isoformat()}" in url, url
        assert days_shown == {day.strftime("%m-%d")}, f"the day {day} shows readings of {days_shown}"
        assert shown == _readings_on(gw, day), "the day's pages do not list the day's readings"
        assert ids["target"] in EVENT.findall(
            client.get("/plates", params={"day": day.isoformat(), "plate": "77777"}).text
        )
        assert (
            EVENT.findall(client.get("/plates", params={"day": day.isoformat(), "plate": "苏F"}).text) == []
        )

        # Further back than a plate is searched with no day: said so, and found by its day.
        page = client.get("/plates", params={"plate": "40404"}).text
        assert EVENT.findall(page) == [] and f"最近 {PLATE_SEARCH_DAYS} 天" in page
        on_its_day = {"plate": "40404", "day": _local_day(gw, ids["long_ago"]).isoformat()}
        assert EVENT.findall(client.get("/plates", params=on_its_day).text) == [ids["long_ago"]]
        # A day with no reading, and a day nobody could mean.
        assert EVENT.findall(client.get("/plates", params={"day": "2020-01-01"}).text) == []
        assert client.get("/plates", params={"day": "2025-13-01"}).status_code == 422


def _stranger(gw: Gateway, plate: str) -> str:
    p = Presented("car-in", "plate", plate, 0.97, gw.now(), "cam")
    return gw.on_worker(lambda _: gw.handle(p)).result(10).event_id


def test_a_reading_is_found_by_the_plate_corrected_and_by_what_the_camera_read(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    with serving(make_gw()) as (gw, client, _):
        gw.on_worker(
            lambda conn: create_account(
                conn, gw.now(), "test", ADMIN[0], "王经理", "admin", password_hash(ADMIN[1])
            )
        ).result(10)
        csrf = log_in(client, ADMIN)
        misread = _stranger(gw, "渝A5B123")
        other = _stranger(gw, "渝K7C456")
        r = client.post(f"/api/events/{misread}/plate", json={"plate": "豫A5B128"}, headers=csrf)
        assert r.status_code == 200, r.text
        for piece in ("豫A5B128", "a5b128", "渝A5B123", "5B123"):
            found = EVENT.findall(client.get("/plates", params={"plate": piece}).text)
            assert found == [misread], f"{piece}: {found}"
        assert EVENT.findall(client.get("/plates", params={"plate": "7C4"}).text) == [other]
        # A look-alike match: the lane took it as a registered car, the camera read another.
        with sqlite3.connect(gw.db_path) as conn:
            conn.execute(
                "INSERT INTO access_log (event_id, at, lane, device, kind, value, confidence, admitted, "
                "reason, flags, lane_type, direction, car) SELECT 'lookalike-1', at, lane, device, kind, "
                "'苏E12345', confidence, admitted, reason, 'lookalike,read:苏E1234S', lane_type, direction, "
                "'苏E12345' FROM access_log WHERE event_id = ?",
                (other,),
            )
        assert EVENT.findall(client.get("/plates", params={"plate": "1234S"}).text) == ["lookalike-1"]
        assert EVENT.findall(client.get("/plates", params={"plate": "E12345"}).text) == ["lookalike-1"]
        # Cleared: every reading again.
        assert len(EVENT.findall(client.get("/plates", params={"plate": " ", "day": ""}).text)) == 3
