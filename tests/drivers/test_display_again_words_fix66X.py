"""A shared slot's second car at the entrance is told why it pays, 一位多车 临时车 请入场 (5de5571f).
It stands at the barrier and the lane's camera decides it again (flag `again`, every 15 s). That
repeat carries only the `again` flag (decide.py _again: reports count it so), not `shared_slot`:
the board was switched to a stranger's 临时车 请入场 and the driver heard it, told something else
about the same passage (Review 66 X). Now a repeat that lets the same car in as before keeps what
the lane told it, and is not said. A fee grown on a repeat is still news, shown and said. Real
gateway, SQLite and voice program; the camera is the hardware edge."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)

SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2] + chr(10))'
SECOND = "皖A22222"  # R1's second car: B001 is taken by 皖A11111


LED = """
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"
"""


def _voice(said: Path, lane: str) -> str:  # the site's exit has its LED already
    return f"""
[[devices]]
id = "{lane}-voice"
lane = "{lane}"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""


class _Camera:
    """The lane's plate camera reader: it watches, and sees `plate` standing there."""

    def __init__(self, plate: str) -> None:
        self.plate = plate

    def hold(self, text: str) -> None:
        pass

    def watching(self) -> bool:
        return True

    def in_lane(self, text: str) -> bool:
        return text == self.plate


def _said(path: Path, n: int, within: float) -> list[str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text(encoding="utf-8").splitlines()) >= n:
            break
        time.sleep(0.05)
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _board(gw: Gateway, lane: str) -> list[str]:
    return list(gw.devices.lanes[lane].displays[0].shown[-1])  # type: ignore[attr-defined]


def _close(gw: Gateway) -> None:
    for devices in gw.devices.lanes.values():
        for display in devices.displays:
            display.close()


def test_a_shared_slots_second_car_standing_keeps_its_words_and_is_told_once(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
) -> None:
    said = tmp_path / "said.txt"
    gw = make_gw(extra=LED + _voice(said, "car-in"), capacity=20)
    try:
        gw.devices.lanes["car-in"].plate_readers.append(_Camera(SECOND))
        assert gw.handle(Presented("car-in", "plate", "皖A11111", 0.97, T0, "cam")).admitted
        _said(said, 1, 30.0)
        first = gw.handle(Presented("car-in", "plate", SECOND, 0.97, T0 + timedelta(minutes=1), "cam"))
        assert "shared_slot" in first.flags
        assert _board(gw, "car-in") == ["一位多车 临时车 请入场", SECOND]
        assert len(_said(said, 2, 30.0)) == 2
        for seconds in (15, 30):  # the camera's repeats while the car stands at the barrier
            at = T0 + timedelta(minutes=1, seconds=seconds)
            ev = gw.handle(Presented("car-in", "plate", SECOND, 0.97, at, "cam", again=True))
            assert ev.admitted and ev.flags == ("again",)  # stored as before: only the repeat's flag
            assert _board(gw, "car-in") == ["一位多车 临时车 请入场", SECOND], seconds
        prompts = _said(said, 3, 2.0)
        assert len(prompts) == 2 and prompts[1].startswith("一位多车 临时车 请入场"), prompts
    finally:
        _close(gw)


def test_a_fee_grown_on_a_repeat_is_still_told(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
) -> None:
    said = tmp_path / "said.txt"
    gw = make_gw(extra=_voice(said, "car-out"), capacity=20)
    car = "苏E12345"
    try:
        gw.devices.lanes["car-out"].plate_readers.append(_Camera(car))
        gw.handle(Presented("car-in", "plate", car, 0.97, T0 - timedelta(hours=2), "cam"))
        ev = gw.handle(Presented("car-out", "plate", car, 0.97, T0 - timedelta(minutes=1), "cam"))
        assert ev.fee_fen == 700
        assert _said(said, 1, 30.0) == ["临时车 请缴费 7元 苏E 1 2 3 4 5"]
        ev = gw.handle(
            Presented("car-out", "plate", car, 0.97, T0 + timedelta(minutes=30), "cam", again=True)
        )
        assert ev.fee_fen == 900
        assert _board(gw, "car-out") == ["临时车 请缴费 9元", car]
        assert _said(said, 2, 30.0)[-1] == "临时车 请缴费 9元 苏E 1 2 3 4 5"
    finally:
        _close(gw)
