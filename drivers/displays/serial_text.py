"""Serial LED text displays that take plain lines of text (most lane displays sold in China).

Controllers mostly expect GB2312/GBK text; characters the encoding lacks become '?'.
"""

from __future__ import annotations

import textwrap
from typing import Literal

from drivers.health import DeviceHealth
from drivers.serialport import SerialLink

ENDINGS = {"crlf": b"\r\n", "lf": b"\n", "cr": b"\r"}


def display_bytes(
    lines: list[str], encoding: str = "gb18030", line_ending: str = "crlf", width: int = 0
) -> bytes:
    """A line longer than `width` goes on over the next lines, broken at its spaces (a longer word
    where it must): cut off, 临时车 请缴费 7元 lost the fee on an 8-character panel."""
    end = ENDINGS[line_ending]
    out = b""
    for line in lines:
        text = line.replace("\r", " ").replace("\n", " ")
        for part in textwrap.wrap(text, width) if width and len(text) > width else [text]:
            out += part.encode(encoding, errors="replace") + end
    return out


class SerialTextDisplay:
    def __init__(
        self,
        health: DeviceHealth,
        port: str,
        baudrate: int = 9600,
        encoding: str = "gb18030",
        line_ending: Literal["crlf", "lf", "cr"] = "crlf",
        width: int = 0,
        reconnect_max_s: float = 2.0,
    ):
        self.health = health
        self._encoding = encoding
        self._line_ending = line_ending
        self._width = width
        self._link = SerialLink(health, port, baudrate, reconnect_max_s=reconnect_max_s)
        self._link.start()

    def show(self, lines: list[str]) -> None:
        """Write the lines; PortError (device offline) if the display is not there."""
        self._link.write(display_bytes(lines, self._encoding, self._line_ending, self._width))
        self.health.count("shown")

    def close(self) -> None:
        self._link.close()
