"""Review 63na of c8afbe1. A guard registers a visitor for a unit where a resident lives, typing the
building and unit as guards on site write them (三栋 二单元, 3栋 2-301, 3-2 in one field, A座1单元,
b3, villa 18号): POST /api/visitors refused it 422 no_such_unit ("nobody lives there") and the
visitor was sent away. And a month of visitors who left unseen (recorded inside for good), listed
first, filled GET /api/visitors' 100 places: today's visitor, registered just now, was not in it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.passes import pass_out
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.passes import NewPass, create_pass, list_passes
from gateway.timefmt import to_db
from tests.parking.conftest import DOOR_OUT, T0, parking_toml, seed
from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401 (fixtures)
from tests.ui.test_guard_visitors import VISITOR

H = timedelta(hours=1)


def _resident(at: Site, ref: str, building: str, unit: str, room: str) -> None:
    data = {"ref": ref, "name": "住户" + ref, "building": building, "unit": unit, "room": room}
    put = registry.upsert_resident
    at.gw.on_worker(lambda c: put(c, at.gw.secrets, at.gw.now(), "test", data)).result(10)


def _visit(web: TestClient, at: Site, building: str, unit: str) -> tuple[int, str]:
    body = {**VISITOR, "host_building": building, "host_unit": unit, "plate": ""}
    r = web.post("/api/visitors", json=body, headers=bearer(at.guard_token))
    return r.status_code, r.text


# The fixture's resident: 3栋 / 2单元 / room 301.
@pytest.mark.parametrize(
    ("building", "unit"),
    [
        ("三栋", "二单元"),  # Chinese numerals, as an address is written by hand
        ("3栋", "二单元"),
        ("3栋", "2-301"),  # unit-room with a dash, as couriers and visitors say it
        ("3", "2-301"),
        ("3-2", ""),  # building-unit in one field, as the pass slip is written
        ("3栋", "2"),  # controls, taken before
        ("3号楼", "2单元"),
        ("３ 栋", " 2 单元"),
    ],
)
def test_the_fixture_unit_typed_as_guards_type_it_is_taken(
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
    building: str,
    unit: str,
) -> None:
    status, text = _visit(client, site, building, unit)
    assert status == 201, (
        f"3栋 2单元 301 has a resident; typed {building!r} / {unit!r} the visitor should be "
        f"registered, not refused as a unit nobody lives in: {status} {text}"
    )


@pytest.mark.parametrize(
    ("register", "building", "unit"),
    [
        (("A座", "1单元", "1201"), "A座", "1单元1201"),  # 座 building, the room after the unit
        (("A座", "1单元", "1201"), "", "A座1单元"),  # the flat whole in one field
        (("B3", "1", "101"), "b3", "1"),  # typed in lower case on the tablet
        (("18", "", ""), "18号", ""),  # a villa estate: villa no. 18, building only
    ],
)
def test_other_estates_units_typed_as_guards_type_them_are_taken(
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
    register: tuple[str, str, str],
    building: str,
    unit: str,
) -> None:
    _resident(site, "R9", *register)
    status, text = _visit(client, site, building, unit)
    assert status == 201, (
        f"a resident lives in {register}; typed {building!r} / {unit!r} the visitor should be "
        f"registered, not refused as a unit nobody lives in: {status} {text}"
    )


@pytest.mark.parametrize(
    ("building", "unit"),
    [
        ("30栋", "2单元"),
        ("三十栋", "二单元"),
        ("3栋", "9单元"),
        ("3-9", ""),
        ("3栋", "9-301"),
        ("3栋", "1201"),
    ],
)
def test_a_unit_nobody_lives_in_is_still_refused(
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
    building: str,
    unit: str,
) -> None:
    status, text = _visit(client, site, building, unit)
    assert status == 422 and "no_such_unit" in text, f"{building!r} / {unit!r}: {status} {text}"


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    cfg = parse_config(parking_toml(tmp_path / "data", extra=DOOR_OUT), "site.toml")
    seed(cfg, tmp_path)
    g = Gateway(cfg)
    yield g
    g.conn.close()


def _pass(gw: Gateway, name: str, start: datetime, hours: int) -> int:
    new = NewPass("visitor", name, start, start + hours * H, host_building="3栋", host_unit="2单元")
    return create_pass(gw.conn, gw.secrets, new, start, "guard1")


def _inside(gw: Gateway, pid: int, at: datetime) -> None:
    sql = "INSERT INTO presence (subject, inside, lane, at, people) VALUES (?, 1, 'door', ?, 1)"
    gw.conn.execute(sql, (f"visitor:{pid}", to_db(at)))
    gw.conn.commit()


def test_stale_overstayers_do_not_push_todays_visitors_off_the_api_list(gw: Gateway) -> None:
    """Visitors who left unseen (behind a resident, a door's exit button, the car gate) stay recorded
    inside for good. A month of them (100) filled GET /api/visitors' default limit=100."""
    month_ago = T0 - timedelta(days=30)
    for k in range(100):
        _inside(gw, _pass(gw, f"旧访客{k}", month_ago + k * 6 * H, 2), month_ago + k * 6 * H + H)
    today = _pass(gw, "钱七", T0, 4)
    listed = [r["id"] for r in list_passes(gw.conn, "visitor", T0 + H, True, 100)]  # GET /api/visitors
    assert today in listed, (
        "GET /api/visitors (limit 100) should list today's current visitor 钱七; the overstayers "
        f"from the past month, listed first, took every place ({len(listed)} rows, none current)"
    )


def test_this_weeks_overstayer_is_listed_first_and_last_months_not_at_all(gw: Gateway) -> None:
    old = _pass(gw, "上月访客", T0 - timedelta(days=30), 2)
    _inside(gw, old, T0 - timedelta(days=30) + H)
    recent = _pass(gw, "昨天访客", T0 - timedelta(days=1), 2)
    _inside(gw, recent, T0 - timedelta(days=1) + H)
    today = _pass(gw, "钱七", T0, 4)
    gw.now = lambda: T0 + H  # type: ignore[method-assign]
    for limit in (None, 100):
        rows = list_passes(gw.conn, "visitor", T0 + H, True, limit)
        assert [r["id"] for r in rows] == [recent, today], limit
        assert pass_out(gw, rows[0]).overstaying
    # Past the limit the current passes keep their places: the overstayer gives way.
    assert [r["id"] for r in list_passes(gw.conn, "visitor", T0 + H, True, 1)] == [today]
    # The old one is still in the whole list (current=false), for the office.
    assert old in [r["id"] for r in list_passes(gw.conn, "visitor", T0 + H, False, None)]
