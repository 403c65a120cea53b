"""A visitor checked out at the booth who then walks out through the door's exit reader: the
check-out is no missed read, her exit has its entry on record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import people_inside
from gateway.store.passes import NewPass, check_out, create_pass
from tests.parking.conftest import DOOR_OUT, T0

M = timedelta(minutes=1)


def _visitor(gw: Gateway) -> tuple[int, str]:
    """王五's pass, from 08:59 for four hours, and its QR."""
    visit = NewPass("visitor", "王五", T0 - M, T0 + 4 * 60 * M, host_building="3栋", host_unit="2单元")
    pid = create_pass(gw.conn, gw.secrets, visit, T0 - M, "guard1")
    token = gw.conn.execute("SELECT value FROM credentials WHERE kind = 'qr' AND pass_id = ?", (pid,))
    return pid, token.fetchone()[0]


def _at(gw: Gateway, lane: str, token: str, minutes: int) -> AccessEvent:
    return gw.handle(Presented(lane, "qr", token, 1.0, T0 + minutes * M, f"{lane}-qr"))


def test_a_visitor_checked_out_at_the_booth_leaves_through_the_door_without_no_entry_record(
    make_gw: Callable[..., Gateway],
) -> None:
    """王五 comes in through the door on her pass's QR at 09:00; as she leaves at 10:00 the guard
    checks her out at the booth and she scans the QR at the exit door. Her exit was recorded (and
    counted in the daily report, and sent upstream) as 无入场记录 no_entry_record, a missed entry
    read, though her entry is on record an hour before; it is a plain exit."""
    gw = make_gw(extra=DOOR_OUT)
    pid, token = _visitor(gw)
    came_in = _at(gw, "door", token, 0)
    assert (came_in.admitted, came_in.reason) == (True, "visitor")
    check_out(gw.conn, pid, T0 + 60 * M, "guard1")
    assert people_inside(gw.conn) == 0  # the check-out still takes her out of the count
    left = _at(gw, "door-out", token, 61)
    report = build_report(
        gw.conn,
        site_id="park-site",
        lanes=gw.site.lanes,
        day=T0.date(),
        hour=6,
        tz=gw.site.tz,
        built_at=T0 + 24 * 60 * M,
    )
    seen = (left.admitted, left.reason, left.flags, report["flags"]["no_entry_record"])
    assert seen == (True, "visitor", (), 0), (
        f"the visitor's exit after check-out was recorded as {seen[:3]} and the report counts "
        f"{seen[3]} exit(s) with no entry record, though she came in through the door at 09:00"
    )
    assert people_inside(gw.conn) == 0


def test_a_second_scan_at_the_exit_door_after_she_left_is_flagged(make_gw: Callable[..., Gateway]) -> None:
    """Once the exit door has let her out, a second exit on the QR has no entry before it."""
    gw = make_gw(extra=DOOR_OUT)
    pid, token = _visitor(gw)
    _at(gw, "door", token, 0)
    check_out(gw.conn, pid, T0 + 60 * M, "guard1")
    _at(gw, "door-out", token, 61)
    again = _at(gw, "door-out", token, 70)
    assert (again.admitted, again.flags) == (True, ("no_entry_record",))


def test_a_visitor_checked_out_who_never_came_through_a_door_is_still_flagged(
    make_gw: Callable[..., Gateway],
) -> None:
    """Checked out with no entry on foot recorded (she walked in behind someone): her exit at the
    door is a missed entry read, as before."""
    gw = make_gw(extra=DOOR_OUT)
    pid, token = _visitor(gw)
    check_out(gw.conn, pid, T0 + 60 * M, "guard1")
    left = _at(gw, "door-out", token, 61)
    assert (left.admitted, left.flags) == (True, ("no_entry_record",))


def test_checked_out_she_is_still_refused_at_the_entrance_door(make_gw: Callable[..., Gateway]) -> None:
    """The check-out ends the pass: back at the entrance door on it, she is refused."""
    gw = make_gw(extra=DOOR_OUT)
    pid, token = _visitor(gw)
    _at(gw, "door", token, 0)
    check_out(gw.conn, pid, T0 + 60 * M, "guard1")
    assert _at(gw, "door", token, 62).reason == "expired"
