"""Review 57p: the guard's 开闸 for a car held to pay at a vehicle exit whose barrier controller is
dead (relay takes the pulse, the arm never rises, contact watched) books the car out on the relay's
word: its stay closed, its hold ended, the board greets 一路平安, no 道闸故障. The car is still at
the shut arm; read again by the lane's camera a minute on (its repeat timer) it is a car with no
entry record: 禁止通行 未登记 (a day's fee at exit_without_entry="charge"). The same car let out by a
decision, or by an opening joined to a pending exit, is put back and the board says 道闸故障."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from gateway.core import Presented
from gateway.runtime.again import SAME_CAR
from tests.parking.test_exit_fix57e_arm_never_rose import EXIT_IO, _query, mock_pins  # noqa: F401
from tests.parking.test_opened_by_hand import _camera_at_the_exit
from tests.rush_helpers import parking_gw

C = "苏E55555"  # a temporary car in for 2 hours: held to pay at the exit


def _d(gw, lane, plate, at=None):  # type: ignore[no-untyped-def]
    p = Presented(lane, "plate", plate, 0.99, at or gw.now(), f"{lane}-camera")
    return gw.on_worker(lambda c: gw.handle(p)).result(10)


@pytest.mark.parametrize("exit_without_entry", ["guard", "charge"])
def test_a_guards_open_for_a_held_car_at_a_dead_arm_keeps_it_inside(
    tmp_path: Path, mock_pins: MockFactory, exit_without_entry: str  # noqa: F811
) -> None:
    gw = parking_gw(tmp_path, extra=EXIT_IO, exit_without_entry=exit_without_entry)  # rise_within_s 1.5
    _camera_at_the_exit(gw)
    gw.start()
    try:
        t0 = gw.now()
        assert _d(gw, "car-in", C, t0 - timedelta(hours=2)).admitted
        assert _d(gw, "car-out", C, t0).reason == "payment_due"
        gw.by_hand.open_lane("car-out", "guard1", "先放行")  # the relay takes it; the arm stays down
        time.sleep(2.5)  # past rise_within_s
        gw.on_worker(lambda c: None).result(10)
        assert mock_pins.pin(6).state, "the contact says the arm never rose"
        board = ["".join(lines) for lines in gw.devices.lanes["car-out"].displays[0].shown]
        stay_open = _query(gw, f"SELECT id FROM stays WHERE plate = '{C}' AND exited_at IS NULL")
        alarms = _query(gw, "SELECT kind FROM alarms WHERE cleared_at IS NULL")
        # Still at the shut arm a minute later, the camera reads it again.
        back = _d(gw, "car-out", C, t0 + SAME_CAR + timedelta(seconds=5))
        problems = []
        if not stay_open:
            problems.append("booked out at a shut arm (stay closed)")
        if "道闸故障" not in board[-2] and not any("道闸故障" in b for b in board[2:]):
            problems.append(f"board greeted it, no fault: {board}")
        if ("barrier_no_response",) not in alarms:
            problems.append(f"no barrier_no_response alarm: {alarms}")
        if "no_entry_record" in back.flags:
            problems.append(f"re-read at the shut arm: {back.reason} {back.flags} fee={back.fee_fen}")
        assert not problems, problems
    finally:
        gw.stop()


def test_a_guards_open_for_a_held_car_lets_it_out_once_the_arm_rises(
    tmp_path: Path, mock_pins: MockFactory  # noqa: F811
) -> None:
    gw = parking_gw(tmp_path, extra=EXIT_IO)
    _camera_at_the_exit(gw)
    gw.start()
    try:
        t0 = gw.now()
        assert _d(gw, "car-in", C, t0 - timedelta(hours=2)).admitted
        assert _d(gw, "car-out", C, t0).reason == "payment_due"
        gw.by_hand.open_lane("car-out", "guard1", "先放行")
        stay_open = f"SELECT id FROM stays WHERE plate = '{C}' AND exited_at IS NULL"
        assert _query(gw, stay_open), "not out before its arm rose"
        mock_pins.pin(6).drive_low()  # the arm reaches its limit switch
        time.sleep(2.5)
        gw.on_worker(lambda c: None).result(10)
        gw.on_worker(lambda c: None).result(10)
        board = ["".join(lines) for lines in gw.devices.lanes["car-out"].displays[0].shown]
        assert _query(gw, stay_open) == []
        assert _query(gw, "SELECT kind FROM alarms WHERE cleared_at IS NULL") == []
        assert "一路平安" in board[-1] and not any("道闸故障" in b for b in board)
    finally:
        gw.stop()
