"""What the lane display says when the barrier's relay board has failed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from gateway.runtime.texts import fault_lines
from tests.conftest import registered_plates_site
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    PtyDevice,
    gateways,
    no_leaked_threads,
    pty_device,
    wait_for,
)


def exit_devices(port: str) -> str:
    return f"""
[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "lcus"
port = "{port}"
channel = 1
reconnect_max_s = 5

[[devices]]
id = "car-out-led"
lane = "car-out"
kind = "display"
driver = "simulated"
"""


def test_board_does_not_wave_a_car_through_a_barrier_that_cannot_open(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
    pty_device: Callable[[str], PtyDevice],  # noqa: F811
) -> None:
    """The exit barrier's relay board is unplugged (offline, its alarm raised). A resident's car
    comes to the exit: the decision admits it, the pulse fails, the barrier stays down, and yet the
    LED board greets the driver 一路平安 / 鲁B11111 (and the voice says it) as though the barrier
    were opening. The driver sits at a shut barrier being told to go. The board should tell the
    driver the truth (e.g. 道闸故障 请联系保安, as storage_failed says 请联系保安) rather than a
    greeting; REQUIREMENTS 8: device faults must be noticed and handled."""
    board = pty_device("ttyUSB-relay")
    gw = gateways(registered_plates_site(tmp_path, "鲁B11111,R1\n", extra=exit_devices(board.path)))
    relay = gw.devices.lanes["car-out"].relays[0]
    display = gw.devices.lanes["car-out"].displays[0]
    board.unplug()
    wait_for(lambda: not relay.health.online, "the relay board to be missed")
    gw.present(Presented("car-out", "plate", "鲁B11111", 0.99, gw.now(), "cam"))
    wait_for(lambda: display.shown, "the board to show the decision")
    time.sleep(0.2)
    assert not relay.health.online  # the barrier did not open
    shown = " ".join(display.shown[-1])
    assert "一路平安" not in shown, f"the barrier could not open, yet the board reads {shown!r}"
    assert display.shown[-1] == ["道闸故障 请联系保安", "鲁B11111"]


def test_board_sends_the_driver_to_the_guard_when_an_opening_by_hand_fails(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
    pty_device: Callable[[str], PtyDevice],  # noqa: F811
) -> None:
    """The guard opens the exit by hand while its relay board is unplugged: the guard's page says
    the opening failed, and the board at the shut barrier says so too rather than 一路平安."""
    board = pty_device("ttyUSB-relay")
    gw = gateways(registered_plates_site(tmp_path, "鲁B11111,R1\n", extra=exit_devices(board.path)))
    relay = gw.devices.lanes["car-out"].relays[0]
    display = gw.devices.lanes["car-out"].displays[0]
    board.unplug()
    wait_for(lambda: not relay.health.online, "the relay board to be missed")
    with pytest.raises(GatewayError):
        gw.by_hand.open_lane("car-out", "保安 王", "车主已线下付款")
    assert display.shown[-1] == ["道闸故障 请联系保安"]


@pytest.mark.parametrize(
    ("plate", "language", "lane_type", "lines"),
    [
        ("鲁B11111", "zh", "vehicle", ["道闸故障 请联系保安", "鲁B11111"]),
        ("鲁B11111", "en", "vehicle", ["Barrier fault: call the guard", "鲁B11111"]),
        (None, "zh", "pedestrian", ["门禁故障 请联系保安"]),
        (None, "en", "pedestrian", ["Door fault: call the guard"]),
    ],
)
def test_fault_words_in_both_languages(
    plate: str | None, language: str, lane_type: str, lines: list[str]
) -> None:
    assert fault_lines(plate, language, lane_type) == lines
