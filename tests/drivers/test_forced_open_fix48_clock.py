"""forced_open's clearing, held FORCED_OPEN_SETTLE_S after the barrier closed, across NTP setting a
Pi's stale boot clock (docs/parking.md, "When the clock jumps": the boot's rows are re-dated)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import timedelta
from typing import Any

import pytest

import gateway.runtime.lanes as lanes_mod
from gateway.runtime.gateway import Gateway
from gateway.runtime.lanes import LaneInputs
from gateway.timefmt import from_db
from tests.parking.conftest import T0, make_gw  # noqa: F401  (fixture)
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)


def test_forced_open_cleared_across_the_boot_clock_being_set_is_not_dated_days_before_its_raise(
    make_gw: Callable[..., Gateway],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Pi boots on fake-hwclock's time 3 days stale; the arm is forced up and comes down, and NTP
    sets the clock in the seconds the clearing waits. The centre and the alarms page get a
    强行开门 alarm cleared 3 days before it was raised; it should clear 2 s after its raise."""
    settle = 0.5
    monkeypatch.setattr(lanes_mod, "FORCED_OPEN_SETTLE_S", settle)
    gw = make_gw()
    lock = threading.Lock()

    def on_worker(fn: Callable[[Any], Any]) -> Future[Any]:
        fut: Future[Any] = Future()
        with lock:
            fut.set_result(fn(gw.conn))
        return fut

    later = T0 + 10 * 24 * H
    stale = later - 72 * H  # fake-hwclock's last save
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    with lock:
        o.tick(stale)

    wall = {"now": stale}
    inputs = LaneInputs(gw.devices, on_worker, lambda: wall["now"])
    steady.s, wall["now"] = 60, stale + 60 * S
    inputs.barrier("car-in", "car-in-contact", True)  # forced up: nothing told it to open
    steady.s, wall["now"] = 62, stale + 62 * S
    inputs.barrier("car-in", "car-in-contact", False)  # down again: clears once settled
    # NTP answers: the boot clock is set; the operations look re-dates what the boot wrote.
    steady.s, wall["now"] = 63, later + 63 * S
    with lock:
        o.tick(wall["now"])
    time.sleep(settle + 1.0)
    inputs.stop()

    row = gw.conn.execute(
        "SELECT raised_at, cleared_at FROM alarms WHERE kind = 'forced_open' AND source = 'car-in'"
    ).fetchone()
    assert row is not None and row[1] is not None, f"the alarm never cleared: {row}"
    raised, cleared = from_db(row[0]), from_db(row[1])
    assert raised is not None and cleared is not None
    assert timedelta(0) <= cleared - raised <= 10 * S, (
        f"forced_open raised at {raised}, cleared at {cleared}: "
        f"{(cleared - raised) / H:+.1f} hours after its raise (the barrier was up 2 s)"
    )
