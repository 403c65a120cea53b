"""A relay board or LED display whose USB serial adapter (a CH340) takes bytes and never sends them,
as Linux really closes it. Review 64Rl: fix 64l threw the stuck bytes away (reset_output_buffer,
tcflush TCOFLUSH) before closing the port, so that close() would not wait for them; but usb-serial
(ch341, cp210x, ftdi_sio, pl2303) has no flush_buffer, so the bytes stay and close() waits up to
the port's closing_wait (30 s). The link closed the port before it marked the board offline, on the
board's thread and under its locks: the door's 门禁故障 words, the board's alarm and the take-back
of her entry all came ~30 s late (her second tap refused 重复入场 under hard anti-passback), and
stopping the service waited ~30 s per wedged board or display.

The adapter is fix 64l's WedgedCh340 (tests/drivers/wedged_usb.py) on a real pty, with
reset_output_buffer() doing the real tcflush that leaves the stuck bytes, so close() waits for them
(until the adapter is mended here)."""

from __future__ import annotations

import termios
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import serial

from drivers.displays.serial_text import SerialTextDisplay
from drivers.simulated import SimulatedDisplay
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import PtyDevice, health, open_alarms, query, wait_for
from tests.drivers.test_door_lock_failed_fix64c import _inside, _site, _tap
from tests.drivers.wedged_usb import CLOSING_WAIT_S, WedgedCh340, still_stopping
from tests.test_display_relay_fault import door_on_lcus


class UsbSerialAdapter(WedgedCh340):
    """WedgedCh340 as the kernel's usb-serial is: tcflush(TCOFLUSH) leaves the bytes the adapter
    kept, and close() waits for them. Counts the closes held, and the opens made while one is."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        super().__init__(monkeypatch)
        self.closes_held = 0
        self.opened_while_held = 0
        self._count = threading.Lock()
        held_close = serial.Serial.close
        real_open = serial.Serial.open
        fake = self

        def reset_output_buffer(port: serial.Serial) -> None:
            termios.tcflush(port.fd, termios.TCOFLUSH)  # no flush_buffer: the stuck bytes stay

        def close(port: serial.Serial) -> None:
            held = bool(fake.stuck.get(id(port)))
            with fake._count:
                fake.closes_held += held
            try:
                held_close(port)
            finally:
                with fake._count:
                    fake.closes_held -= held

        def open_(port: serial.Serial) -> None:
            with fake._count:
                fake.opened_while_held += fake.closes_held > 0
            real_open(port)

        monkeypatch.setattr(serial.Serial, "reset_output_buffer", reset_output_buffer)
        monkeypatch.setattr(serial.Serial, "close", close)
        monkeypatch.setattr(serial.Serial, "open", open_)


def test_the_door_says_fault_and_takes_her_entry_back_while_the_port_still_closes(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],
    pty_device: Callable[[str], PtyDevice],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """She taps in at the door whose lock board's CH340 keeps the pulse. While the kernel still
    holds the port's close for the stuck bytes: the door says 门禁故障 请联系保安, the board is
    offline with its alarm, and she is not inside on record. The port is not opened again while its
    close is held; once the adapter is mended and the close returns, the board is back online."""
    board = pty_device("ttyUSB-lock")
    gw = gateways(door_on_lcus(tmp_path, board.path))
    relay = gw.devices.lanes["door"].relays[0]
    display = gw.devices.lanes["door"].displays[0]
    assert isinstance(display, SimulatedDisplay)
    wait_for(lambda: relay.health.online, "the lock's board online")
    adapter = UsbSerialAdapter(monkeypatch)
    adapter.wedged.set()
    try:
        gw.present(Presented("door", "card", "0102030405", 1.0, gw.now(), "reader"))
        wait_for(lambda: adapter.closes_held, "the port's close held by the stuck bytes")
        wait_for(
            lambda: display.shown and display.shown[-1][0] == "门禁故障 请联系保安",
            f"the shut door to say 门禁故障 请联系保安 (shown: {display.shown})",
        )
        assert adapter.closes_held, "the kernel still holds the close"
        assert not relay.health.online
        assert open_alarms(gw, "device_offline")
        inside = "SELECT inside, people FROM presence WHERE subject = 'resident:1'"
        wait_for(lambda: query(gw, inside) == [(0, 1)], "her entry taken back: the door never opened")
        shown = len(display.shown)
        gw.present(Presented("door", "card", "0102030405", 1.0, gw.now(), "reader"))
        wait_for(lambda: len(display.shown) > shown, "the second tap's words")
        assert display.shown[-1][0] == "门禁故障 请联系保安"
        assert adapter.closes_held == 1 and adapter.opened_while_held == 0
    finally:
        adapter.mend()
    wait_for(lambda: relay.health.online, "the board back online once its close returned")
    assert adapter.opened_while_held == 0


def test_her_second_tap_is_not_refused_repeat_entry_while_the_port_still_closes(
    tmp_path: Path,
    gateways: Callable[[Gateway], Gateway],
    pty_device: Callable[[str], PtyDevice],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Hard anti-passback. The door stayed shut (the CH340 kept the pulse); once the board's alarm
    is up she taps again and is not refused 重复入场 at the door that never let her in."""
    board = pty_device("ttyUSB-lock")
    gw = gateways(_site(tmp_path, board.path))
    relay = gw.devices.lanes["door"].relays[0]
    wait_for(lambda: relay.health.online, "the lock's board online")
    adapter = UsbSerialAdapter(monkeypatch)
    adapter.wedged.set()
    try:
        first = _tap(gw, "door")
        assert first.admitted
        wait_for(lambda: adapter.closes_held, "the port's close held by the stuck bytes")
        wait_for(lambda: not relay.health.online, "the board offline, its alarm up")
        wait_for(lambda: _inside(gw) == [(0, 1)], "her entry taken back")
        second = _tap(gw, "door")
        assert second.reason != "anti_passback", "refused 重复入场 at the door that never let her in"
        assert adapter.closes_held
    finally:
        adapter.mend()


def test_the_service_stops_while_the_port_still_closes(
    tmp_path: Path,
    pty_device: Callable[[str], PtyDevice],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """systemctl stop while the kernel holds the wedged board's close: the gateway stops, without
    waiting the closing_wait for bytes the adapter will never send."""
    board = pty_device("ttyUSB-lock")
    gw = door_on_lcus(tmp_path, board.path)
    gw.start()
    relay = gw.devices.lanes["door"].relays[0]
    wait_for(lambda: relay.health.online, "the lock's board online")
    adapter = UsbSerialAdapter(monkeypatch)
    adapter.wedged.set()
    stuck = still_stopping(
        gw, adapter, lambda: adapter.closes_held, "the port's close held by the stuck bytes"
    )
    assert not stuck, "the gateway was still stopping: held by the close of the board's port"


def test_an_led_display_that_never_drains_is_offline_and_closes_while_its_port_still_closes(
    pty_device: Callable[[str], PtyDevice],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An LED display on the same adapter: offline (its alarm) while the kernel still holds its
    port's close, and closing the display does not wait for that close."""
    port = pty_device("ttyUSB-led")
    display = SerialTextDisplay(health("door-led", "display", "door"), port.path)
    closer = threading.Thread(target=display.close, daemon=True)
    adapter = UsbSerialAdapter(monkeypatch)
    try:
        display.show(["欢迎回家"])
        wait_for(lambda: display.health.online, "the display online")
        adapter.wedged.set()
        display.show(["请通行"])
        wait_for(lambda: adapter.closes_held, "the port's close held by the stuck bytes")
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
    assert not stuck, "closing the display waited for its port's close"
