"""跟车通过 (Review 57n, found by the reviewer): a car held to pay and let out by the guard's 开闸
stayed 'the lane's last car refused, not let through since' in the tailgate rule, the opening by
hand naming no car. A car the camera never decided that followed it out under the same arm-up was
alarmed naming the held car (待缴费), which the guard had just let out himself: he chased the wrong
driver. Real gateway, SQLite and the simulated lane inputs."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from gateway.runtime.gateway import Gateway
from tests.parking.test_tailgate_fix57i import C, _alarms, _decide
from tests.rush_helpers import parking_gw


def _drives_out(gw: Gateway) -> None:
    io = gw.lane_io
    io.car_present("car-out", "car-out-barrier", False)
    io.car_present("car-out", "car-out-barrier", True)
    time.sleep(0.1)


def test_a_car_following_one_let_out_by_hand_is_not_alarmed_in_its_name(tmp_path: Path) -> None:
    gw = parking_gw(tmp_path)
    gw.start()
    try:
        io = gw.lane_io
        assert _decide(gw, "car-in", C, gw.now() - timedelta(hours=2)).admitted
        io.car_present("car-out", "car-out-barrier", True)
        assert _decide(gw, "car-out", C).reason == "payment_due"
        gw.by_hand.open_lane("car-out", "guard1", "现金已收")  # the guard lets the held car out
        io.barrier("car-out", "car-out-barrier", True)
        time.sleep(0.2)
        _drives_out(gw)  # C drives out; an unread car follows onto the loop, nose to tail
        io.car_present("car-out", "car-out-barrier", False)  # ...and out under the same arm-up
        io.barrier("car-out", "car-out-barrier", False)
        [(kind, words)] = _alarms(gw)
        assert kind == "tailgate"
        assert C not in words and "一辆未放行的车" in words, words
        assert "放行 1 辆，通过 2 辆" in words, words
        out = "SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NOT NULL"
        assert gw.on_worker(lambda c: c.execute(out, (C,)).fetchone()[0]).result(10) == 1  # let out
    finally:
        gw.stop()
