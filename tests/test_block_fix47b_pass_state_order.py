"""The booth's pass check of a pass whose car was blocked by its plate: it says what the door says
of the visitor's QR, and 车辆已禁用，仅可步行入内 (`vehicle_blocked`, on foot only) only where the door
lets her in. A pass the door refuses (ended, not begun, outside its hours, kept out by closed
management) shows as the door refuses it, never "may walk in"; the car's block is still there for
the guard to see, as the pass's `vehicle_blocked` flag (GET /api/passes/{id}, the pass page)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.api.passes import pass_out
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, Occupant, create_pass, get_pass, state_of
from gateway.store.registry import set_blocked
from gateway.web.i18n import js_texts
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_operations import CLOSED
from tests.ui.conftest import ADMIN, Site, bearer, log_in, make_config, script_errors, start_site
from tests.ui.test_guard_browser import LANDSCAPE, browser, expect, open_page, page_at  # noqa: F401
from tests.ui.test_guard_browser import pytestmark as needs_chromium
from tests.ui.words_helpers import own_site  # noqa: F401

M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
CAR = "苏E66666"


def _blocked_car_pass(gw: Gateway, start: datetime, end: datetime, **more: object) -> tuple[int, str]:
    """A visitor pass for 钱七's car 苏E66666, the car blocked by its plate ("Block now") since."""
    visit = NewPass(
        "visitor", "钱七", start, end,
        host_building="3栋", host_unit="2单元", plate=CAR, occupants=(Occupant("钱七"),),
        **more,  # type: ignore[arg-type]
    )
    pid = create_pass(gw.conn, gw.secrets, visit, T0 - 3 * D, "guard1")
    qr = gw.conn.execute("SELECT value FROM credentials WHERE kind='qr' AND pass_id=?", (pid,)).fetchone()[0]
    set_blocked(gw.conn, T0 - 3 * D + M, "guard1", ("plate", CAR), True, "车辆被盗")
    return pid, str(qr)


def _at_door(gw: Gateway, qr: str, at: datetime) -> tuple[bool, str]:
    door = gw.handle(Presented("door", "qr", qr, 1.0, at, "door-reader"))
    return door.admitted, door.reason


@pytest.mark.parametrize(
    ("window", "hours", "door_says"),
    [
        ((T0 - 2 * D, T0 - D), (), "expired"),
        ((T0 + D, T0 + 2 * D), (), "upcoming"),
        ((T0 - H, T0 + D), ("13:00-17:00",), "outside_hours"),
    ],
    ids=["ended-yesterday", "booked-for-tomorrow", "outside-its-hours"],
)
def test_a_pass_the_door_refuses_shows_the_doors_refusal_not_on_foot_only(
    make_gw: Callable[..., Gateway],  # noqa: F811
    window: tuple[datetime, datetime],
    hours: tuple[str, ...],
    door_says: str,
) -> None:
    """It showed 车辆已禁用，仅可步行入内 (on foot only) while the door refused the visitor's QR: the
    guard was told she may walk in. It shows 已过期 / 未到时间 / 不在通行时段, as the door decides."""
    gw = make_gw()
    pid, qr = _blocked_car_pass(gw, *window, hours=hours)
    admitted, reason = _at_door(gw, qr, T0)
    assert not admitted and reason != "blocked", reason
    shown = state_of(get_pass(gw.conn, pid), T0)
    assert shown == door_says, (
        f"the pass check shows {shown!r} (车辆已禁用，仅可步行入内: on foot only) while the door "
        f"refuses the visitor's QR: {reason}"
    )


def test_a_pass_closed_management_keeps_out_shows_so_with_its_car_blocked(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Closed management 07:00-21:00 asks the visitor's ID number, which this pass lacks: the door
    refuses her (closed_management), and the check says 封闭管理期间不予放行, not "on foot only"."""
    gw = make_gw(extra=CLOSED)
    day = T0.replace(hour=0)
    pid, qr = _blocked_car_pass(gw, day - 2 * H, day + 12 * H)
    at = day + 8 * H
    assert _at_door(gw, qr, at) == (False, "closed_management")
    shown = state_of(get_pass(gw.conn, pid), at, gw.site.policy.closed_period(at))
    assert shown == "closed_management", f"the pass check shows {shown!r} where the door keeps her out"


def test_a_pass_the_door_admits_still_says_its_car_is_blocked(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Valid now, its visitor walks in on the QR while her car is kept out: on foot only."""
    gw = make_gw()
    pid, qr = _blocked_car_pass(gw, T0 - H, T0 + D)
    assert _at_door(gw, qr, T0) == (True, "visitor")
    assert state_of(get_pass(gw.conn, pid), T0) == "vehicle_blocked"


@pytest.mark.parametrize(
    ("window", "state"),
    [((T0 - 2 * D, T0 - D), "expired"), ((T0 - H, T0 + D), "vehicle_blocked")],
    ids=["ended-yesterday", "valid-now"],
)
def test_the_pass_tells_the_guard_its_car_is_blocked_whatever_its_state(
    make_gw: Callable[..., Gateway], window: tuple[datetime, datetime], state: str  # noqa: F811
) -> None:
    """A pass over (or not begun) shows as such, and its `vehicle_blocked` flag still says that its
    car is blocked: the guard re-registering the visitor is told the car stays out. Lifting the
    block clears it."""
    gw = make_gw()
    gw.now = lambda: T0  # type: ignore[method-assign]
    pid, _ = _blocked_car_pass(gw, *window)
    shown = pass_out(gw, get_pass(gw.conn, pid))
    assert (shown.state, shown.vehicle_blocked) == (state, True)
    set_blocked(gw.conn, T0 - M, "admin", ("plate", CAR), False, "车辆已找回")
    assert pass_out(gw, get_pass(gw.conn, pid)).vehicle_blocked is False


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


def test_the_pass_check_and_the_pass_page_show_both_not_begun_and_car_blocked(site: Site) -> None:
    """A visit booked for tomorrow, its car blocked: the check (POST /api/passes/check) answers
    upcoming with vehicle_blocked, and the pass page shows 车辆已禁用 beside 未到时间."""
    tomorrow = site.gw.now() + D
    visit = {
        "name": "钱七", "host_building": "3栋", "host_unit": "2单元", "plate": CAR,
        "valid_from": tomorrow.isoformat(), "valid_to": (tomorrow + H).isoformat(),
    }
    guard = bearer(site.guard_token)
    with TestClient(create_app(site.gw)) as client:
        made = client.post("/api/visitors", json=visit, headers=guard)
        assert made.status_code == 201, made.text
        block = {"kind": "plate", "value": CAR, "reason": "车辆被盗"}
        assert client.post("/api/credentials/block", json=block, headers=guard).is_success
        checked = client.post("/api/passes/check", json={"token": made.json()["qr"]}, headers=guard).json()
        assert (checked["state"], checked["vehicle_blocked"]) == ("upcoming", True), checked
        log_in(client, ADMIN)  # pages need the cookie
        page = client.get(f"/passes/{made.json()['id']}").text
    assert 'id="pass-car-blocked"' in page and js_texts("zh")["pass.car_blocked"] in page
    assert js_texts("zh")["state.upcoming"] in page


@needs_chromium
def test_the_guards_pass_check_says_both_in_words(
    own_site: tuple[Site, str],  # noqa: F811
    browser: Any,  # noqa: F811
) -> None:
    """On 访客登记 the guard checks the pass booked for tomorrow whose car is blocked: 未到时间,
    and that its car is refused at the car lanes."""
    site, url = own_site
    tomorrow = site.gw.now() + D
    visit = {
        "name": "钱七", "host_building": "3栋", "host_unit": "2单元", "plate": CAR,
        "valid_from": tomorrow.isoformat(), "valid_to": (tomorrow + H).isoformat(),
    }
    guard = bearer(site.guard_token)
    with httpx2.Client(base_url=url) as client:
        made = client.post("/api/visitors", json=visit, headers=guard)
        assert made.status_code == 201, made.text
        block = {"kind": "plate", "value": CAR, "reason": "车辆被盗"}
        assert client.post("/api/credentials/block", json=block, headers=guard).is_success
    page = page_at(browser, url, LANDSCAPE)
    open_page(page, "visitors")
    page.fill("input[name=token]", made.json()["qr"])
    page.click("form[data-then=pass-state] [type=submit]")
    expect(page.locator("#pass-state")).to_contain_text("→ 未到时间 · 车辆已禁用：车行出入口不放行此车")
    assert not script_errors(page), script_errors(page)
