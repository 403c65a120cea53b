"""What the lane boards show as the gateway starts (Review 66L). Nothing was sent to them until the
first car: a lane the guard closed before a restart (or a box replaced) kept whatever its board
showed, blank after a power cut, or a greeting the stopped gateway never turned to the idle line,
while the lane refused everyone 通道已关闭. Now each lane is sent its current words once at start,
not said: a closed lane its 禁止入内 通道已关闭, a lane held open its hold's 请通行 (as before), any
other its idle line. Real gateway and SQLite across a restart, the simulated display recording what
it is sent, a real voice program."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.simulated import SimulatedDisplay
from gateway.config import SiteConfig, parse_config
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import wait_for
from tests.parking.conftest import parking_toml, seed

SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2] + chr(10))'
# The entrance's board and the exit's relay (the test site has the exit's board already).
DEVICES = """
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"

[[devices]]
id = "car-out-relay"
lane = "car-out"
kind = "relay"
driver = "simulated"
"""


def _voice(said: Path) -> str:
    return f"""
[[devices]]
id = "car-in-voice"
lane = "car-in"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""


@pytest.fixture
def said(tmp_path: Path) -> Path:
    return tmp_path / "said.txt"


@pytest.fixture
def config(tmp_path: Path, said: Path) -> Iterator[SiteConfig]:
    cfg = parse_config(
        parking_toml(tmp_path / "data", extra=DEVICES + _voice(said), capacity=20), "site.toml"
    )
    seed(cfg, tmp_path)
    yield cfg


@pytest.fixture
def run() -> Iterator[list[Gateway]]:
    running: list[Gateway] = []
    yield running
    for gw in running:
        gw.stop()


def _start(cfg: SiteConfig, running: list[Gateway]) -> Gateway:
    gw = Gateway(cfg)
    gw.start()
    running.append(gw)
    return gw


def _stop(running: list[Gateway]) -> None:
    running.pop().stop()


def _shown(gw: Gateway, lane: str) -> list[list[str]]:
    board = next(d for d in gw.devices.lanes[lane].displays if isinstance(d, SimulatedDisplay))
    return [list(lines) for lines in board.shown]


def _said(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_a_lane_closed_before_a_restart_shows_its_closed_words_at_start(
    config: SiteConfig, run: list[Gateway], said: Path
) -> None:
    gw = _start(config, run)
    gw.by_hand.set_closed("car-in", True, "保安 王", "封闭管理")
    wait_for(lambda: _said(said) == ["禁止入内 通道已关闭"], "the close said")
    _stop(run)
    said.unlink()
    gw = _start(config, run)  # restarted, or a box put in its place: its boards as they are
    assert _shown(gw, "car-in") == [["禁止入内 通道已关闭"]]
    assert _shown(gw, "car-out") == [["一车一杆 减速慢行"]]  # an open lane: its idle line
    gw.by_hand.set_closed("car-in", False, "保安 王", "恢复")
    assert _shown(gw, "car-in")[-1] == ["一车一杆 减速慢行"]
    wait_for(lambda: _said(said) == ["一车一杆 减速慢行"], "the reopening said")
    assert _said(said) == ["一车一杆 减速慢行"], "the start's words are shown, not said"


def test_a_lane_held_open_shows_its_holds_words_at_start(config: SiteConfig, run: list[Gateway]) -> None:
    gw = _start(config, run)
    gw.by_hand.hold_lane("car-out", "保安 王", "车队")
    _stop(run)
    gw = _start(config, run)
    assert _shown(gw, "car-out") == [["一路平安"]], "held again: 一路平安 once, not the idle line first"
    assert _shown(gw, "car-in") == [["一车一杆 减速慢行"]]


def test_an_english_site_shows_its_board_words_at_start(tmp_path: Path, run: list[Gateway]) -> None:
    toml = parking_toml(tmp_path / "data", extra=DEVICES, capacity=20)
    cfg = parse_config(toml.replace("[site]\n", '[site]\nlanguage = "en"\n', 1), "site.toml")
    seed(cfg, tmp_path)
    gw = _start(cfg, run)
    gw.by_hand.set_closed("car-out", True, "guard", "event")
    _stop(run)
    gw = _start(cfg, run)
    assert _shown(gw, "car-out") == [["NO EXIT", "CLOSED"]]
    assert _shown(gw, "car-in") == [["ONE CAR, GO SLOW"]]
