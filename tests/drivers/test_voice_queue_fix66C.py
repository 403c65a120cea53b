"""Two cars held to pay standing in one exit camera's view: A at the barrier, B stopped behind it.
The lane's camera decides each again every 15 s (flag refused_again), A and B in turn, 5 s apart.
The board flipped between A's fee and plate and B's every 5-10 s, and each flip was said: nine
prompts in a minute, where docs/hardware.md says a message is said once (Review 66C). Now what each
car was told is remembered: a repeat that tells a car nothing new is not said, and does not take
the board back from the other car standing there that was told something since. Real camera,
PlateReader and LaneVoter (tests/lane_helpers.Lane) feeding the real gateway; a real voice program."""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from plates.reading import Reading
from tests.lane_helpers import AT_BARRIER, BEHIND, Lane
from tests.parking.conftest import T0, parking_toml, seed

SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2] + chr(10))'
A, B = "苏E12345", "苏E67890"


def _voice(said: Path) -> str:
    return f"""
[[devices]]
id = "car-out-voice"
lane = "car-out"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""


def _said(path: Path, n: int, within: float) -> list[str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text(encoding="utf-8").splitlines()) >= n:
            break
        time.sleep(0.05)
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_two_cars_standing_at_an_exit_are_each_told_once_and_the_board_does_not_flip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    said = tmp_path / "said.txt"
    cfg = parse_config(parking_toml(tmp_path / "data", extra=_voice(said), capacity=20), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        gw.handle(Presented("car-in", "plate", A, 0.99, T0 - timedelta(hours=2), "cam"))
        gw.handle(Presented("car-in", "plate", B, 0.99, T0 - timedelta(hours=1, minutes=50), "cam"))
        lane = Lane(monkeypatch)
        gw.devices.lanes["car-out"].plate_readers.append(lane.reader)  # the lane's camera tells who stands
        led = gw.devices.lanes["car-out"].displays[0]
        boards: list[tuple[float, str, list[str]]] = []

        def present(value: str) -> None:
            at = T0 + timedelta(seconds=lane.now - 1000.0)
            again = lane.reader.decided_again(value)
            ev = gw.handle(Presented("car-out", "plate", value, 0.99, at, "cam", again=again))
            assert (ev.reason, ev.fee_fen) == ("payment_due", 700)
            boards.append((round(lane.now - 1000.0, 1), value, list(led.shown[-1])))  # type: ignore[attr-defined]
            if len(boards) <= 2:  # each car's first prompt heard before the next is decided
                _said(said, len(boards), 30.0)

        lane.on_present = present
        # A stops at the barrier; B stops behind it 5 s later; both stand there for a minute.
        lane.frames(0, 5, [Reading(A, "blue", 0.99, AT_BARRIER)])
        lane.frames(5, 65, [Reading(A, "blue", 0.99, AT_BARRIER), Reading(B, "blue", 0.99, BEHIND)])
        assert len(boards) >= 8, boards  # the camera did decide both again, over and over
        prompts = _said(said, 3, 2.0)
        assert prompts == ["临时车 请缴费 7元 苏E 1 2 3 4 5", "临时车 请缴费 7元 苏E 6 7 8 9 0"], prompts
        after_b = {tuple(board) for at, _, board in boards if at >= 5.0}
        assert after_b == {("临时车 请缴费 7元", B)}, f"the board flipped between the two cars: {boards}"
    finally:
        for display in gw.devices.lanes["car-out"].displays:
            display.close()
        gw.conn.close()


def test_a_repeat_that_tells_a_car_something_new_is_said_and_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not quiet for good: A's fee grown past the next hour while B was told since is news to A."""
    said = tmp_path / "said.txt"
    cfg = parse_config(parking_toml(tmp_path / "data", extra=_voice(said), capacity=20), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        lane = Lane(monkeypatch)  # the exit's camera sees both cars standing there
        gw.devices.lanes["car-out"].plate_readers.append(lane.reader)
        lane.frames(0, 2, [Reading(A, "blue", 0.99, AT_BARRIER), Reading(B, "blue", 0.99, BEHIND)])
        for car in (A, B):
            gw.handle(Presented("car-in", "plate", car, 0.99, T0 - timedelta(hours=2), "cam"))
        t = T0 - timedelta(minutes=1)
        gw.handle(Presented("car-out", "plate", A, 0.99, t, "cam"))
        _said(said, 1, 30.0)
        gw.handle(Presented("car-out", "plate", B, 0.99, t + timedelta(seconds=5), "cam"))
        _said(said, 2, 30.0)
        gw.handle(Presented("car-out", "plate", A, 0.99, t + timedelta(seconds=15), "cam", again=True))
        assert len(_said(said, 3, 2.0)) == 2  # nothing new for A: not said, B's board kept
        assert gw.devices.lanes["car-out"].displays[0].shown[-1] == ["临时车 请缴费 7元", B]  # type: ignore[attr-defined]
        ev = gw.handle(Presented("car-out", "plate", A, 0.99, T0 + timedelta(minutes=30), "cam", again=True))
        assert ev.fee_fen == 900  # past the third hour now
        prompts = _said(said, 3, 30.0)
        assert prompts[-1] == "临时车 请缴费 9元 苏E 1 2 3 4 5", prompts
        assert gw.devices.lanes["car-out"].displays[0].shown[-1] == ["临时车 请缴费 9元", A]  # type: ignore[attr-defined]
    finally:
        for display in gw.devices.lanes["car-out"].displays:
            display.close()
        gw.conn.close()
