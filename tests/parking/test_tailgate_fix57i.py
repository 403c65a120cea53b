"""跟车通过 (Review 57i, found by the reviewer): two faults in the rule that named cars that never
tailgated. A car queued behind one let out under the same arm-up, read and held to pay while that
car was on the loop, was alarmed as gone through (放行 2 辆，通过 2 辆) while still at the arm; and a
car let out as the arm was coming down, its pulse sending the arm back up before the polled 'down'
edge came, was alarmed when it drove out on its own decision (放行 0 辆，通过 1 辆). Real gateway,
SQLite and the simulated lane inputs."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path

from gateway.alarm_texts import render_stored
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.rush_helpers import parking_gw

A, B = "皖A11111", "皖B33333"  # residents: leave free
C = "苏E55555"  # a temporary car, in for 2 hours: owes a fee


def _decide(gw: Gateway, lane: str, plate: str, at: datetime | None = None) -> AccessEvent:
    p = Presented(lane, "plate", plate, 0.99, at or gw.now(), f"{lane}-camera")
    return gw.on_worker(lambda c: gw.handle(p)).result(10)


def _alarms(gw: Gateway) -> list[tuple[str, str]]:
    time.sleep(0.5)
    gw.on_worker(lambda c: None).result(10)
    with sqlite3.connect(gw.db_path) as conn:
        return [(k, render_stored(m, "zh")) for k, m in conn.execute("SELECT kind, message FROM alarms")]


def _came_in(gw: Gateway, *plates: str) -> None:
    for plate in plates:
        assert _decide(gw, "car-in", plate, gw.now() - timedelta(hours=2)).admitted


def test_the_car_queued_behind_the_second_car_let_out_under_one_arm_up_is_not_named(tmp_path: Path) -> None:
    gw = parking_gw(tmp_path)
    gw.start()
    try:
        io = gw.lane_io
        _came_in(gw, A, B, C)
        io.car_present("car-out", "car-out-barrier", True)  # A on the loop
        assert _decide(gw, "car-out", A).admitted
        io.barrier("car-out", "car-out-barrier", True)
        io.car_present("car-out", "car-out-barrier", False)  # A drives out
        io.car_present("car-out", "car-out-barrier", True)  # B on the loop, the arm still up
        assert _decide(gw, "car-out", B).admitted
        assert _decide(gw, "car-out", C).reason == "payment_due"  # read queued behind B
        time.sleep(0.2)
        io.car_present("car-out", "car-out-barrier", False)  # B drives out
        time.sleep(0.2)
        io.barrier("car-out", "car-out-barrier", False)  # down in front of C
        assert _alarms(gw) == [], "the guard was told C drove out without paying; C is at the arm"
    finally:
        gw.stop()


def test_a_car_let_out_just_before_a_late_down_edge_is_no_tailgate(tmp_path: Path) -> None:
    gw = parking_gw(tmp_path)
    gw.start()
    try:
        io = gw.lane_io
        _came_in(gw, A, B)
        io.car_present("car-out", "car-out-barrier", True)
        assert _decide(gw, "car-out", A).admitted
        io.barrier("car-out", "car-out-barrier", True)
        io.car_present("car-out", "car-out-barrier", False)  # A out; the arm starts down
        io.car_present("car-out", "car-out-barrier", True)  # B onto the loop
        assert _decide(gw, "car-out", B).admitted  # its pulse reverses the falling arm
        io.barrier("car-out", "car-out-barrier", False)  # the 'down' edge, a poll late
        time.sleep(0.3)
        io.barrier("car-out", "car-out-barrier", True)  # back up on B's pulse
        time.sleep(0.2)
        io.car_present("car-out", "car-out-barrier", False)  # B drives out
        io.barrier("car-out", "car-out-barrier", False)
        assert _alarms(gw) == [], "B drove out on its own decision"
    finally:
        gw.stop()
