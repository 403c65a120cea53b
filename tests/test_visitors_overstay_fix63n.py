"""Review n: a visitor on foot whose pass ran out while she is still inside vanished from the guard's
visitor list (访客登记 /visitors, GET /api/visitors): the list held passes whose window had not ended
only, and nothing said who is still inside (the occupancy page gives a bare count). At shift end the
guard could not see that 钱七 walked in at 10:00 on a pass that ended at 11:00 and never walked out,
the one visitor he should go and look for. Now the list also holds such a pass, first and marked
overstaying, and each entry says how many on it are inside now (docs/guard-app.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import people_inside
from gateway.store.passes import NewPass, check_out, create_pass, list_passes
from gateway.web.i18n import TEXTS
from tests.parking.conftest import DOOR_OUT, T0, parking_toml, seed
from tests.ui.conftest import ADMIN, Site, bearer, log_in, make_config, start_site, stored, wait_for

H = timedelta(hours=1)


def _gateway(tmp_path: Path, extra: str) -> Gateway:
    cfg = parse_config(parking_toml(tmp_path / "data", extra=extra), "site.toml")
    seed(cfg, tmp_path)
    return Gateway(cfg)


@pytest.fixture
def gw(tmp_path: Path) -> Iterator[Gateway]:
    g = _gateway(tmp_path, DOOR_OUT)
    yield g
    g.conn.close()


def _qr(gw: Gateway, pass_id: int) -> str:
    sql = "SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?"
    row = gw.conn.execute(sql, (pass_id,)).fetchone()
    return str(row[0])


def _walked_in(gw: Gateway, name: str, hours: int) -> int:
    new = NewPass(
        "visitor",
        name,
        T0,
        T0 + hours * H,
        phone="13800138000",
        host_building="3栋",
        host_unit="2单元",
        reason="探亲",
    )
    pid = create_pass(gw.conn, gw.secrets, new, T0, "guard1")
    assert gw.handle(Presented("door", "qr", _qr(gw, pid), 1.0, T0 + H, "door-reader")).admitted
    return pid


def test_visitor_inside_past_her_pass_end_is_still_on_the_guards_list(gw: Gateway) -> None:
    pid = _walked_in(gw, "钱七", 2)
    # Shift end, 20:00: she never walked out; the occupancy page says one person is inside.
    shift_end = T0 + 11 * H
    assert people_inside(gw.conn) == 1
    listed = {r["id"]: r for r in list_passes(gw.conn, "visitor", shift_end, True, None)}
    assert pid in listed, (
        "the guard's visitor list should still show a visitor recorded inside on foot whose pass "
        "has ended (overstayed, not checked out), so the shift can find her; it shows nobody"
    )
    assert listed[pid]["inside"] == 1
    # Checked out at the booth (she was found and left), she is off the list.
    check_out(gw.conn, pid, shift_end, "guard1")
    assert pid not in [r["id"] for r in list_passes(gw.conn, "visitor", shift_end, True, None)]


def test_an_overstayer_who_walks_out_leaves_the_list(gw: Gateway) -> None:
    pid = _walked_in(gw, "钱七", 2)
    out = gw.handle(Presented("door-out", "qr", _qr(gw, pid), 1.0, T0 + 5 * H, "door-out-reader"))
    assert out.admitted  # a pass over still lets its holder out
    assert pid not in [r["id"] for r in list_passes(gw.conn, "visitor", T0 + 6 * H, True, None)]


def test_the_list_tells_who_of_todays_visitors_is_still_inside(gw: Gateway) -> None:
    """Two visitors on foot, both passes current: 钱七 walked out at 11:00, 孙八 is still inside.
    The visitor list (PassOut, as GET /api/visitors and /visitors give it) reads the same for both."""
    from gateway.api.passes import pass_out

    ids = []
    for name in ("钱七", "孙八"):
        new = NewPass("visitor", name, T0, T0 + 12 * H, host_building="3栋", host_unit="2单元")
        pid = create_pass(gw.conn, gw.secrets, new, T0, "guard1")
        assert gw.handle(Presented("door", "qr", _qr(gw, pid), 1.0, T0 + H, "door-reader")).admitted
        ids.append((pid, _qr(gw, pid)))
    assert gw.handle(Presented("door-out", "qr", ids[0][1], 1.0, T0 + 2 * H, "door-out-reader")).admitted
    assert people_inside(gw.conn) == 1
    gw.now = lambda: T0 + 3 * H  # type: ignore[method-assign]
    rows = {
        r["id"]: pass_out(gw, r).model_dump(exclude={"id", "name", "created_at"})
        for r in list_passes(gw.conn, "visitor", T0 + 3 * H, True, None)
    }
    gone, inside = rows[ids[0][0]], rows[ids[1][0]]
    assert gone != inside, (
        "the guard's visitor list should say which visitor is still inside (孙八) and which has "
        f"walked out (钱七); both read the same: {inside}"
    )
    assert (gone["inside"], inside["inside"]) == (0, 1)
    assert not gone["overstaying"] and not inside["overstaying"]


def test_where_nobody_is_seen_walking_out_no_one_is_said_to_be_inside(tmp_path: Path) -> None:
    """A site with no exit reader on foot records everyone who walked in as inside for good: the list
    neither holds passes that ended nor says anyone is inside (it cannot know)."""
    from gateway.api.passes import pass_out

    gw = _gateway(tmp_path, "")
    try:
        pid = _walked_in(gw, "钱七", 2)
        gw.now = lambda: T0 + 11 * H  # type: ignore[method-assign]
        assert pid not in [r["id"] for r in list_passes(gw.conn, "visitor", T0 + 11 * H, True, None, False)]
        current = list_passes(gw.conn, "visitor", T0 + H, True, None, False)
        assert pass_out(gw, current[0]).inside is None
    finally:
        gw.conn.close()


@pytest.fixture
def door_site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data", DOOR_OUT))
    yield s
    s.gw.stop()


def test_the_guard_sees_the_overstayer_first_and_marked(
    door_site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the page and in the API, in Chinese by default and in English when asked: 钱七's pass ended
    while she is inside; 孙八 (registered after her, on a pass still valid) has not come yet."""
    site = door_site
    with TestClient(create_app(site.gw)) as client:
        guard = bearer(site.guard_token)
        short = {
            "name": "钱七",
            "host_building": "3栋",
            "host_unit": "2单元",
            "valid_to": (site.gw.now() + H).isoformat(),
        }
        qian = client.post("/api/visitors", json=short, headers=guard)
        assert qian.status_code == 201, qian.text
        sun = client.post(
            "/api/visitors",
            json={
                "name": "孙八",
                "host_building": "3栋",
                "host_unit": "2单元",
                "valid_to": (site.gw.now() + 30 * H).isoformat(),
            },
            headers=guard,
        )
        assert sun.status_code == 201, sun.text
        site.traffic.show(
            "door-reader", "qr", client.get(f"/api/passes/{qian.json()['id']}", headers=guard).json()["qr"]
        )
        subject = f"visitor:{qian.json()['id']}"
        wait_for(lambda: stored(site, "SELECT 1 FROM presence WHERE subject = ? AND inside = 1", subject))
        later = site.gw.now() + 3 * H
        monkeypatch.setattr(site.gw, "now", lambda: later)

        listed = client.get("/api/visitors", headers=guard).json()
        assert [p["id"] for p in listed] == [qian.json()["id"], sun.json()["id"]], listed
        assert (listed[0]["state"], listed[0]["overstaying"], listed[0]["inside"]) == ("expired", True, 1)
        assert (listed[1]["overstaying"], listed[1]["inside"]) == (False, 0)

        csrf = log_in(client, ADMIN)
        for lang in ("zh", "en"):
            if lang == "en":
                assert client.post("/api/me/language", json={"language": "en"}, headers=csrf).is_success
            page = client.get("/visitors").text
            words = {k: v[0 if lang == "zh" else 1] for k, v in TEXTS.items()}
            first = page.index('data-pass="')
            row = page[first : page.index("</tr>", first)]
            assert f'data-pass="{qian.json()["id"]}"' in row, "the overstayer is listed first"
            assert words["pass.overstaying"] in row, row
            assert words["pass.inside"].replace("{n}", "1") in row, row
