"""Serial ports: opening them with errors that say the fix, backoff, and a self-healing writer."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import termios
import threading
import time
from collections.abc import Callable
from typing import Any

import serial

from drivers.health import DeviceHealth

log = logging.getLogger(__name__)

# How long a write waits for a port that takes no data (a board's controller wedged, its line
# flow-stopped, its USB adapter keeping the bytes) before it gives up.
WRITE_TIMEOUT_S = 1.0
# How often a write looks whether its bytes have left the port (a 4-byte frame takes 4 ms at 9600).
DRAIN_POLL_S = 0.002
# How long a reopen, or closing the link (the service stopping), waits for a lost port's close on
# its own thread: an unplugged port's returns at once, a wedged USB adapter's waits up to 30 s.
LOST_CLOSE_WAIT_S = 0.2


class PortError(OSError):
    """A port that cannot be opened or used; the message names the port and the fix."""


class Backoff:
    """Waits that double from `first` up to `most` seconds; reset() after a success."""

    def __init__(self, first: float = 0.1, most: float = 2.0):
        self.first = min(first, most)
        self.most = most
        self._next = self.first

    def next(self) -> float:
        wait = self._next
        self._next = min(self._next * 2, self.most)
        return wait

    def reset(self) -> None:
        self._next = self.first


def open_port(path: str, baudrate: int, timeout: float | None = 0.2, **kwargs: Any) -> serial.Serial:
    """The port, opened exclusively; PortError with the fix when that cannot be done."""
    try:
        return serial.Serial(
            path, baudrate, timeout=timeout, write_timeout=WRITE_TIMEOUT_S, exclusive=True, **kwargs
        )
    except serial.SerialException as exc:
        raise PortError(explain(path, exc)) from exc
    except (OSError, ValueError) as exc:
        raise PortError(f"{path}: {exc}") from exc


def explain(path: str, exc: BaseException) -> str:
    code = getattr(exc, "errno", None)
    text = str(exc)
    if code == errno.ENOENT or "No such file" in text or not os.path.exists(path):
        return (
            f"{path} is not there (unplugged?): check the cable and `ls -l /dev/serial/by-id`; "
            "a by-id path stays the same when the adapter is replugged"
        )
    if code == errno.EACCES or "Permission denied" in text:
        return (
            f"permission denied on {path}: add the gateway user to the dialout group "
            "(sudo usermod -aG dialout estate-gateway) and restart the service"
        )
    if code == errno.EBUSY or "exclusively lock" in text or "busy" in text.lower():
        return (
            f"{path} is in use by another program: stop it (ModemManager and a second gateway "
            "are the usual ones; `sudo fuser -v " + path + "` names it)"
        )
    if isinstance(exc, serial.SerialTimeoutException):
        return (
            f"{path} takes no data (a write timed out): the board's controller is busy or wedged, "
            "or its line is flow-stopped; check its power, its controller and the cable"
        )
    return f"{path}: {text}"


class SerialLink:
    """A port the gateway writes to (relay boards, displays).

    It is opened at once if it can be; while it cannot, a background thread retries with backoff,
    and the device is offline (an alarm). A port that disappears, or is unplugged and plugged back,
    is noticed within a second even when nothing is written, and at the next write. A write while
    the port is closed tries to open it first: a board plugged back is used at once, not at the
    background thread's next retry (up to reconnect_max_s later); the thread is woken, to check
    every check_every_s again. `on_open` runs after every (re)open: a relay re-sends its state. The
    backoff is reset only by a write that went through, so a port that opens but fails every write
    is retried with growing waits. Once closed, the link stays closed: a late write fails.

    A port lost (a write failed, or it was unplugged) is closed on a thread of its own, after the
    device is marked offline: closing a USB serial port whose adapter kept unsent bytes waits for
    them up to its closing_wait (30 s), and that must hold neither the writer (the outcome of its
    write, the device's alarm) nor the service's stop. The port is not opened again until that close
    has returned: an open of the same tty would wait on it too.
    """

    def __init__(
        self,
        health: DeviceHealth,
        path: str,
        baudrate: int,
        *,
        reconnect_max_s: float = 2.0,
        on_open: Callable[[], None] | None = None,
        check_every_s: float = 1.0,
        **serial_kwargs: Any,
    ):
        self.health = health
        self.path = path
        self._baudrate = baudrate
        self._serial_kwargs = serial_kwargs
        self._on_open = on_open
        self._check_every_s = check_every_s
        self._backoff = Backoff(0.1, reconnect_max_s)
        self._port: serial.Serial | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # the watch thread's wait ends early: stopped, or reopened
        self._closing: threading.Thread | None = None  # a lost port's close, till it returns
        self._thread = threading.Thread(target=self._watch, name=f"link-{health.device}", daemon=True)

    def start(self) -> None:
        self._try_open()
        self._thread.start()

    def write(self, data: bytes) -> None:
        """Write and wait until the bytes have left the port, at most the write timeout; PortError
        (device marked offline) if the port is not usable or the bytes did not go."""
        with self._lock:
            why = self._gone() if self._port is not None else None
            if why:  # replugged since the last check
                self._lost(why)
            if self._port is None and self._try_open():  # on_open re-sent the state; now write
                self._wake.set()  # the watch may be in a long back-off: check every second again
            if self._port is None and self._stop.is_set():
                raise PortError(f"{self.path} is closed: the gateway is stopping")
            if self._port is None:
                raise PortError(self.health.last_error or f"{self.path} is not open")
            try:
                _write_drained(self._port, data, self._baudrate)
            except (serial.SerialException, OSError, termios.error) as exc:
                self._lost(explain(self.path, exc))
                raise PortError(self.health.last_error) from exc
        self._backoff.reset()  # only a write that went through proves the port works
        self.health.seen()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        with self._lock:
            if self._port is not None:  # no bytes left in it: a write returns once they left
                _shut(self._port)
                self._port = None
            closing = self._closing
        if closing is not None:
            closing.join(timeout=LOST_CLOSE_WAIT_S)  # a daemon: not waited for past that
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def _try_open(self) -> bool:
        """Open the port unless it is open, still closing after it was lost, or the link closed;
        True if it is open now. A write and the watch thread may both find it closed: the second to
        get the lock must not open it again, or the exclusive lock fails and raises a false "in use
        by another program"."""
        with self._lock:
            if self._port is not None or self._stop.is_set():
                return self._port is not None
            if self._closing is not None:
                self._closing.join(timeout=LOST_CLOSE_WAIT_S)
                if self._closing.is_alive():
                    return False
                self._closing = None
            try:
                self._port = open_port(self.path, self._baudrate, **self._serial_kwargs)
            except PortError as exc:
                self.health.set_offline(str(exc))
                return False
        if self._on_open is not None:
            try:
                self._on_open()  # online once its write went through, not merely opened
            except PortError:
                return False
        else:
            self.health.set_online()
        return True

    def _gone(self) -> str | None:
        """Why the open port is no longer the device at `path`; None while it still is.

        An unplug and replug between two checks leaves the path in place, but while we hold the
        old device open the kernel gives the new one another number (ttyUSB1 behind the same by-id
        link), so comparing device numbers finds it; our fd is dead either way."""
        assert self._port is not None
        try:
            if os.stat(self.path).st_rdev == os.fstat(self._port.fileno()).st_rdev:
                return None
        except FileNotFoundError:
            return f"{self.path} disappeared (unplugged?): check the cable"
        except OSError as exc:
            return explain(self.path, exc)
        return f"{self.path} was unplugged and plugged back: check the cable and its USB plug"

    def _lost(self, why: str) -> None:
        """Offline at once, saying why; the port closed on a thread of its own (the class's
        docstring), so the caller and its locks never wait on it."""
        closer = None
        with self._lock:
            port, self._port = self._port, None
            if port is not None:
                closer = threading.Thread(
                    target=_shut_quietly, args=(port,), name=f"close-{self.health.device}", daemon=True
                )
                self._closing = closer
        try:
            self.health.set_offline(why)  # before the close can return and the watch reopen it
        finally:
            if closer is not None:
                closer.start()

    def _watch(self) -> None:
        wait = self._check_every_s
        while True:
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self._port is None:
                # A port still closing is not opened: looked at again soon, its backoff not grown.
                closing = self._closing is not None and self._closing.is_alive()
                opened = self._try_open()
                wait = self._check_every_s if opened or closing else self._backoff.next()
                continue
            wait = self._check_every_s
            with self._lock:
                why = self._gone() if self._port is not None else None
                if why:
                    self._lost(why)
                    wait = 0.0  # reopen at once: a board that came back must get its state again


def _write_drained(port: serial.Serial, data: bytes, baudrate: int) -> None:
    """Write `data` and wait until it has left the port: SerialTimeoutException if it has not within
    the write timeout (plus the time the bytes take on the wire), started before the write.

    Not flush(): that is tcdrain(), which waits with no time limit. A USB serial adapter that stops
    taking data (a CH340 wedged) takes the bytes into the kernel's buffer at once, so write() never
    times out, and tcdrain() then hangs (wjwwood/serial#184, PX4 #11719): the board's thread, its
    lock and the service's stop with it (Review 64Rb). out_waiting (TIOCOUTQ) counts the bytes still
    in the kernel's buffer and in flight to the adapter, what tcdrain() waits on. A pty always says 0
    (a flow-stopped one times out in write() instead)."""
    deadline = time.monotonic() + WRITE_TIMEOUT_S + len(data) * 10 / baudrate
    port.write(data)
    while port.out_waiting:
        if time.monotonic() > deadline:
            raise serial.SerialTimeoutException("Write timeout: the bytes never left the port")
        time.sleep(DRAIN_POLL_S)


def _shut(port: serial.Serial) -> None:
    """Close the port, first throwing away bytes it never sent (tcflush TCOFLUSH). Linux's
    usb-serial (ch341, cp210x, ftdi_sio, pl2303) cannot throw them away (it has no flush_buffer):
    there close() waits for them up to the port's closing_wait, 30 s (SerialLink._lost)."""
    with contextlib.suppress(serial.SerialException, OSError, termios.error):
        port.reset_output_buffer()
    port.close()


def _shut_quietly(port: serial.Serial) -> None:
    with contextlib.suppress(serial.SerialException, OSError, termios.error):
        _shut(port)
