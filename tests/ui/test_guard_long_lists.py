"""Lists a guard acts on, on a large estate: every resident of a unit, every current pass and every
open alarm is listed, or the page says how many it shows of how many (never cut silently).

Each test builds just enough rows to cross the page's limit (20 residents, 100 passes, 200 alarms)."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

from fastapi.testclient import TestClient

from gateway.alarm_texts import AlarmText
from gateway.store import registry
from gateway.store.alarms import write_alarm
from gateway.store.database import transaction
from gateway.store.passes import NewPass, create_pass
from gateway.timefmt import to_db
from tests.ui.conftest import ADMIN, GUARD, Site, bearer, log_in


def _residents(site: Site, count: int, building: str, unit: str, surname: str) -> list[str]:
    """`count` residents of one building and unit (beside the seed's R1 of 3栋2单元); their refs."""

    def add(conn: sqlite3.Connection) -> list[str]:
        now = site.gw.now()
        refs = [f"U{building}{unit}-{i:02d}" for i in range(count)]
        for i, ref in enumerate(refs):
            person = {"ref": ref, "building": building, "unit": unit, "room": f"{i + 1:02d}01"}
            registry.upsert_resident(conn, site.gw.secrets, now, "test", {**person, "name": f"{surname}{i}"})
        return refs

    return site.gw.on_worker(add).result(timeout=30)


def test_lookup_by_building_and_unit_lists_every_resident_of_that_unit(
    client: TestClient, site: Site
) -> None:
    """3栋2单元 has 26 residents. A guard who looks the unit up (as the field's 楼栋 invites) sees all
    26, not the first 20 with nothing saying the rest were left out; 13栋2单元's resident, whom the
    query names too, comes after them, and the page says it is not shown."""
    refs = ["R1", *_residents(site, 25, "3栋", "2单元", "李")]
    _residents(site, 1, "13栋", "2单元", "王")
    r = client.get("/api/lookup", params={"q": "3栋2单元"}, headers=bearer(site.guard_token))
    assert r.status_code == 200
    assert [x["ref"] for x in r.json()] == refs
    assert r.headers["X-Total-Count"] == "27"
    log_in(client, GUARD)
    page = client.get("/lookup", params={"q": "3栋2单元"}).text
    assert page.count("data-resident=") == 26 and "显示前 26 条，共 27 条" in page


def test_the_lookup_page_says_when_more_residents_match_than_it_shows(client: TestClient, site: Site) -> None:
    """Surname 张 matches 26 residents (the seed's 张三丰 and 25 in 5栋1单元). The page shows the
    first 20 and says so (显示前 20 条，共 26 条), with the way to narrow it; the API says the total
    in X-Total-Count and gives more with `limit`."""
    _residents(site, 25, "5栋", "1单元", "张")
    guard = bearer(site.guard_token)
    r = client.get("/api/lookup", params={"q": "张"}, headers=guard)
    assert len(r.json()) == 20 and r.headers["X-Total-Count"] == "26"
    assert len(client.get("/api/lookup", params={"q": "张", "limit": 50}, headers=guard).json()) == 26
    log_in(client, GUARD)
    page = client.get("/lookup", params={"q": "张"}).text
    assert page.count("data-resident=") == 20
    assert 'id="lookup-more"' in page and "显示前 20 条，共 26 条" in page, page[-3000:]


def test_the_contractors_page_reaches_every_current_pass(client: TestClient, site: Site) -> None:
    """205 renovation crews hold a contractor pass valid now. The Contractors page shows the newest
    100 and says so (Review 65H: a list of hundreds drawn whole), and 显示更多 reaches all 205, so an
    admin finds the oldest crews' passes there to end them; 查找 finds one by name."""
    gw = site.gw

    def issue(conn: sqlite3.Connection) -> list[int]:
        now = gw.now()
        crews = [
            NewPass("contractor", f"装修队{i:03d}", now - timedelta(days=1), now + timedelta(days=200))
            for i in range(205)
        ]
        return [create_pass(conn, gw.secrets, crew, now, "admin") for crew in crews]

    ids = gw.on_worker(issue).result(timeout=60)
    log_in(client, ADMIN)
    page = client.get("/contractors").text
    assert page.count("data-pass=") == 100 and "显示前 100 条，共 205 条" in page
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    more = client.post("/contractors", data={"csrf": csrf, "shown": 300}).text
    missing = [pid for pid in ids if f'data-pass="{pid}"' not in more]
    assert not missing, f"{len(missing)} current contractor passes are not on the page: {missing[:5]}..."
    oldest = client.post("/contractors", data={"csrf": csrf, "q": "装修队000"}).text
    assert re.findall(r'data-pass="(\d+)"', oldest) == [str(ids[0])]


def _alarms(site: Site, open_count: int, closed_count: int) -> list[int]:
    """Unknown plates that came back again and again, each an alarm; the first `closed_count` were
    acknowledged (closed). Returns the open alarms' ids."""

    def raise_many(conn: sqlite3.Connection) -> list[int]:
        now = site.gw.now()
        with transaction(conn):
            for i in range(closed_count + open_count):
                plate = f"粤B{i:05d}"
                params = {"plate": plate, "count": 3, "minutes": 60, "lane": "car-in"}
                write_alarm(
                    conn, "repeated_unknown_plate", plate, AlarmText("repeated_unknown_plate", params), now
                )
            conn.execute(
                "UPDATE alarms SET cleared_at = ?, acknowledged_at = ?, acknowledged_by = 'guard1' "
                "WHERE id IN (SELECT id FROM alarms ORDER BY id LIMIT ?)",
                (to_db(now), to_db(now), closed_count),
            )
        return [r[0] for r in conn.execute("SELECT id FROM alarms WHERE cleared_at IS NULL ORDER BY id")]

    return site.gw.on_worker(raise_many).result(timeout=30)


def test_the_alarms_page_lists_every_open_alarm(client: TestClient, site: Site) -> None:
    """After a busy weekend 205 alarms are open and the badge says 205. The Alarms page lists all 205,
    the oldest too, each with its acknowledge button (REQUIREMENTS 7: every alarm is handled)."""
    ids = _alarms(site, 205, 0)
    log_in(client, GUARD)
    page = client.get("/alarms").text
    assert re.search(r'id="alarm-count"[^>]*>205<', page)
    missing = [i for i in ids if f'data-alarm="{i}"' not in page]
    assert not missing, f"{len(missing)} open alarms cannot be seen or acknowledged: {missing[:5]}..."
    assert len(client.get("/api/alarms", headers=bearer(site.guard_token)).json()) == 205


def test_show_all_lists_every_open_alarm_and_says_how_many_closed_ones_it_leaves_out(
    client: TestClient, site: Site
) -> None:
    """210 alarms closed and 3 open: "Show all" lists the 3 open ones and the newest 200 closed ones,
    and says it shows 203 of 213."""
    ids = _alarms(site, 3, 210)
    log_in(client, GUARD)
    page = client.get("/alarms", params={"all": "true"}).text
    assert page.count("data-alarm=") == 203 and all(f'data-alarm="{i}"' in page for i in ids)
    assert 'id="alarms-more"' in page and "显示前 203 条，共 213 条" in page
    assert 'id="alarms-more"' not in client.get("/alarms").text
