"""跟车逃费 (Review 57e): at a vehicle exit, a resident's car is let out (the arm rises); a temporary
car that owes a fee follows nose to tail, is held to pay (payment_due) while the arm is still up for
the car in front, and drives out under it. The lane's loop and barrier contact say so: the held car
left the loop while the arm was up, and the arm came down after it. Before, nobody was told: the car
still inside on record and its fee lost. Now a `tailgate` event alarm (跟车通过) names the lane and
the car, for the guard to take the fee or record it; no stay is made up for the car."""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path

from gateway.alarm_texts import render_stored
from gateway.core import Presented
from tests.rush_helpers import parking_gw

RESIDENT = "皖B33333"  # R2's car on its own slot B002: leaves free
STRANGER = "苏E55555"  # a temporary car, in for 2 hours: owes a fee


def test_a_held_car_that_follows_the_car_in_front_out_under_the_raised_arm_is_alarmed(tmp_path: Path) -> None:
    gw = parking_gw(tmp_path)
    gw.start()
    try:
        lane_io = gw.lane_io
        now = gw.now()
        for plate in (RESIDENT, STRANGER):
            ev = gw.on_worker(
                lambda c, plate=plate: gw.handle(
                    Presented("car-in", "plate", plate, 0.99, now - timedelta(hours=2), "car-in-camera")
                )
            ).result(10)
            assert ev.admitted
        # The resident's car on the exit loop, read and let out: the arm rises.
        lane_io.car_present("car-out", "car-out-barrier", True)
        out = gw.on_worker(
            lambda c: gw.handle(Presented("car-out", "plate", RESIDENT, 0.99, gw.now(), "car-out-camera"))
        ).result(10)
        assert out.admitted
        lane_io.barrier("car-out", "car-out-barrier", True)
        lane_io.car_present("car-out", "car-out-barrier", False)  # drives off the loop
        # The stranger, nose to tail, on the loop while the arm is still up: held to pay.
        lane_io.car_present("car-out", "car-out-barrier", True)
        held = gw.on_worker(
            lambda c: gw.handle(Presented("car-out", "plate", STRANGER, 0.99, gw.now(), "car-out-camera"))
        ).result(10)
        assert held.reason == "payment_due", held.reason
        time.sleep(0.2)
        lane_io.car_present("car-out", "car-out-barrier", False)  # ... and drives out under the arm
        time.sleep(0.2)
        lane_io.barrier("car-out", "car-out-barrier", False)  # the arm comes down behind it
        time.sleep(0.5)
        gw.on_worker(lambda c: None).result(10)
        with sqlite3.connect(gw.db_path) as conn:
            alarms = conn.execute("SELECT kind, source, message, cleared_at FROM alarms").fetchall()
            inside = [r[0] for r in conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL")]
            upstream = conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm'").fetchall()
        assert inside == [STRANGER]  # no stay made up: the alarm is the record
        [(kind, source, message, cleared)] = alarms
        assert (kind, cleared) == ("tailgate", None) and source.startswith("car-out@")
        words = render_stored(message, "zh")
        assert "跟车通过" in words and STRANGER in words and "待缴费" in words, words
        assert any("tailgate" in row[0] and STRANGER in row[0] for row in upstream)
    finally:
        gw.stop()


def test_a_car_refused_at_the_entrance_that_follows_a_resident_in_under_the_raised_arm_is_alarmed(
    tmp_path: Path,
) -> None:
    """The car park's one shared space is taken. A resident's car (its own slot) is let in; a
    stranger nose to tail is refused zone_full while the arm is still up for the resident, rolls
    over the loop under the raised arm and in, and the arm comes down behind it. The car park now
    holds two temporary cars in one space; the gateway knows one: the alarm tells the guard."""
    gw = parking_gw(tmp_path, capacity=3)  # slots B001, B002 and one shared space
    gw.start()
    try:
        lane_io = gw.lane_io

        def decide(lane: str, plate: str):  # type: ignore[no-untyped-def]
            return gw.on_worker(
                lambda c: gw.handle(Presented(lane, "plate", plate, 0.99, gw.now(), f"{lane}-camera"))
            ).result(10)

        lane_io.car_present("car-in", "car-in-barrier", True)
        assert decide("car-in", "苏E11111").admitted  # fills the one shared space, and drives in
        lane_io.barrier("car-in", "car-in-barrier", True)
        lane_io.car_present("car-in", "car-in-barrier", False)
        lane_io.barrier("car-in", "car-in-barrier", False)
        lane_io.car_present("car-in", "car-in-barrier", True)
        assert decide("car-in", RESIDENT).admitted  # own slot B002: let in, the arm rises
        lane_io.barrier("car-in", "car-in-barrier", True)
        lane_io.car_present("car-in", "car-in-barrier", False)
        lane_io.car_present("car-in", "car-in-barrier", True)  # the stranger, nose to tail
        refused = decide("car-in", STRANGER)
        assert refused.reason == "zone_full", refused.reason
        time.sleep(0.2)
        lane_io.car_present("car-in", "car-in-barrier", False)  # rolls in under the arm
        time.sleep(0.2)
        lane_io.barrier("car-in", "car-in-barrier", False)
        time.sleep(0.5)
        gw.on_worker(lambda c: None).result(10)
        with sqlite3.connect(gw.db_path) as conn:
            alarms = conn.execute("SELECT kind, message FROM alarms").fetchall()
        [(kind, message)] = alarms
        assert kind == "tailgate"
        assert f"{STRANGER} (refused: car park full)" in render_stored(message, "en")
    finally:
        gw.stop()


def test_two_cars_let_out_nose_to_tail_under_one_arm_up_raise_nothing(tmp_path: Path) -> None:
    gw = parking_gw(tmp_path)
    gw.start()
    try:
        lane_io, now = gw.lane_io, gw.now()
        for plate in ("皖A11111", RESIDENT):  # both residents' cars: each leaves free
            gw.on_worker(
                lambda c, plate=plate: gw.handle(
                    Presented("car-in", "plate", plate, 0.99, now - timedelta(hours=2), "car-in-camera")
                )
            ).result(10)
        lane_io.car_present("car-out", "car-out-barrier", True)
        for plate in ("皖A11111", RESIDENT):  # the second read in the queue while the arm rises
            out = gw.on_worker(
                lambda c, plate=plate: gw.handle(
                    Presented("car-out", "plate", plate, 0.99, gw.now(), "car-out-camera")
                )
            ).result(10)
            assert out.admitted, out.reason
        lane_io.barrier("car-out", "car-out-barrier", True)
        for on in (False, True, False):  # the first car off the loop, the second on it and off
            lane_io.car_present("car-out", "car-out-barrier", on)
        lane_io.barrier("car-out", "car-out-barrier", False)
        gw.on_worker(lambda c: None).result(10)
        with sqlite3.connect(gw.db_path) as conn:
            assert conn.execute("SELECT kind FROM alarms").fetchall() == []
    finally:
        gw.stop()
