"""A car held to pay at an exit across a gateway restart (watchdog, upgrade, crash): its board
still asks for the fee once the gateway is back, not 一车一杆 减速慢行 over the lowered arm
(Review W on 219249ee)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from drivers.simulated import SimulatedDisplay
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.runtime.hand_lane_writes import _answer
from tests.parking.conftest import T0, parking_toml, seed, show


def _shown(gw: Gateway, lane: str) -> list[list[str]]:
    board = next(d for d in gw.devices.lanes[lane].displays if isinstance(d, SimulatedDisplay))
    return [list(lines) for lines in board.shown]


def test_fee_of_car_at_exit_kept_across_restart(tmp_path: Path) -> None:
    cfg = parse_config(parking_toml(tmp_path / "data", capacity=20), "site.toml")
    seed(cfg, tmp_path)
    at_exit = T0 + timedelta(hours=3)
    gw = Gateway(cfg)
    gw.now = lambda: at_exit
    gw.start()
    try:
        show(gw, "car-in", "苏E12345", T0)
        ev = show(gw, "car-out", "苏E12345", at_exit)
        assert ev.fee_fen and ev.fee_fen > 0
        before = _shown(gw, "car-out")
        assert any("请缴费" in line for line in before[-1])
    finally:
        gw.stop()
    gw = Gateway(cfg)
    gw.now = lambda: at_exit + timedelta(seconds=5)
    gw.start()
    try:
        after = _shown(gw, "car-out")
        asked = _answer(gw.by_hand._car_asked("car-out"), 5)
        assert asked == before[-1]  # the gateway still finds the car asked for its fee
        assert after == [before[-1]], "start replaced the held car's fee with the idle line"
    finally:
        gw.stop()
