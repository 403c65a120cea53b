"""A car with no entry record pays its day's fee at an exit whose barrier does not open (道闸故障),
and is read again at that shut arm while the relay is still dead (review 51a of dcac3ea)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, pay, show
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY, unplug_exit
from tests.parking.test_exit_fix49_barrier_not_opened_after import (  # noqa: F401
    Served,
    exit_lane,
)
from tests.parking.test_no_entry_fix50_paid_at_a_dead_barrier import _paid_day_fee_at_a_dead_barrier

PLATE = "苏E12345"
S = timedelta(seconds=1)
M = timedelta(minutes=1)


def test_car_read_again_at_the_still_dead_barrier_keeps_what_it_paid(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The car pays 30元 at 09:01 at a barrier that stays shut (道闸故障); the camera reads it again at
    the shut arm at 09:02, the relay still dead. Once the board is mended (09:25), it should be let
    out free on what it paid (docs/parking.md: 'until it leaves on that exit'), not asked 30元 again:
    it never left."""
    gw = make_gw(extra=EXIT_RELAY, exit_without_entry="charge")
    plugged_back = unplug_exit(gw, monkeypatch)
    held = show(gw, "car-out", PLATE, T0)
    assert (held.reason, held.fee_fen) == ("payment_due", 3000)
    assert pay(gw, PLATE, 3000, T0 + M).admitted
    again = show(gw, "car-out", PLATE, T0 + 2 * M)  # still at the shut arm, relay still dead
    plugged_back()
    out = show(gw, "car-out", PLATE, T0 + 25 * M)
    put_back = gw.conn.execute("SELECT count(*) FROM exits_put_back").fetchone()[0]
    assert out.admitted and out.fee_fen == 0, (
        f"paid 30元 at 09:01, never out (09:02 read again: admitted={again.admitted} {again.reason} "
        f"flags={again.flags}; {put_back} exits put back); at 09:25 it is {out.reason} flags={out.flags} "
        f"asked {out.fee_fen / 100:.0f}元"
    )


def test_the_guards_opening_after_the_car_was_read_again_lets_it_out_once(
    exit_lane: Served,  # noqa: F811
) -> None:
    """Read again at the shut arm a minute after it paid (the relay still dead), the board is then
    mended and the guard presses 开闸 ten seconds after that read: the car drives out on what it
    paid, on that opening. Back at the exit 20 minutes later (it came in unseen), it is a car with
    no entry record again, asked the day's fee: it left on the opening."""
    with exit_lane(exit_without_entry="charge") as lane:
        paid_at = _paid_day_fee_at_a_dead_barrier(lane)
        again = lane.look("car-out", PLATE, paid_at + M)
        lane.plug_back()
        lane.open_by_hand(paid_at + M + 10 * S)
        let_out = lane.rows("SELECT count(*) FROM let_outs_by_hand")[0][0]
        later = lane.look("car-out", PLATE, paid_at + 20 * M)
    assert again.admitted and "again" in again.flags, (again.reason, again.flags)
    assert let_out == 1, "the guard's 开闸 found no car at the barrier"
    assert (later.reason, later.fee_fen) == ("payment_due", 3000), (
        f"it left on the opening; 20 minutes later it is {later.reason} asked {later.fee_fen / 100:.0f}元"
    )
