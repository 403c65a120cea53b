"""After an ordinary passage the board kept the car's words over the lowered arm until the next
decision: 一路平安 皖B33333 at the exit, 临时车 请入场 苏E12345 at the entrance, read by the next driver
at a shut barrier, where docs/hardware.md promises never a 请通行 or 一路平安 left at a lowered arm
(Review 66C). Now the idle line 一车一杆 减速慢行 replaces a greeting once the barrier's contact says it
is down again, or, at a lane whose barrier is not watched, a fixed time after it; not said, and never
over the words of a car told something since. Real gpio driver on gpiozero mock pins (the contact),
real gateway and SQLite, a real voice program."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

import gateway.runtime.lane_boards as lane_boards
from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import wait_for
from tests.parking.conftest import parking_toml, seed

IDLE = ["一车一杆 减速慢行"]
SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2] + chr(10))'
# The exit's barrier relay on GPIO 17, its "up" limit switch on 6 (on, pulled low, while the arm is up).
GPIO_EXIT = """
[[devices]]
id = "car-out-io"
lane = "car-out"
kind = "relay"
driver = "gpio"
pin = 17
inputs = { barrier_open = 6 }
bounce_s = 0
"""
ENTRANCE_LED = """
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"
"""


def _voice(said: Path) -> str:
    return f"""
[[devices]]
id = "car-out-voice"
lane = "car-out"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""


@pytest.fixture
def site(tmp_path: Path, gateways: Callable[[Gateway], Gateway]) -> Callable[[str], Gateway]:
    def make(extra: str) -> Gateway:
        cfg = parse_config(parking_toml(tmp_path / "data", extra=extra, capacity=20), "site.toml")
        seed(cfg, tmp_path)
        return gateways(Gateway(cfg))

    return make


def _decide(gw: Gateway, lane: str, plate: str, ago: timedelta = timedelta(0)) -> AccessEvent:
    at = gw.now() - ago
    return gw.on_worker(lambda c: gw.handle(Presented(lane, "plate", plate, 0.99, at, "cam"))).result(10)


def _board(gw: Gateway, lane: str) -> list[str]:
    return list(gw.devices.lanes[lane].displays[0].shown[-1])  # type: ignore[attr-defined]


def _said(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_the_exit_shows_its_idle_line_once_the_arm_is_down_again_and_says_nothing_more(
    site: Callable[[str], Gateway], mock_pins: MockFactory, tmp_path: Path
) -> None:
    said = tmp_path / "said.txt"
    gw = site(GPIO_EXIT + _voice(said))
    contact = mock_pins.pin(6)
    assert _decide(gw, "car-in", "皖B33333", ago=timedelta(hours=1)).admitted
    assert _decide(gw, "car-out", "皖B33333").admitted  # R2's car leaves, free
    assert _board(gw, "car-out") == ["一路平安", "皖B33333"]
    wait_for(lambda: _said(said), "the goodbye said")
    contact.drive_low()  # the arm up: the car drives out
    time.sleep(0.5)
    assert _board(gw, "car-out") == ["一路平安", "皖B33333"]  # under the raised arm still
    contact.drive_high()  # the arm down again behind it
    wait_for(lambda: _board(gw, "car-out") == IDLE, "the idle line over the lowered arm", timeout=10)
    time.sleep(1.0)
    assert _said(said) == ["一路平安 皖B 3 3 3 3 3"], "the idle line is shown, not said"


def test_a_car_told_to_pay_behind_the_car_let_out_keeps_its_words_as_the_arm_comes_down(
    site: Callable[[str], Gateway], mock_pins: MockFactory
) -> None:
    gw = site(GPIO_EXIT)
    contact = mock_pins.pin(6)
    for car in ("皖B33333", "苏E12345"):
        assert _decide(gw, "car-in", car, ago=timedelta(hours=2)).admitted
    assert _decide(gw, "car-out", "皖B33333").admitted
    contact.drive_low()  # up for 皖B33333
    held = _decide(gw, "car-out", "苏E12345")  # the car behind it reaches the barrier, owes
    assert held.reason == "payment_due"
    contact.drive_high()  # down behind 皖B33333, in front of 苏E12345
    time.sleep(1.0)
    assert _board(gw, "car-out") == [f"临时车 请缴费 {held.fee_fen // 100}元", "苏E12345"]


def test_a_lane_without_a_barrier_contact_shows_its_idle_line_a_while_after_a_car_let_in(
    site: Callable[[str], Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lane_boards, "IDLE_AFTER_S", 0.5)
    gw = site(ENTRANCE_LED)
    assert _decide(gw, "car-in", "苏E12345").admitted
    assert _board(gw, "car-in") == ["临时车 请入场", "苏E12345"]
    wait_for(lambda: _board(gw, "car-in") == IDLE, "the entrance's idle line", timeout=10)
    held = _decide(gw, "car-out", "苏E12345", ago=timedelta(hours=-2))  # two hours on: it owes
    assert held.reason == "payment_due"
    time.sleep(1.5)
    asked = [f"临时车 请缴费 {held.fee_fen // 100}元", "苏E12345"]
    assert _board(gw, "car-out") == asked, "a car asked to pay keeps its words"
