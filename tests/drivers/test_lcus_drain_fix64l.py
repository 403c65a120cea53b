"""A relay board or LED display whose USB serial adapter (a CH340) stops taking data, as the kernel
shows it: write() puts the few bytes in the driver's buffer at once and returns (no write timeout),
then flush() (tcdrain) waits for them to leave with no time limit (wjwwood/serial#184, PX4 #11719).
Review 64Rb fault 2: the LCUS board's thread hung there, so the door greeted a resident 欢迎回家 at a
shut door, the board read online with no alarm, her entry was never taken back, and stopping the
service hung on the board's lock. hardware.md promises a write held at most the port's 1 s write
timeout, then the board offline (its alarm) and the walker told 门禁故障 请联系保安.

A pty cannot show this: flow-stopped (tcflow TCOOFF), its write() itself times out, and its
out_waiting is always 0 (test_lcus_stall_fix64b covers that case). So the adapter is faked at the
hardware edge, on a real pty: WedgedCh340 (tests/drivers/wedged_usb.py)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.displays.serial_text import SerialTextDisplay
from drivers.simulated import SimulatedDisplay
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import PtyDevice, health, open_alarms, query, wait_for
from tests.drivers.wedged_usb import CLOSING_WAIT_S, WedgedCh340, still_stopping
from tests.test_display_relay_fault import door_on_lcus


def test_a_door_whose_lock_board_never_drains_says_so_and_takes_her_entry_back(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],
    pty_device: Callable[[str], PtyDevice],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The door's lock is on an LCUS board whose CH340 stops taking data; a resident taps in. The
    door must not keep greeting her at a shut door: it says 门禁故障 请联系保安, the board is offline
    with its alarm, and her entry is taken back (she is not inside on record)."""
    board = pty_device("ttyUSB-lock")
    gw = gateways(door_on_lcus(tmp_path, board.path))
    relay = gw.devices.lanes["door"].relays[0]
    display = gw.devices.lanes["door"].displays[0]
    assert isinstance(display, SimulatedDisplay)
    display.shown.clear()  # the start's idle line (Review 66L)
    wait_for(lambda: relay.health.online, "the lock's board online")
    adapter = WedgedCh340(monkeypatch)
    adapter.wedged.set()
    try:
        gw.present(Presented("door", "card", "0102030405", 1.0, gw.now(), "reader"))
        wait_for(lambda: display.shown, "the door's display to show the decision")
        wait_for(
            lambda: display.shown[-1][0] == "门禁故障 请联系保安",
            f"the shut door to say 门禁故障 请联系保安, not {display.shown[-1]}",
        )
        wait_for(lambda: open_alarms(gw, "device_offline"), "the board's device_offline alarm")
        assert not relay.health.online
        inside = "SELECT inside, people FROM presence WHERE subject = 'resident:1'"
        wait_for(lambda: query(gw, inside) == [(0, 1)], "her entry taken back: the door never opened")
    finally:
        adapter.mend()


def test_the_service_stops_while_the_lock_board_never_drains(
    tmp_path: Path,
    pty_device: Callable[[str], PtyDevice],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """systemctl stop (or the watchdog's restart, the way an installer clears a stuck board) while
    the board takes no data: the gateway stops, well within systemd's stop timeout, rather than
    waiting on the board's lock or on the kernel's 30 s for the stuck bytes at close."""
    board = pty_device("ttyUSB-lock")
    gw = door_on_lcus(tmp_path, board.path)
    gw.start()
    relay = gw.devices.lanes["door"].relays[0]
    wait_for(lambda: relay.health.online, "the lock's board online")
    adapter = WedgedCh340(monkeypatch)
    adapter.wedged.set()
    stuck = still_stopping(gw, adapter, lambda: adapter.stuck, "the pulse's bytes in the adapter's buffer")
    assert not stuck, "the gateway was still stopping: held by the board that takes no data"


def test_an_led_display_that_never_drains_goes_offline_and_closes(
    pty_device: Callable[[str], PtyDevice],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An LED display on the same kind of adapter: its lines are not taken, so it is offline (its
    alarm), not online showing nothing, and closing it does not wait on the stuck bytes."""
    port = pty_device("ttyUSB-led")
    display = SerialTextDisplay(health("door-led", "display", "door"), port.path)
    closer = threading.Thread(target=display.close, daemon=True)
    adapter = WedgedCh340(monkeypatch)
    try:
        display.show(["欢迎回家"])
        wait_for(lambda: display.health.online, "the display online")
        adapter.wedged.set()
        display.show(["请通行"])
        wait_for(lambda: not display.health.online, "the display that takes no data offline")
        assert "takes no data" in (display.health.last_error or "")
        closer.start()
        closer.join(timeout=CLOSING_WAIT_S - 5)
        stuck = closer.is_alive()
    finally:
        adapter.mend()
        if closer.ident:
            closer.join(timeout=CLOSING_WAIT_S)
        else:
            display.close()
    assert not stuck, "closing the display waited on the bytes it could not send"
