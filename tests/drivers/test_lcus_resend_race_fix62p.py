"""An LCUS board plugged back is sent what each channel wants (LcusBoard._resend) while a guard may be
holding or releasing a barrier on it: the two take turns, on a real pty."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from drivers import serialport
from drivers.relays.lcus import LcusBoard, LcusRelay, lcus_frame
from tests.drivers.conftest import PtyDevice, health, wait_for
from tests.drivers.test_lcus_reopen import LongBackoff, last_state
from tests.drivers.test_relays import OFF


def test_a_hold_while_the_board_is_sent_its_state_again_keeps_the_barrier_up(
    pty_device: Callable[[str], PtyDevice],
) -> None:
    """The board is plugged back; the link's thread reads that the barrier is released and is about
    to send "off" when the guard holds it open. The hold's "on" went out first, the stale "off"
    after it: the barrier came down while the lane said it was held open. The hold is made in that
    very moment here (inside the resend's write to the board)."""
    board = pty_device("ttyUSB-relay")
    lcus = LcusBoard(board.path, reconnect_max_s=0.1)
    relay = LcusRelay(health("exit-barrier", "relay", "car-out"), lcus, channel=1)
    holding: list[threading.Thread] = []
    try:
        assert board.read(4) == OFF
        real_write = lcus.write

        def write(channel: int, on: bool) -> None:
            if threading.current_thread().name.startswith("link-") and not holding:
                # The resend has read what is wanted; the guard presses 常开 now.
                hold = threading.Thread(target=relay.hold, name="guard-hold")
                hold.start()
                holding.append(hold)
                hold.join(timeout=1.0)  # done at once, or waiting its turn: either way, go on
            real_write(channel, on)

        lcus.write = write  # type: ignore[method-assign]
        board.unplug()
        wait_for(lambda: not relay.health.online, "the board missed")
        board.plug()
        wait_for(lambda: holding, "the board sent its state again")
        holding[0].join(timeout=30)
        assert not holding[0].is_alive(), "the hold never returned"
        wait_for(lambda: relay.health.online, "the board back online")
        assert last_state(board.pending(wait=0.3), 1) is True, "the held barrier was last sent off"
        assert relay._control.wanted  # the lane still holds it
    finally:
        relay.close()


def test_a_hold_reopening_the_board_and_a_release_on_its_other_channel_both_go_through(
    pty_device: Callable[[str], PtyDevice], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One board, two lanes. The entrance's hold reopens the board the moment it is back, and sends
    both channels their state; the exit is released in that moment. Each waits its turn: neither
    waits for the other for ever (a resend waiting for the exit's turn while the exit's release
    waited for the port the resend held stopped both lanes' barriers for good)."""
    board = pty_device("ttyUSB-relay")
    lcus = LcusBoard(board.path, reconnect_max_s=0.1)
    entry = LcusRelay(health("entry-barrier", "relay", "car-in"), lcus, channel=1)
    exit_ = LcusRelay(health("exit-barrier", "relay", "car-out"), lcus, channel=2)
    releasing: list[threading.Thread] = []
    holder = threading.Thread(target=entry.hold, name="guard-hold")
    try:
        exit_.hold()
        wait_for(lambda: last_state(board.pending(wait=0.1), 2) is True, "the exit held")
        backoff = LongBackoff()  # the link's own thread does not reopen the board: the hold does
        lcus._link._backoff = backoff
        real_open = serialport.open_port

        def open_port(path: str, *args: object, **kwargs: object) -> object:
            port = real_open(path, *args, **kwargs)  # type: ignore[arg-type]
            if not releasing:  # the USB adapter being set up as the exit is released
                release = threading.Thread(target=exit_.release, name="guard-release")
                release.start()
                releasing.append(release)
                release.join(timeout=1.0)
            return port

        board.unplug()
        wait_for(lambda: not entry.health.online, "the board missed")
        wait_for(backoff.begun.is_set, "the link's thread waiting for its next retry")
        monkeypatch.setattr(serialport, "open_port", open_port)
        board.plug()
        holder.start()
        holder.join(timeout=30)
        # The hold returns at once, written (and the board reopened) on the board's thread.
        wait_for(lambda: releasing, "the hold to reopen the board")
        releasing[0].join(timeout=30)
        assert not holder.is_alive() and not releasing[0].is_alive(), "the hold and the release stuck"
        frames = board.pending(wait=0.3)
        assert last_state(frames, 1) is True, frames.hex()
        assert last_state(frames, 2) is False, frames.hex()
        assert lcus_frame(2, False) in frames
    finally:
        if not any(t.is_alive() for t in [holder, *releasing]):
            exit_.close()  # stuck threads would hang the close too: the assertion said it
            entry.close()
