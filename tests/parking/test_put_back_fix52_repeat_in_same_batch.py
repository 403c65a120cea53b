"""Review 52c: a car's exit and the camera's repeat of it (flag again) decided in one batch (the
worker was busy: both queued together), at an exit whose relay board is unplugged. Neither pulse is
taken, so the car is put back on its stay. The board is mended and the guard presses 开闸 for the car
at the barrier: it should let that car out (docs/parking.md, put back / 开闸). The repeat, judged
as a passage of its own after the exit was put back, is not kept put back (store/parking.py
put_back only keeps a repeat of a no-stay exit), so it reads as the car let out on a barrier that
opened: the opening finds no car, and the car that drove out stays inside on record."""

from __future__ import annotations

import time
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.worker import Job
from tests.parking.conftest import T0, make_gw  # noqa: F401
from tests.parking.test_exit_fix49_barrier_not_opened_after import (  # noqa: F401
    Served,
    exit_lane,
)

PLATE = "苏E12345"
S = timedelta(seconds=1)
M = timedelta(minutes=1)


def test_the_guards_opening_finds_the_car_whose_exit_and_repeat_were_one_batch(
    exit_lane: Served,  # noqa: F811
) -> None:
    with exit_lane() as lane:
        assert lane.look("car-in", PLATE, T0).admitted
        out_at = T0 + 20 * M
        lane.clock.at = out_at + S
        exit_ = Presented("car-out", "plate", PLATE, 0.97, out_at, "cam")
        repeat = Presented("car-out", "plate", PLATE, 0.97, out_at + S, "cam", again=True)
        jobs = [Job(exit_, time.perf_counter()), Job(repeat, time.perf_counter())]
        decided = lane.gw.on_worker(lambda _: lane.gw.decide_batch(jobs)).result(timeout=10)
        assert [ev.admitted for ev in decided] == [True, True]
        assert "again" in decided[1].flags, decided[1].flags
        assert lane.open_stays() == 1, "the car whose barrier did not open is not back on its stay"
        lane.plug_back()
        lane.open_by_hand(out_at + 10 * S)
        let_out = [
            v
            for (v,) in lane.rows(
                "SELECT a.value FROM let_outs_by_hand o JOIN access_log a ON a.event_id = o.held_event"
            )
        ]
        kept = lane.rows("SELECT count(*) FROM exits_put_back")[0][0]
        still_open = lane.open_stays()
    assert let_out == [PLATE] and still_open == 0, (
        f"the guard's 开闸 10 s after 道闸故障 let out {let_out}; {kept} of the passage's 2 decisions "
        f"kept put back; the car that drove out still has {still_open} stay open"
    )
