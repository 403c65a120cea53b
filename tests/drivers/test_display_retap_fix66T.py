"""Someone refused at a door who taps again a moment after another was let in: his card expired,
禁止入内 已过期; Y's card opens the door, 欢迎回家; X taps again within 10 s (flag refused_again). The
board stayed on Y's 欢迎回家 and nothing was said, where before he was shown and told 禁止入内 已过期
again (Review N on 5de5571f, which kept the board for "another person who may still stand there" at
a lane no camera watches). Now another's words keep the board only at a vehicle lane whose camera
sees that car still there, and never a greeting (a car let through is leaving). Real gateway and
SQLite, a real voice program."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from drivers.health import DeviceHealth
from drivers.simulated import SimulatedDisplay
from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.devices import Devices, LaneDevices
from gateway.runtime.gateway import Gateway
from gateway.runtime.lane_boards import LaneBoards
from gateway.runtime.texts import refusal_lines
from tests.drivers.conftest import wait_for
from tests.parking.conftest import parking_toml, seed

SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2] + chr(10))'
EXPIRED, VALID = "00002222", "00001111"


def _door(said: Path) -> str:
    return f"""
[[devices]]
id = "door-display"
lane = "door"
kind = "display"
driver = "simulated"

[[devices]]
id = "door-voice"
lane = "door"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""


def _said(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


@pytest.fixture
def door(tmp_path: Path, gateways: Callable[[Gateway], Gateway]) -> Gateway:
    cfg = parse_config(
        parking_toml(tmp_path / "data", extra=_door(tmp_path / "said.txt"), capacity=20), "site.toml"
    )
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    ids = dict(gw.conn.execute("SELECT ref, id FROM residents WHERE ref IN ('R1', 'R2')").fetchall())
    gw.conn.execute(
        "INSERT INTO credentials (kind, value, resident_id) VALUES ('card', ?, ?)", (VALID, ids["R2"])
    )
    gw.conn.execute(
        "INSERT INTO credentials (kind, value, resident_id, valid_to) VALUES ('card', ?, ?, ?)",
        (EXPIRED, ids["R1"], "2020-01-01T00:00:00+00:00"),
    )
    gw.conn.commit()
    return gateways(gw)


def _tap(gw: Gateway, card: str) -> AccessEvent:
    at = gw.now() + timedelta(milliseconds=1)
    return gw.on_worker(lambda c: gw.handle(Presented("door", "card", card, 1.0, at, "reader"))).result(10)


def test_a_refused_card_tapped_again_after_another_was_let_in_is_shown_and_told_again(
    door: Gateway, tmp_path: Path
) -> None:
    said, led = tmp_path / "said.txt", door.devices.lanes["door"].displays[0]
    assert _tap(door, EXPIRED).reason == "expired"
    wait_for(lambda: len(_said(said)) == 1, "X told he is refused")
    assert _tap(door, VALID).admitted
    wait_for(lambda: len(_said(said)) == 2, "Y welcomed")
    again = _tap(door, EXPIRED)
    assert (again.reason, "refused_again" in again.flags) == ("expired", True)
    assert led.shown[-1] == ["禁止入内 已过期"], "X's refusal, not Y's greeting, on the board"  # type: ignore[attr-defined]
    wait_for(lambda: len(_said(said)) == 3, "X told again", timeout=10)
    time.sleep(0.3)
    assert _said(said) == ["禁止入内 已过期", "欢迎回家", "禁止入内 已过期"]


class _Camera:
    """A plate camera's reader at the lane (the hardware edge): it watches, and sees these cars."""

    def __init__(self, *in_lane: str) -> None:
        self.cars = set(in_lane)

    def hold(self, text: str) -> None:
        pass

    def watching(self) -> bool:
        return True

    def in_lane(self, text: str) -> bool:
        return text in self.cars


def test_a_greeting_of_a_car_let_through_never_keeps_the_board_from_a_car_refused_there() -> None:
    """At an entrance whose camera still sees both: X refused, Y let in, X decided again. Y is
    leaving: the board is X's again (not said: X heard it); the camera seeing Y a moment longer
    does not keep Y's 临时车 请入场 over X standing at the shut arm."""
    led = SimulatedDisplay(DeviceHealth("car-in-led", "display", "car-in", "simulated"))
    devices = Devices(
        {"car-in": LaneDevices(displays=[led], plate_readers=[_Camera("皖X00001", "皖Y00002")])}, []
    )
    boards = LaneBoards(devices)
    refused = refusal_lines("blocked", "皖X00001")
    boards.show("car-in", refused, car="皖X00001")
    boards.show("car-in", ["临时车 请入场", "皖Y00002"], car="皖Y00002", going=True)
    boards.show("car-in", refused, nothing_new=True, car="皖X00001")
    assert led.shown[-1] == refused
