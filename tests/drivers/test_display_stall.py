"""A lane LED display that stops taking data must not hold up the next barrier."""

from __future__ import annotations

import contextlib
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

from drivers.displays.serial_text import SerialTextDisplay
from drivers.health import DeviceHealth
from drivers.serialport import PortError
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import PtyDevice, health, start_gateway, wait_for


def led(port: str) -> str:
    return f"""
[[devices]]
id = "car-in-led"
lane = "car-in"
kind = "display"
driver = "serial-display"
port = "{port}"
baudrate = 9600
width = 8
"""


def test_a_stalled_lane_display_does_not_delay_the_door_for_the_next_resident(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """The car entrance's LED board stops taking data (its controller busy or wedged: the serial
    line is flow-stopped). A stranger's car is refused there; a resident then swipes at the
    pedestrian door. The door lock opened only about a second later, because the decision worker
    sat in the LED board's 1 s write timeout (and does so again for every car at that lane).
    A display is only telling the driver something: the resident's door must open at once
    (REQUIREMENTS: queues at the gate; hardware.md: a decision never waits for speech)."""
    panel = pty_device("ttyUSB-led")
    gw = gateways(start_gateway(tmp_path, led(panel.path)))
    display = gw.devices.lanes["car-in"].displays[0]
    wait_for(lambda: display.health.online, "the LED board online")
    # When the write to the stalled board gave up (its 1 s write timeout: the board goes offline).
    # The door must open before then: a decision that waited for the board opens it only after.
    # Timed so, not against a wall-clock bound: on a loaded box the door's own decision may take
    # longer than any short bound (0.39 s seen against 0.3 s) without waiting for the board.
    gave_up: list[float] = []
    heard = display.health.on_change

    def changed(health: DeviceHealth, online: bool) -> None:
        if not online:
            gave_up.append(time.time())
        if heard is not None:
            heard(health, online)

    display.health.on_change = changed
    termios.tcflow(panel._slave, termios.TCOOFF)  # the board stops taking bytes
    door = gw.devices.lanes["door"].relays[0]
    try:
        gw.present(Presented("car-in", "plate", "鲁B54321", 0.99, gw.now(), "cam"))
        time.sleep(0.05)
        t0 = time.time()
        gw.present(Presented("door", "card", "0102030405", 1.0, gw.now(), "reader"))
        wait_for(lambda: door.pulses, "the door to open")
        wait_for(lambda: gave_up, "the write to the stalled LED board to give up")
    finally:
        termios.tcflow(panel._slave, termios.TCOON)
    opened = door.pulses[0][0]
    assert opened < gave_up[0], (
        f"the resident waited {opened - t0:.2f} s at the door, until the write to the car lane's "
        f"LED board gave up ({gave_up[0] - t0:.2f} s)"
    )


def test_a_stalled_board_stays_offline_until_it_takes_data_again(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """A board that stops taking data opens fine every time the link reopens it after a timed-out
    write: the guard's alarm must stay raised while it is stalled, not clear and come back at every
    car, and the board must show the lane's newest message once it takes data again."""
    panel = pty_device("ttyUSB-led")
    changes: list[bool] = []
    h = health("led", "display", "car-in")
    h.on_change = lambda _h, online: changes.append(online)
    display = SerialTextDisplay(h, panel.path, reconnect_max_s=0.2)
    # show() does not wait for the stalled board: it never writes on its caller's thread (a write
    # is what waits, up to the port's 1 s write timeout). Checked so, not by a wall-clock bound.
    writers: list[threading.Thread] = []
    write = display._link.write

    def recorded_write(data: bytes) -> None:
        writers.append(threading.current_thread())
        write(data)

    display._link.write = recorded_write  # type: ignore[method-assign]
    try:
        wait_for(lambda: h.online, "the LED board online")
        termios.tcflow(panel._slave, termios.TCOOFF)
        try:
            for plate in ("鲁B00001", "鲁B00002", "鲁B00003"):
                with contextlib.suppress(PortError):  # said at once while the port is closed
                    display.show(["禁止入内 未登记", plate])
                time.sleep(1.2)
            assert writers, "nothing was written to the board"
            assert threading.current_thread() not in writers, "show() wrote to the stalled board itself"
            assert not h.online and changes == [True, False], f"the alarm came and went: {changes}"
        finally:
            termios.tcflow(panel._slave, termios.TCOON)
        wait_for(lambda: h.online, "the board back once it takes data")
        newest = "禁止入内 未登记\r\n鲁B00003\r\n".encode("gb18030")
        wait_for(lambda: newest in panel.pending(), "the newest message on the board")
    finally:
        display.close()
