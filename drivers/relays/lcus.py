"""LCUS USB relay boards (CH340 serial, 9600 8N1): 4-byte command frames.

Frame: A0, channel (1-8), state (1 on, 0 off), checksum (sum of the first three bytes, mod 256).
Relay 1 on is A0 01 01 A2, off is A0 01 00 A1. The boards send nothing back.
"""

from __future__ import annotations

from drivers.health import DeviceHealth
from drivers.relays.control import PulseControl
from drivers.serialport import SerialLink


def lcus_frame(channel: int, on: bool) -> bytes:
    head = bytes([0xA0, channel & 0xFF, int(on)])
    return head + bytes([sum(head) & 0xFF])


class LcusRelay:
    def __init__(
        self,
        health: DeviceHealth,
        port: str,
        channel: int = 1,
        baudrate: int = 9600,
        reconnect_max_s: float = 2.0,
    ):
        self.health = health
        self._channel = channel
        self._link = SerialLink(health, port, baudrate, reconnect_max_s=reconnect_max_s, on_open=self._resend)
        self._control = PulseControl(self._write, health)
        self._link.start()

    def pulse(self, seconds: float, ref: str = "") -> None:
        self._control.pulse(seconds)

    def hold(self) -> None:
        self._control.hold()

    def release(self) -> None:
        self._control.release()

    def close(self) -> None:
        self._control.close()
        self._link.close()

    def _write(self, on: bool) -> None:
        self._link.write(lcus_frame(self._channel, on))

    def _resend(self) -> None:
        # After a replug the board starts with its relays off; say what we want (released: off).
        self._write(self._control.wanted)
