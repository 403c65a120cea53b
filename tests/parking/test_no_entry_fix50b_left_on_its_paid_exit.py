"""A car with no entry record pays the day's fee at an exit whose barrier did not open (道闸故障)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, pay, report_of_t0_day, show
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY, unplug_exit

PLATE = "苏E12345"
S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)


def test_a_car_that_left_on_its_paid_exit_pays_again_when_it_next_leaves_that_day(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The car pays 30元 at a dead barrier, the board is mended and the camera lets it out at 09:25
    (flag again): it has left on that exit. Back at the exit at 14:00 with no entry record again (it
    came in unseen), it drives out free, and again and again all day. docs/parking.md: it is let
    out on that exit 'until it leaves on that exit'; after leaving, it is a new car with no entry
    record, asked the day's fee (as the guard's 开闸 case is)."""
    gw = make_gw(extra=EXIT_RELAY, exit_without_entry="charge")
    plugged_back = unplug_exit(gw, monkeypatch)
    held = show(gw, "car-out", PLATE, T0)
    assert (held.reason, held.fee_fen) == ("payment_due", 3000)
    assert pay(gw, PLATE, 3000, T0 + M).admitted
    plugged_back()
    out = show(gw, "car-out", PLATE, T0 + 25 * M)
    assert out.admitted and out.fee_fen == 0  # the fix of 6da1dbf: it leaves on what it paid
    later = show(gw, "car-out", PLATE, T0 + 5 * H)
    exits = report_of_t0_day(gw, T0 + 24 * H)["vehicles"]["exits"]["total"]
    assert (later.reason, later.fee_fen) == ("payment_due", 3000), (
        f"it left at 09:25 on the exit it paid for; at 14:00 it is {later.reason} "
        f"flags={later.flags} asked {later.fee_fen / 100:.0f}元 (report counts {exits} exits)"
    )
