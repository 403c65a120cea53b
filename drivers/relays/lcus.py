"""LCUS USB relay boards (CH340 serial, 9600 8N1): 4-byte command frames.

Frame: A0, channel (1-8), state (1 on, 0 off), checksum (sum of the first three bytes, mod 256).
Relay 1 on is A0 01 01 A2, off is A0 01 00 A1. The boards send nothing back.

A board's channels may serve different lanes (an entrance and an exit barrier on one LCUS-2): an
LcusBoard opens the port once, and each channel's LcusRelay writes through it.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field

from drivers.health import DeviceHealth
from drivers.relays.control import PulseControl
from drivers.serialport import PortError, SerialLink


def lcus_frame(channel: int, on: bool) -> bytes:
    head = bytes([0xA0, channel & 0xFF, int(on)])
    return head + bytes([sum(head) & 0xFF])


@dataclass
class _BoardHealth(DeviceHealth):
    """The port's health, told to the device of every channel in use: they share one cable."""

    channels: list[DeviceHealth] = field(default_factory=list)

    def seen(self) -> None:
        super().seen()
        for channel in list(self.channels):
            channel.seen()

    def set_online(self) -> None:
        super().set_online()
        for channel in list(self.channels):
            channel.set_online()

    def set_offline(self, error: str) -> None:
        super().set_offline(error)
        for channel in list(self.channels):
            channel.set_offline(error)


class LcusBoard:
    """One board on one port; the port opens with its first relay and closes with its last."""

    def __init__(self, port: str, baudrate: int = 9600, reconnect_max_s: float = 2.0):
        # Not logged: each channel's device says it (a line of "device=lcus:/dev/... lane=" named a
        # device that is in no config).
        self.health = _BoardHealth(device=f"lcus:{port}", kind="relay", lane="", driver="lcus", logged=False)
        # Every channel's pulses, holds, releases and resends take turns under it (PulseControl.rewrite).
        self.lock = threading.RLock()
        self._relays: list[LcusRelay] = []
        self._link = SerialLink(
            self.health, port, baudrate, reconnect_max_s=reconnect_max_s, on_open=self._resend
        )

    def add(self, relay: LcusRelay) -> None:
        self._relays.append(relay)
        self.health.channels.append(relay.health)
        if len(self._relays) == 1:
            self._link.start()  # opens the port and says what this relay wants
            return
        with contextlib.suppress(PortError):  # the link put every channel offline, and re-sends later
            relay.resend()

    def remove(self, relay: LcusRelay) -> None:
        self._relays.remove(relay)
        self.health.channels.remove(relay.health)
        if not self._relays:
            self._link.close()

    def write(self, channel: int, on: bool) -> None:
        self._link.write(lcus_frame(channel, on))

    def _resend(self) -> None:
        # After a replug the board starts with its relays off; say what each wants (released: off).
        for relay in list(self._relays):
            relay.resend()


class LcusRelay:
    def __init__(self, health: DeviceHealth, board: LcusBoard, channel: int = 1):
        self.health = health
        self._board = board
        self._channel = channel
        self._control = PulseControl(self._write, health, lock=board.lock)
        board.add(self)

    def pulse(self, seconds: float, ref: str = "") -> None:
        self._control.pulse(seconds)

    def hold(self) -> None:
        self._control.hold()

    def release(self) -> None:
        self._control.release()

    def close(self) -> None:
        self._control.close()
        self._board.remove(self)

    def resend(self) -> None:
        self._control.rewrite()

    def _write(self, on: bool) -> None:
        self._board.write(self._channel, on)
