"""Review 61v: the visitor (and a crew member) from her side. The printed pass of whole days said
有效期至 the midnight after its last day, which the lists and the door do not count; a booked pass
checked out before it began told its visitor at the door 未到有效期 (come back later)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.runtime.texts import display_lines
from tests.ui.conftest import GUARD, Site, bearer, log_in

CREW = {
    "name": "赵装修",
    "company": "好家装饰",
    "host_building": "3栋",
    "host_unit": "2单元",
    "hours": ["08:00-18:00"],
}
VISITOR = {"name": "李四", "host_building": "3栋", "host_unit": "2单元"}


def _printed(page: str, field: str) -> str:
    return re.search(rf'<dd id="pass-{field}">([^<]*)</dd>', page).group(1)  # type: ignore[union-attr]


def test_the_printed_pass_ends_on_the_last_day_the_list_shows(client: TestClient, site: Site) -> None:
    """An admin issues a crew pass to the end of the month (valid_to 2026-12-31: "includes that whole
    day", stored as 1 January 00:00). The 施工人员 list says 2026-12-31 as its last day; the pass
    printed and handed to the worker says 有效期至 2027-01-01 00:00: he reads that he may come on
    New Year's Day, and the door refuses him then (expired)."""
    today = site.gw.now().astimezone(site.gw.site.tz).date()
    last = today + timedelta(days=20)
    r = client.post(
        "/api/contractors",
        json={**CREW, "valid_from": today.isoformat(), "valid_to": last.isoformat()},
        headers=bearer(site.admin_token),
    )
    assert r.status_code == 201, r.text
    p = r.json()
    log_in(client, GUARD)
    listed = client.get("/contractors").text
    assert last.isoformat() in listed  # the list: its last day
    page = client.get(f"/passes/{p['id']}").text
    printed_to = _printed(page, "valid-to")
    # The door the day after `last`: expired. The printout names that day.
    day_after = datetime.combine(last + timedelta(days=1), time(9), site.gw.site.tz)
    ev = site.gw.on_worker(
        lambda c: site.gw.handle(Presented("door", "qr", p["qr"], 1.0, day_after, "t"))
    ).result(timeout=10)
    assert ev.reason == "expired"
    assert printed_to == last.isoformat(), f"printed 有效期至 {printed_to}, last day {last}"
    assert _printed(page, "valid-from") == today.isoformat()


def test_a_booked_pass_cancelled_today_is_not_told_to_wait_at_the_door(
    client: TestClient, site: Site
) -> None:
    """A visit booked for 09:00 tomorrow is called off; the guard presses 离开登记 on its pass today
    (docs: checking out a pass registered by mistake). The guard's pass check says 已离开 (checked
    out). The visitor, who was sent the QR, scans it at the door today: the door says
    禁止入内 未到有效期 (not yet valid), i.e. come back tomorrow; tomorrow it says 已过期."""
    tz = site.gw.site.tz
    now = site.gw.now()
    start = datetime.combine(now.astimezone(tz).date() + timedelta(days=1), time(9), tz)
    body = {**VISITOR, "valid_from": start.isoformat(), "valid_to": (start + timedelta(hours=4)).isoformat()}
    guard = bearer(site.guard_token)
    p = client.post("/api/visitors", json=body, headers=guard).json()
    assert client.post(f"/api/passes/{p['id']}/checkout", headers=guard).status_code == 200
    checked = client.post("/api/passes/check", json={"token": p["qr"]}, headers=guard).json()
    assert checked["state"] == "checked_out"
    at = now + timedelta(minutes=1)
    ev = site.gw.on_worker(lambda c: site.gw.handle(Presented("door", "qr", p["qr"], 1.0, at, "t"))).result(
        timeout=10
    )
    assert not ev.admitted
    told = display_lines(ev)
    assert ev.reason == "expired", f"a pass the guard checked out is told at the door: {told}"
