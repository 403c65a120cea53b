"""The daily closed-management summary (REQUIREMENTS 9) as the community office reads it: everyone
who came in during the closed hours is also counted going out, whether an exit reader saw her go
or the guard registered her leaving at the booth (离开登记), and every visitor registered for the
closed hours is counted once, whenever the guard typed her in."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store import passes as store
from tests.parking.conftest import DOOR_OUT, T0, show
from tests.parking.test_operations import CLOSED, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025; CLOSED: 07:00-21:00, 3..9 March
TUE = DAY + 24 * H


def summary(gw: Gateway, day: str) -> Any:
    row = gw.conn.execute("SELECT body FROM daily_reports WHERE day = ?", (day,)).fetchone()
    return json.loads(row[0])["closed_management"]


def new_pass(gw: Gateway, at: datetime, start: datetime, end: datetime) -> dict[str, Any]:
    """A visitor on foot registered at `at` with every field closed management asks for."""
    p = store.NewPass(
        kind="visitor",
        name="王五",
        valid_from=start,
        valid_to=end,
        phone="13800138000",
        id_number="11010519491231002X",
        host_building="3栋",
        host_unit="2单元",
        destination="3栋2单元",
        reason="探亲",
    )
    return store.get_pass(gw.conn, store.create_pass(gw.conn, gw.secrets, p, at, "guard1"))


def running_since(gw: Gateway, day: datetime) -> Gateway:
    """The box has recorded something since 05:00 on `day` (a resident's car, before the closed
    hours): reports are built from the first day on record."""
    assert show(gw, "car-in", "皖B33333", day + 5 * H).admitted
    return gw


def qr(gw: Gateway, lane: str, token: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "qr", token, 1.0, at, "scanner"))


def test_a_visitor_checked_out_at_the_booth_is_one_person_out(make_gw: Callable[..., Gateway]) -> None:
    """She walks in at 09:00 on her QR; at 10:00 she leaves by the gate, which has no reader on the
    way out, and the guard registers her leaving. The office reads 1 in, 1 out, and that the one
    out was registered at the booth."""
    gw = running_since(make_gw(extra=CLOSED + DOOR_OUT), DAY)
    p = new_pass(gw, DAY + 8 * H, DAY + 8 * H, DAY + 12 * H)
    assert qr(gw, "door", p["qr"], DAY + 9 * H).admitted
    store.check_out(gw.conn, p["id"], DAY + 10 * H, "guard1")
    ops(gw, started=DAY).reports(TUE + 5 * M)
    cm = summary(gw, "2025-03-03")
    assert (cm["people_in"], cm["people_out"], cm["people_checked_out"]) == (1, 1, 1), cm


def test_checked_out_then_through_the_exit_door_is_one_person_out(make_gw: Callable[..., Gateway]) -> None:
    """The guard checks her out at 10:00 and she then scans her QR at the exit door (a plain exit).
    One person left: the office is not told two went out."""
    gw = running_since(make_gw(extra=CLOSED + DOOR_OUT), DAY)
    p = new_pass(gw, DAY + 8 * H, DAY + 8 * H, DAY + 12 * H)
    assert qr(gw, "door", p["qr"], DAY + 9 * H).admitted
    store.check_out(gw.conn, p["id"], DAY + 10 * H, "guard1")
    assert qr(gw, "door-out", p["qr"], DAY + 10 * H + 2 * M).admitted
    ops(gw, started=DAY).reports(TUE + 5 * M)
    cm = summary(gw, "2025-03-03")
    assert (cm["people_in"], cm["people_out"], cm["people_checked_out"]) == (1, 1, 1), cm


def test_through_the_exit_door_then_checked_out_is_one_person_out(make_gw: Callable[..., Gateway]) -> None:
    """She leaves through the exit door at 10:00; the guard checks her pass out at 10:30. The
    reader saw her go: one out, none registered at the booth."""
    gw = running_since(make_gw(extra=CLOSED + DOOR_OUT), DAY)
    p = new_pass(gw, DAY + 8 * H, DAY + 8 * H, DAY + 12 * H)
    assert qr(gw, "door", p["qr"], DAY + 9 * H).admitted
    assert qr(gw, "door-out", p["qr"], DAY + 10 * H).admitted
    store.check_out(gw.conn, p["id"], DAY + 10 * H + 30 * M, "guard1")
    ops(gw, started=DAY).reports(TUE + 5 * M)
    cm = summary(gw, "2025-03-03")
    assert (cm["people_in"], cm["people_out"], cm["people_checked_out"]) == (1, 1, 0), cm


def test_a_pass_checked_out_before_its_visitor_came_is_nobody_out(make_gw: Callable[..., Gateway]) -> None:
    """A visit called off: the guard checks out a pass whose visitor never came in. Nobody went out."""
    gw = running_since(make_gw(extra=CLOSED + DOOR_OUT), DAY)
    p = new_pass(gw, DAY + 8 * H, DAY + 9 * H, DAY + 12 * H)
    store.check_out(gw.conn, p["id"], DAY + 10 * H, "guard1")
    ops(gw, started=DAY).reports(TUE + 5 * M)
    cm = summary(gw, "2025-03-03")
    assert (cm["people_in"], cm["people_out"], cm["people_checked_out"]) == (0, 0, 0), cm


def test_a_visitor_registered_the_evening_before_is_counted_once(make_gw: Callable[..., Gateway]) -> None:
    """At 21:30 on Monday, after the closed hours, the guard registers a visit for Tuesday 09:00-12:00
    (the form demanded every closed-management field); she comes in at 09:30 on Tuesday. Monday's
    summary counts her among the visitors registered, Tuesday's does not count her again."""
    gw = running_since(make_gw(extra=CLOSED + DOOR_OUT), DAY)
    p = new_pass(gw, DAY + 21 * H + 30 * M, TUE + 9 * H, TUE + 12 * H)
    assert qr(gw, "door", p["qr"], TUE + 9 * H + 30 * M).admitted
    ops(gw, started=DAY).reports(TUE + 24 * H + 5 * M)
    mon, tue = summary(gw, "2025-03-03"), summary(gw, "2025-03-04")
    assert (mon["visitors_registered"], tue["visitors_registered"]) == (1, 0), (mon, tue)
    assert tue["people_in"] == 1


def test_a_visitor_registered_before_the_hours_for_the_hours_is_counted(
    make_gw: Callable[..., Gateway],
) -> None:
    """Registered at 06:50 for a visit from 07:00: registered for the closed hours, counted."""
    gw = running_since(make_gw(extra=CLOSED + DOOR_OUT), DAY)
    new_pass(gw, TUE + 6 * H + 50 * M, TUE + 7 * H, TUE + 9 * H)
    ops(gw, started=DAY).reports(TUE + 24 * H + 5 * M)
    assert summary(gw, "2025-03-04")["visitors_registered"] == 1


def test_a_visit_after_the_hours_is_not_registered_under_closed_management(
    make_gw: Callable[..., Gateway],
) -> None:
    """Registered at 10:00 for 21:30-23:00, after the closed hours: the form asked for nothing more
    than on any day, and the gate lets her in as on any day. Not a closed-management registration."""
    gw = running_since(make_gw(extra=CLOSED + DOOR_OUT), DAY)
    new_pass(gw, DAY + 10 * H, DAY + 21 * H + 30 * M, DAY + 23 * H)
    ops(gw, started=DAY).reports(TUE + 5 * M)
    assert summary(gw, "2025-03-03")["visitors_registered"] == 0


def test_a_visitor_registered_on_the_eve_of_the_period_is_in_the_eves_summary(
    make_gw: Callable[..., Gateway],
) -> None:
    """On Sunday 2 March, the eve of the period, the guard registers a visit for Monday 09:00. The
    eve's report has no closed hours, yet it carries a summary counting her registration (and the
    period she was registered for), so that the office sees every closed-management registration."""
    gw = running_since(make_gw(extra=CLOSED + DOOR_OUT), DAY - 24 * H)
    new_pass(gw, DAY - 4 * H, DAY + 9 * H, DAY + 11 * H)
    ops(gw, started=DAY - 24 * H).reports(TUE + 5 * M)
    eve, mon = summary(gw, "2025-03-02"), summary(gw, "2025-03-03")
    assert eve["visitors_registered"] == 1, eve
    assert eve["periods"] == ["2025-03-03..2025-03-09 07:00-21:00"]
    assert (eve["people_in"], mon["visitors_registered"]) == (0, 0)
