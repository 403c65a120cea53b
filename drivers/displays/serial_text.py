"""Serial LED text displays that take plain lines of text (most lane displays sold in China).

Controllers mostly expect GB2312/GBK text; characters the encoding lacks become '?'.

The lines are written on the display's own thread, so that a decision never waits for a board:
one that stops taking data (its controller busy or wedged, the line flow-stopped) holds a write for
the port's write timeout (1 s), and on the decision worker that held up every lane's next barrier.
Only the newest message waits to be written: the driver at the barrier needs the current one.
"""

from __future__ import annotations

import logging
import threading
from typing import Literal

from drivers.health import DeviceHealth
from drivers.serialport import PortError, SerialLink
from gateway.core.tickets import cut_to_cells, half_cells, is_ticket, split_at_tickets, ticket_lines
from plates.grammar import is_plate

log = logging.getLogger(__name__)

ENDINGS = {"crlf": b"\r\n", "lf": b"\n", "cr": b"\r"}


def display_bytes(
    lines: list[str], encoding: str = "gb18030", line_ending: str = "crlf", width: int = 0
) -> bytes:
    """Each line as the panel is sent it, encoded, after it the line ending; see panel_lines for a
    line wider than `width`."""
    end = ENDINGS[line_ending]
    out = b""
    for line in lines:
        for part in panel_lines(line.replace("\r", " ").replace("\n", " "), width):
            out += part.encode(encoding, errors="replace") + end
    return out


def panel_lines(text: str, width: int) -> list[str]:
    """`width` is the Chinese characters a line of the panel holds, a letter, digit or space
    counting half of one (tickets.half_cells): a 64-dot panel is 4 wide and shows 皖A12345 whole.
    A wider line goes on over the next lines, broken at its spaces (a longer word where it must):
    cut off, 临时车 请缴费 7元 lost the fee on a narrow panel. A ticket in it goes on lines of its
    own, whole where it fits, else broken at its dashes (tickets.ticket_lines): cut as a word,
    无牌0303100 read 无牌030310 / 0, another car's ticket."""
    if not width or half_cells(text) <= 2 * width:
        return [text]
    lines: list[str] = []
    for piece in split_at_tickets(text):
        # The words after a ticket begin with the space that parted them: no line begins blank.
        lines += ticket_lines(piece, width) if is_ticket(piece) else word_lines(piece.strip(), width)
    return lines


def word_lines(text: str, width: int) -> list[str]:
    """`text` on lines `width` cells wide (panel_lines), broken at its spaces. A plate too wide
    for a line is broken after its province and letter (粤B / D12345 at 4 cells, 粤BD12345 being
    4.5): cut at the width, 粤BD12345 read 粤BD1234 / 5, another car's plate. Any other word wider
    than a line starts a line of its own and is cut where it must: run on from the words before it
    (textwrap's way), a fee of 1234.5元 read 请缴费 12 / 34.5元, and the driver was asked 12元. A
    Latin word (letters, no digit) is cut with a hyphen at the line's end, CONTRAC- / TOR, so that
    it reads as one word going on; never a number, whose hyphen would read as a minus."""
    room = 2 * width  # in half-cells, to count in integers
    lines: list[str] = []
    line = ""
    for word in text.split():
        if half_cells(word) > room:
            if line:
                lines.append(line)
            parts = [word[:2], word[2:]] if is_plate(word) and half_cells(word[2:]) <= room else [word]
            pieces = [piece for part in parts for piece in _cut(part, room)]
            lines += pieces[:-1]
            line = pieces[-1]
        elif not line:
            line = word
        elif half_cells(line) + 1 + half_cells(word) <= room:
            line += " " + word
        else:
            lines.append(line)
            line = word
    return [*lines, line] if line else lines


def _cut(word: str, room: int) -> list[str]:
    """A word wider than a line of `room` half-cells, on lines of its own (word_lines)."""
    if not (word.isascii() and any(c.isalpha() for c in word)) or any(c.isdigit() for c in word):
        return cut_to_cells(word, room)
    pieces = []
    while len(word) > room:  # ASCII: a half-cell each
        pieces.append(word[: room - 1] + "-")
        word = word[room - 1 :]
    return [*pieces, word]


class SerialTextDisplay:
    """show() returns at once; the display's health says whether its writes go through.

    A board is online once a write goes through, not merely once its port opens: a board that stops
    taking data opens fine every time the link reopens it after a timed-out write, and taken for
    online then, its alarm would clear and be raised again at every car. So when the port (re)opens
    the newest message is sent again (a board plugged back after a power cut shows it, not a blank
    panel), and that write decides; with nothing shown yet, opened is all there is to know.
    """

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
        self._cond = threading.Condition()
        self._newest: bytes | None = None  # what the lane wants shown now
        self._pending: bytes | None = None  # what the writer is to write next
        self._closed = False
        # Made before the link opens the port: its first open asks _opened which thread it is on.
        self._thread = threading.Thread(target=self._run, name=f"display-{health.device}", daemon=True)
        self._link = SerialLink(health, port, baudrate, reconnect_max_s=reconnect_max_s, on_open=self._opened)
        self._link.start()
        self._thread.start()

    def show(self, lines: list[str]) -> None:
        """Hand the lines to the display's thread and return. PortError at once if the display is
        known to be missing (its port closed): its caller is told, as when show() wrote itself. The
        lines are still the newest: sent when the link opens the port again."""
        data = display_bytes(lines, self._encoding, self._line_ending, self._width)
        with self._cond:
            if self._closed:
                raise PortError(f"{self._link.path} is closed: the gateway is stopping")
            self._newest = data
            if not self._link.is_open:
                raise PortError(self.health.last_error or f"{self._link.path} is not open")
            self._pending = data
            self._cond.notify()
        self.health.count("shown")

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._pending = None
            self._cond.notify()
        self._link.close()  # waits for a write under way: at most the port's write timeout
        self._thread.join(timeout=3)

    def _opened(self) -> None:
        """The link opened the port (at start, or again after a failure or a replug)."""
        if threading.current_thread() is self._thread:
            return  # the writer reopened it to write: that write decides
        with self._cond:
            newest = self._newest
            if newest is not None and self._pending is None and not self._closed:
                self._pending = newest
                self._cond.notify()
        if newest is None:
            self.health.set_online()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed or self._pending is None:
                    return
                data, self._pending = self._pending, None
            try:
                self._link.write(data)  # online once it goes through; offline, with why, if not
            except PortError:
                self.health.count("failures")
            except Exception as exc:  # the thread must live on: dead, the board kept its last words
                log.exception("display write failed device=%s", self.health.device)
                self.health.count("failures")
                self.health.set_offline(f"write failed: {exc}")
