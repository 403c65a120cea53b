"""What the lane display says when the barrier's relay board has failed."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.errors import GatewayError
from gateway.runtime.gateway import Gateway
from gateway.runtime.texts import fault_lines
from gateway.store.admin import import_csv
from tests.conftest import registered_plates_site, site_toml, write_csv
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
    display.shown.clear()  # the start's idle line (Review 66L)
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
        ("鲁B11111", "en", "vehicle", ["FAULT: SEE GUARD", "鲁B11111"]),  # board words (Review 66L)
        (None, "zh", "pedestrian", ["门禁故障 请联系保安"]),
        (None, "en", "pedestrian", ["FAULT: SEE GUARD"]),
    ],
)
def test_fault_words_in_both_languages(
    plate: str | None, language: str, lane_type: str, lines: list[str]
) -> None:
    assert fault_lines(plate, language, lane_type) == lines


MODBUS_EXIT = """
[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "modbus"
port = "{port}"
unit = 1
coil = 0
reconnect_max_s = 0.2

[[devices]]
id = "car-out-led"
lane = "car-out"
kind = "display"
driver = "simulated"
"""


def test_modbus_relay_offline_still_greets_driver_at_shut_barrier(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The exit barrier is driven by a Modbus RTU relay module (hardware.md, `modbus`), and its
    RS-485 adapter is unplugged: the relay is offline, its alarm raised, the barrier cannot open.
    A resident's car is admitted at the exit. hardware.md (*Displays and voice*) says a car let
    through whose barrier did not open ("no relay of the lane took the pulse: its relay board
    unplugged or without power") is told 道闸故障 请联系保安. The board greeted 一路平安 instead,
    because ModbusModule.pulse only queues the change and never fails: the driver sat at a shut
    barrier being told to go (the same fault on an LCUS board is told)."""
    port = tmp_path / "ttyUSB-rs485"  # not there: the adapter is unplugged
    gw = gateways(registered_plates_site(tmp_path, "鲁B11111,R1\n", extra=MODBUS_EXIT.format(port=port)))
    relay = gw.devices.lanes["car-out"].relays[0]
    display = gw.devices.lanes["car-out"].displays[0]
    display.shown.clear()  # the start's idle line (Review 66L)
    wait_for(lambda: relay.health.last_error, "the relay module to be missed")
    assert not relay.health.online
    gw.present(Presented("car-out", "plate", "鲁B11111", 0.99, gw.now(), "cam"))
    wait_for(lambda: display.shown, "the board to show the decision")
    time.sleep(0.3)
    assert not relay.health.online  # the barrier did not open
    assert display.shown[-1] == ["道闸故障 请联系保安", "鲁B11111"], display.shown[-1]


def test_an_opening_by_hand_on_an_offline_modbus_relay_sends_the_driver_to_the_guard(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """The guard opens the same exit by hand while the Modbus module's adapter is unplugged: the
    barrier stays down, so the board sends the driver to the guard rather than greeting him, and
    the guard is told the opening failed (as on an LCUS board)."""
    port = tmp_path / "ttyUSB-rs485"
    gw = gateways(registered_plates_site(tmp_path, "鲁B11111,R1\n", extra=MODBUS_EXIT.format(port=port)))
    relay = gw.devices.lanes["car-out"].relays[0]
    display = gw.devices.lanes["car-out"].displays[0]
    wait_for(lambda: relay.health.last_error, "the relay module to be missed")
    with pytest.raises(GatewayError):
        gw.by_hand.open_lane("car-out", "保安 王", "车主已线下付款")
    assert display.shown[-1] == ["道闸故障 请联系保安"], display.shown[-1]


DOOR_DISPLAY = """
[[devices]]
id = "door-led"
lane = "door"
kind = "display"
driver = "simulated"
"""


def door_on_lcus(tmp_path: Path, port: str) -> Gateway:
    """The door lane's lock on an LCUS board at `port`, released 5 s a pulse, with a display."""
    text = site_toml(tmp_path / "data") + DOOR_DISPLAY
    text = text.replace('type = "pedestrian"\n', 'type = "pedestrian"\npulse_seconds = 5\n', 1)
    text = text.replace(
        'id = "door-lock"\nlane = "door"\nkind = "relay"\ndriver = "simulated"\n',
        f'id = "door-lock"\nlane = "door"\nkind = "relay"\ndriver = "lcus"\nport = "{port}"\n'
        "channel = 1\nreconnect_max_s = 5\n",
        1,
    )
    cfg = parse_config(text, "site.toml")
    import_csv(
        cfg,
        [
            write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
            write_csv(tmp_path / "c.csv", "card,resident_ref\n0102030405,R1\n0102030406,R1\n"),
        ],
    )
    return Gateway(cfg)


def test_second_resident_at_a_dead_door_lock_is_greeted_at_a_locked_door(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
    pty_device: Callable[[str], PtyDevice],  # noqa: F811
) -> None:
    """The pedestrian door's lock is on an LCUS relay board that is unplugged (offline, its alarm
    raised); the door's pulse_seconds is 5 (a lock released for 5 s). A resident taps her card: the
    board rightly reads 门禁故障 请联系保安. Her husband taps his own card two seconds later: the
    lock still cannot open (the board is still unplugged), yet the board greeted him 欢迎回家 as if
    the door were open. The failed pulse left PulseControl thinking the relay is on, so the second
    pulse wrote nothing, raised nothing, and Gateway._act counted it as taken. hardware.md: a walker
    admitted whose door did not open is told 门禁故障 请联系保安."""
    board = pty_device("ttyUSB-lock")
    gw = gateways(door_on_lcus(tmp_path, board.path))
    relay = gw.devices.lanes["door"].relays[0]
    display = gw.devices.lanes["door"].displays[0]
    display.shown.clear()  # the start's idle line (Review 66L)
    board.unplug()
    wait_for(lambda: not relay.health.online, "the relay board to be missed")
    gw.present(Presented("door", "card", "0102030405", 1.0, gw.now(), "reader"))
    wait_for(lambda: display.shown, "the board to show the first decision")
    assert display.shown[-1][0] == "门禁故障 请联系保安", display.shown[-1]
    time.sleep(2)
    gw.present(Presented("door", "card", "0102030406", 1.0, gw.now(), "reader"))
    wait_for(lambda: len(display.shown) >= 2, "the board to show the second decision")
    time.sleep(0.2)
    assert not relay.health.online  # still unplugged: the door stayed locked
    assert display.shown[-1][0] == "门禁故障 请联系保安", (
        f"a locked door, yet the board reads {display.shown[-1]}"
    )
