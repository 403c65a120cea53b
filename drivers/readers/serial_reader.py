"""A card reader or QR scanner on a serial port: bytes in, debounced credentials out, and it never
gives up.

A vanished port (USB unplugged, cable cut on a USB adapter) puts the device offline, which raises
an alarm; the reader then reopens the port with backoff by itself. Bad frames are counted in the
device's health (`bad_frames`, `noise_bytes`), never raised; but a reader that sends nothing else
for NOISE_ONLY_S does not answer (RS-485 A/B swapped, a wrong baud rate), and is offline until it
sends a good frame, or a whole line of text (heard_line). A frame left unfinished when the reader
falls silent (FRAME_GAP_S) is cut: one bad frame, never the head of the next card or pass.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

import serial

from drivers.base import Emit
from drivers.health import DeviceHealth
from drivers.readers.debounce import Debouncer
from drivers.readers.frames import Scan, Scanner, cut_frame, line_shape, split_lines
from drivers.serialport import Backoff, PortError, explain, open_port

log = logging.getLogger(__name__)

STABLE_S = 5.0  # a port read this long without an error counts as working, even with no card shown
# Noise and bad frames this long with no good frame, in most of it: the reader does not answer. A
# guard who holds a card on it keeps the noise coming; the barrier motor's bursts as the arm starts
# and stops, a few seconds apart at every car, do not.
NOISE_ONLY_S = 5.0
NOISE_SLOTS = 10  # "most of it": noise in more than half of its tenths
# Garbage (swapped A/B, a wrong baud rate) rarely decodes to this many printable characters between
# two line ends; a code or card of another system always does.
LINE_HEARD = 4
# A reader sends a frame in one go (a 16-byte frame takes 17 ms at 9600 baud; a USB adapter passes
# it on within a few ms), so a frame still unfinished after this long a silence was cut: the reader
# lost power in a storm, or the barrier motor put bytes on the line with no line end. Line, QR and
# Wiegand frames have no start byte to resynchronise on: kept, the fragment would become the head
# of the next card (read as another card) or pass (lost). Far above any pause inside a frame, and
# below the time a card is tapped again or a pass scanned after the noise.
FRAME_GAP_S = 0.5
# How long a read waits for a byte. An empty read proves the line silent since the last bytes were
# read (any that came meanwhile would have been returned), however late this thread ran. A pause
# ending inside a read is judged by when that read returns, if it began with nothing waiting.
READ_TIMEOUT_S = 0.2
# A line of another shape than the reader's format (a Wiegand converter set to another encoding):
# said at WARNING when first seen, or seen again this long after, or of another shape; at DEBUG
# between. A card held on the reader sends it several times a second.
MISFIT_WARN_S = 600.0
# The shapes of line remembered for it; past this many warned of within MISFIT_WARN_S (a line of
# noise, of ever new lengths), a new one is said at DEBUG.
_MISFIT_SHAPES_KEPT = 64


class NoiseOnly:
    """Whether a reader has sent only noise and bad frames, since it connected or since its last
    good frame, for NOISE_ONLY_S: a stretch of noise begun that long ago, with noise in more than
    half the tenths of the last NOISE_ONLY_S. A whole one with none starts the count again."""

    def __init__(self) -> None:
        self._since = 0.0  # the first noise of the stretch
        self._slots: deque[int] = deque()  # the tenths of the last NOISE_ONLY_S with noise in them

    def good(self) -> None:
        self._slots.clear()

    def noisy(self, now: float) -> bool:
        """Noise or a bad frame at `now` (monotonic seconds): True once the stretch is long enough."""
        slot = math.floor(now * NOISE_SLOTS / NOISE_ONLY_S)
        while self._slots and self._slots[0] <= slot - NOISE_SLOTS:
            self._slots.popleft()
        if not self._slots:
            self._since = now
        if not self._slots or self._slots[-1] != slot:
            self._slots.append(slot)
        return now - self._since >= NOISE_ONLY_S and len(self._slots) > NOISE_SLOTS // 2


def heard_line(received: bytes) -> bool:
    """A whole line of printable text, no credential (a visitor's WeChat code under a QR scanner, a
    card of another system on a line reader) but proof that the wiring and the baud rate are right.
    However long: a payment code's URL is longer than any credential the reader takes."""
    lines, _, _, _ = split_lines(received, max_line=len(received))
    return any(_printable(line) for line in lines)


def _printable(line: bytes) -> bool:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(text.strip()) >= LINE_HEARD and text.isprintable()


def not_answering(port: str) -> str:
    return (
        f"{port} sends only noise and bad frames, no card read in {NOISE_ONLY_S:g} s: check the RS-485 "
        "wiring (A to A, B to B; swapped A/B is the usual cause) and that baudrate is the reader's"
    )


class SerialReader:
    def __init__(
        self,
        health: DeviceHealth,
        port: str,
        baudrate: int,
        scan: Scanner,
        *,
        debounce_s: float = 3.0,
        reconnect_max_s: float = 2.0,
        misfit: Callable[[bytes], str | None] | None = None,
    ):
        self.health = health
        self.port = port
        self._baudrate = baudrate
        self._scan = scan
        self._debounce = Debouncer(debounce_s)
        self._backoff = Backoff(0.1, reconnect_max_s)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # What a line thrown away looks like, and what would read it (frames.wiegand_misfit).
        self._misfit = misfit
        self._misfit_said = ""  # in last_error
        # When each shape of line (frames.line_shape) was last warned of (monotonic s).
        self._misfit_warned: dict[str, float] = {}

    def start(self, emit: Emit) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(emit,), name=f"reader-{self.health.device}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)

    def _run(self, emit: Emit) -> None:
        while not self._stop.is_set():
            try:
                port = open_port(self.port, self._baudrate, timeout=READ_TIMEOUT_S)
            except PortError as exc:
                self.health.set_offline(str(exc))
                self._stop.wait(self._backoff.next())
                continue
            try:
                self._read(port, emit)
            except (serial.SerialException, OSError) as exc:
                self.health.count("disconnects")
                self.health.set_offline(explain(self.port, exc))
            finally:
                with contextlib.suppress(serial.SerialException, OSError):
                    port.close()
            self._stop.wait(self._backoff.next())

    def _read(self, port: serial.Serial, emit: Emit) -> None:
        buf = b""
        opened = heard = time.monotonic()  # heard: when bytes were last read
        noise = NoiseOnly()
        garbled = False  # offline for sending only noise: online again with a good frame
        while not self._stop.is_set():
            # Blocks until at least one byte (or the timeout): a frame's last byte is seen at once.
            waiting = port.in_waiting
            data = port.read(waiting or 1)
            returned = time.monotonic()
            # Online, and the backoff reset, only once reads work: a port that opens but fails
            # every read (a second program on it, an adapter in a bad state) stays offline with
            # waits that grow, instead of raising and clearing an alarm ten times a second.
            if not self.health.online and not garbled:
                self.health.set_online()
            if data or time.monotonic() - opened > STABLE_S:
                self._backoff.reset()
            if data:
                cut = 0
                # Bytes that ended a wait of FRAME_GAP_S came after the reader fell silent mid-frame
                # (empty reads every READ_TIMEOUT_S miss a pause of 0.5-0.6 s): the fragment was cut.
                # Bytes already waiting may have come any time while this thread was busy: never cut.
                if buf and not waiting and returned - heard >= FRAME_GAP_S:
                    cut = cut_frame(buf).bad
                    buf = b""
                heard = returned
                received = buf + data
                found = self._scan(received)
                if cut:
                    found = dataclasses.replace(found, bad=found.bad + cut)
            elif buf and time.monotonic() - heard >= FRAME_GAP_S:  # silent mid-frame: it was cut
                received = b""
                found = cut_frame(buf)
            else:
                continue
            buf = found.rest
            if found.bad:
                self.health.count("bad_frames", found.bad)
            if found.noise:
                self.health.count("noise_bytes", found.noise)
            if found.values or heard_line(received):
                noise.good()
                garbled = False
            elif (found.bad or found.noise) and noise.noisy(time.monotonic()) and not garbled:
                garbled = True
                self.health.set_offline(not_answering(self.port))
            if not garbled:
                self.health.seen()
            self._misfits(found)
            for value in found.values:
                self.health.count("reads")
                if self._debounce.accept(value, time.monotonic()):
                    emit(found.kind, value, 1.0)
                else:
                    self.health.count("repeats")

    def _misfits(self, found: Scan) -> None:
        """A line of another shape than the reader's format is said: in last_error while the reader
        is online and reads nothing else (a card read clears it), and in the journal at WARNING, at
        most every MISFIT_WARN_S for one shape of line (frames.line_shape), a card read between or
        not: the note names the settings that read the line with good parity, which change card to
        card, and keyed on it (reset by every read) the limit let 711 WARNINGs through for 1,000
        lines (Review 66 R2). Counted in bad_frames alone, a converter set to another encoding
        looked like a reader nobody tapped (Review 66 I4)."""
        if self._misfit is None:
            return
        if found.values and self._misfit_said:
            if self.health.last_error == self._misfit_said:
                self.health.last_error = ""
            self._misfit_said = ""
        note = self._misfit(found.bad_line) if found.bad_line and not found.values else None
        if note is None:
            return
        said = f"{self.port}: {note}"
        if self.health.online and self.health.last_error in ("", self._misfit_said):
            self.health.last_error = said
        self._misfit_said = said
        now, shape = time.monotonic(), line_shape(found.bad_line)
        warn = now - self._misfit_warned.get(shape, -math.inf) >= MISFIT_WARN_S
        if warn:
            if len(self._misfit_warned) >= _MISFIT_SHAPES_KEPT:  # noise of ever new shapes
                self._misfit_warned = {
                    s: t for s, t in self._misfit_warned.items() if now - t < MISFIT_WARN_S
                }
            warn = len(self._misfit_warned) < _MISFIT_SHAPES_KEPT
            if warn:
                self._misfit_warned[shape] = now
        log.log(
            logging.WARNING if warn else logging.DEBUG,
            "card reader reads nothing device=%s lane=%s error=%s",
            self.health.device,
            self.health.lane,
            said,
        )
