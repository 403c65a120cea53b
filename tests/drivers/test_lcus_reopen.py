"""An LCUS board that a pulse or hold reopens the moment it is back (SerialLink.write), next to the
link's own thread that watches the port: one board, two lanes, on a real pty."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pytest

from drivers import serialport
from drivers.relays.lcus import LcusBoard, LcusRelay, lcus_frame
from drivers.serialport import Backoff, PortError
from tests.drivers.conftest import PtyDevice, health, lcus_two_lanes, wait_for
from tests.drivers.test_relays import OFF


class LongBackoff(Backoff):
    """A link's waits between retries, every one 300 s; `begun` once its thread asked for one."""

    def __init__(self) -> None:
        super().__init__(300.0, 300.0)
        self.begun = threading.Event()

    def next(self) -> float:
        self.begun.set()
        return super().next()


def last_state(frames: bytes, channel: int) -> bool | None:
    """What the channel was last told in `frames` (None: nothing)."""
    state = None
    for i in range(0, len(frames) - 3, 4):
        if frames[i : i + 4] in (lcus_frame(channel, True), lcus_frame(channel, False)):
            state = frames[i : i + 4] == lcus_frame(channel, True)
    return state


def test_a_hold_the_moment_the_board_is_back_raises_no_in_use_alarm(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CH340 takes a moment to open. A guard's hold as the board comes back opens the port from
    the lane's thread; the link's own thread, retrying meanwhile, must not open it a second time:
    that open fails on the exclusive lock, and both barriers showed offline as "in use by another
    program" (stop ModemManager...), a false alarm that stayed until the next write."""
    real_open = serialport.open_port

    def slow_open(path: str, *args: object, **kwargs: object) -> object:
        port = real_open(path, *args, **kwargs)  # type: ignore[arg-type]
        time.sleep(0.3)  # the USB adapter being set up
        return port

    board = pty_device("ttyUSB-relay")
    devices, entry, exit_ = lcus_two_lanes(tmp_path, board, wait=0.1)
    try:
        wait_for(lambda: entry.health.online and exit_.health.online, "both channels online")
        monkeypatch.setattr(serialport, "open_port", slow_open)
        alarms: list[str] = []
        exit_.health.on_change = lambda h, online: alarms.append("online" if online else h.last_error)
        board.unplug()
        wait_for(lambda: not entry.health.online, "the board missed")
        time.sleep(0.5)  # the link retries every 0.1 s
        board.plug()
        entry.hold()
        time.sleep(1.5)
        assert last_state(board.pending(wait=0.2), 1) is True  # the hold went through
        assert exit_.health.online, exit_.health.last_error
        assert not [a for a in alarms if "in use by another program" in a], alarms
    finally:
        devices.close()


def test_after_a_hold_reopened_the_board_a_replug_is_still_found_within_a_second(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice]
) -> None:
    """The board was away a while, so the link's retries wait long; a hold the moment it is back
    reopens it. A loose plug a moment later resets the board's relays: the held exit barrier is
    sent again within about a second (docs/hardware.md), not when the link's thread wakes from its
    old wait, seconds later."""
    board = pty_device("ttyUSB-relay")
    devices, entry, exit_ = lcus_two_lanes(tmp_path, board, wait=10)
    try:
        wait_for(lambda: entry.health.online and exit_.health.online, "both channels online")
        # Minutes away: the link's thread retries every reconnect_max_s. Made 300 s here (the test
        # waits for no such time), so a replug found only at its next retry is never found within
        # the test's bound; the thread is seen to begin that wait before the board comes back.
        backoff = LongBackoff()
        entry._board._link._backoff = backoff
        board.unplug()
        wait_for(lambda: not entry.health.online, "the board missed")
        wait_for(backoff.begun.is_set, "the link's thread waiting for its next retry")
        board.plug()
        exit_.hold()  # the write reopens the board
        assert board.pending(wait=0.3).endswith(lcus_frame(2, True))
        board.unplug()
        board.plug()  # the board is back with its relays off
        seen = bytearray()

        def sent_again() -> bool:
            seen.extend(board.pending())
            return last_state(bytes(seen), 2) is True

        # Checked every second (docs/hardware.md); the bound only ends a hang, far short of 300 s.
        with suppress(AssertionError):
            wait_for(sent_again, "the held exit sent again", timeout=30.0)
        assert last_state(bytes(seen), 2) is True, (
            f"the held exit was not sent again before the link's next retry: {bytes(seen).hex()}"
        )
    finally:
        devices.close()


def test_a_relay_write_after_the_board_closed_does_not_reopen_it(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """A car admitted in the moment the gateway stops: its pulse comes after the board was closed.
    It fails, saying why, and leaves the port free for the next start; it reopened the port, which
    stayed open with no thread watching it, in the hands of a gateway that had stopped."""
    board = pty_device("ttyUSB-relay")
    lcus = LcusBoard(board.path, reconnect_max_s=0.2)
    relay = LcusRelay(health("relay", "relay"), lcus, channel=1)
    assert board.read(4) == OFF
    relay.close()  # the last relay of the board: the port closes
    with pytest.raises(PortError, match="closed"):
        lcus.write(1, True)
    assert board.pending() == b""
    serialport.open_port(board.path, 9600).close()  # free: the next start opens it
