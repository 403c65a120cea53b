"""A lane the guard closed (施工), then opened once by hand for an ambulance: 请通行, said. Once the
arm was down again the board kept 请通行 over the lowered arm of a lane that refuses everyone, where
docs/hardware.md says a closed lane tells everyone 禁止入内 通道已关闭 and a greeting is never left
at a lowered arm (Review N on 5de5571f: the idle line gave way to nothing at a closed lane). Now the
closed words replace the greeting, as the close and the start show them, not said. Real gateway
and SQLite, a simulated relay and board, a real voice program."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import gateway.runtime.lane_boards as lane_boards
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import wait_for
from tests.parking.conftest import parking_toml, seed

SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2] + chr(10))'
CLOSED = ["禁止入内 通道已关闭"]


def _entrance(said: Path) -> str:
    return f"""
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"

[[devices]]
id = "car-in-relay"
lane = "car-in"
kind = "relay"
driver = "simulated"

[[devices]]
id = "car-in-voice"
lane = "car-in"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""


def _said(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def test_a_closed_lane_opened_once_by_hand_shows_its_closed_words_once_the_car_is_through(
    tmp_path: Path, gateways: Callable[[Gateway], Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lane_boards, "IDLE_AFTER_S", 0.5)  # no barrier contact wired: a while after
    said = tmp_path / "said.txt"
    cfg = parse_config(parking_toml(tmp_path / "data", extra=_entrance(said), capacity=20), "site.toml")
    seed(cfg, tmp_path)
    gw = gateways(Gateway(cfg))
    led = next(d for d in gw.devices.lanes["car-in"].displays if d.health.device == "car-in-display")
    gw.by_hand.set_closed("car-in", True, "guard1", "施工")
    assert led.shown[-1] == CLOSED  # type: ignore[attr-defined]
    wait_for(lambda: len(_said(said)) == 1, "the close said")
    gw.by_hand.open_lane("car-in", "guard1", "救护车")
    assert led.shown[-1] == ["请通行"]  # type: ignore[attr-defined]
    wait_for(lambda: len(_said(said)) == 2, "the opening said")
    wait_for(lambda: led.shown[-1] == CLOSED, "the closed words over the lowered arm", timeout=10)  # type: ignore[attr-defined]
    time.sleep(0.5)
    assert _said(said) == ["禁止入内 通道已关闭", "请通行"], "the closed words shown again, not said"
