"""A USB serial adapter (a CH340) that stops taking data, faked at the hardware edge on a real pty:
a pty cannot show it (flow-stopped, its write() itself times out, and its out_waiting is always 0).
Shared by tests/drivers/test_lcus_drain_fix64l.py and test_usbserial_close_fix64q.py."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import serial

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import wait_for

# The usb-serial driver's closing_wait (tty_port_init): close() waits this long for bytes left.
CLOSING_WAIT_S = 30.0


class WedgedCh340:
    """While wedged, every port's bytes stay in the kernel's buffer: write() returns at once,
    out_waiting (TIOCOUTQ) counts them, flush() (tcdrain) waits for them with no limit, close() waits
    for them up to the closing_wait, and reset_output_buffer() (tcflush TCOFLUSH) throws them away."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.wedged = threading.Event()
        self.mended = threading.Event()
        self.stuck: dict[int, int] = {}  # bytes in the buffer, by port
        real_write = serial.Serial.write
        real_close = serial.Serial.close
        real_reset = serial.Serial.reset_output_buffer
        fake = self

        def write(port: serial.Serial, data: bytes) -> int:
            if not fake.wedged.is_set():
                return real_write(port, data)
            fake.stuck[id(port)] = fake.stuck.get(id(port), 0) + len(data)
            return len(data)

        def out_waiting(port: serial.Serial) -> int:
            return fake.stuck.get(id(port), 0)

        def flush(port: serial.Serial) -> None:
            while fake.stuck.get(id(port)) and not fake.mended.wait(0.01):
                pass

        def reset_output_buffer(port: serial.Serial) -> None:
            fake.stuck.pop(id(port), None)
            real_reset(port)

        def close(port: serial.Serial) -> None:
            if fake.stuck.get(id(port)):
                fake.mended.wait(CLOSING_WAIT_S)
            fake.stuck.pop(id(port), None)
            real_close(port)

        monkeypatch.setattr(serial.Serial, "write", write)
        monkeypatch.setattr(serial.Serial, "out_waiting", property(out_waiting))
        monkeypatch.setattr(serial.Serial, "flush", flush)
        monkeypatch.setattr(serial.Serial, "reset_output_buffer", reset_output_buffer)
        monkeypatch.setattr(serial.Serial, "close", close)

    def mend(self) -> None:
        self.wedged.clear()
        self.stuck.clear()
        self.mended.set()


def still_stopping(gw: Gateway, adapter: WedgedCh340, held: Callable[[], Any], what: str) -> bool:
    """A resident taps in at the started door `gw` whose lock board's adapter is wedged; once
    `held()`, the gateway is stopped (systemctl stop): whether it was still stopping well within
    the closing_wait. The adapter is mended after, and the stop waited for."""
    stopper = threading.Thread(target=gw.stop, daemon=True)
    try:
        gw.present(Presented("door", "card", "0102030405", 1.0, gw.now(), "reader"))
        wait_for(held, what)
        stopper.start()
        stopper.join(timeout=CLOSING_WAIT_S - 5)
        stuck = stopper.is_alive()
    finally:
        adapter.mend()
        stopper.join(timeout=CLOSING_WAIT_S)
    return stuck
