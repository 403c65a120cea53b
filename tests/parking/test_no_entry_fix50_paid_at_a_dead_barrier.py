"""A car with no entry record pays the day's fee at the lane (exit_without_entry = "charge") at an
exit whose relay board does not take the pulse (道闸故障): the barrier never opened."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.runtime.texts import idle_lines
from tests.parking.conftest import T0, pay, report_of_t0_day, show
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY, unplug_exit
from tests.parking.test_exit_fix49_barrier_not_opened_after import (  # noqa: F401
    Exit,
    Served,
    _report,
    exit_lane,
)

PLATE = "苏E12345"
S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)


def test_a_day_fee_paid_at_a_barrier_that_did_not_open_is_not_asked_again(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The driver pays 30元, the arm stays down (道闸故障 请联系保安). The board is mended 25 minutes
    later and the camera reads the car still waiting: it is asked another 30元 (and the day shows
    the failed exit as a charged exit). The car has not left (docs/parking.md: 'the car has not
    left'); what it paid for that exit should let it out."""
    gw = make_gw(extra=EXIT_RELAY, exit_without_entry="charge")
    plugged_back = unplug_exit(gw, monkeypatch)
    held = show(gw, "car-out", PLATE, T0)
    assert (held.reason, held.fee_fen) == ("payment_due", 3000)
    assert pay(gw, PLATE, 3000, T0 + M).admitted
    assert gw.devices.lanes["car-out"].displays[0].shown[-1][0] == "道闸故障 请联系保安"  # type: ignore[attr-defined]
    plugged_back()
    back = show(gw, "car-out", PLATE, T0 + 25 * M)
    assert back.admitted and back.fee_fen == 0, (
        f"paid 30元 at a barrier that never opened, now {back.reason} asking {back.fee_fen / 100:.0f}元 again"
    )
    assert report_of_t0_day(gw, T0 + 24 * H)["vehicles"]["exits"]["total"] == 1


def _paid_day_fee_at_a_dead_barrier(lane: Exit) -> datetime:
    """苏E12345, no entry record, held at the exit (30元), the fee taken at the lane a minute later:
    道闸故障. The time it paid."""
    held = lane.look("car-out", PLATE, T0)
    assert (held.reason, held.fee_fen) == ("payment_due", 3000)
    paid_at = T0 + M
    lane.clock.at = paid_at
    body = {"plate": PLATE, "amount_fen": 3000, "method": "cash"}
    r = lane.client.post("/api/parking/lanes/car-out/pay", headers=lane.auth, json=body)
    assert r.status_code == 200, r.text
    return paid_at


def test_the_guards_opening_lets_out_the_car_that_paid_at_a_dead_barrier_for_nothing_more(
    exit_lane: Served,  # noqa: F811
) -> None:
    """The board plugged back, the guard presses 开闸 20 s after the fee was taken: the car drives
    out on what it paid. One charge of 30元, paid, one exit in the report; read again 20 minutes
    later (beyond its grace), it left on that opening and is a car with no entry record again."""
    with exit_lane(exit_without_entry="charge") as lane:
        paid_at = _paid_day_fee_at_a_dead_barrier(lane)
        lane.plug_back()
        lane.open_by_hand(paid_at + 20 * S)
        let_out = lane.rows("SELECT count(*) FROM let_outs_by_hand")[0][0]
        charges = lane.rows("SELECT kind, amount_fen, settled_at IS NOT NULL, voided_at FROM charges")
        report = _report(lane)
        later = lane.look("car-out", PLATE, paid_at + 20 * M)
    assert let_out == 1, "the guard's 开闸 found no car at the barrier"
    assert charges == [("no_entry", 3000, 1, None)], charges
    money = report["parking"]
    figures = (money["charges"], money["charged_fen"], money["revenue_fen"], money["unpaid_fen"])
    assert figures == (1, 3000, 3000, 0), f"one day's fee, paid once: {figures}"
    assert report["vehicles"]["exits"]["total"] == 1
    assert (later.reason, later.fee_fen) == ("payment_due", 3000), "it left on the opening: a new visit"


def test_a_release_after_a_car_paid_at_a_dead_barrier_does_not_ask_it_the_fee_again(
    exit_lane: Served,  # noqa: F811
) -> None:
    """The board plugged back, the guard holds the lane open (常开) and releases it (恢复) ten
    seconds later: the display asked the car that had just paid 30元 to pay 30元 (its payment
    stands against that exit's charge). It reads the idle line."""
    with exit_lane(exit_without_entry="charge") as lane:
        paid_at = _paid_day_fee_at_a_dead_barrier(lane)
        display = lane.gw.devices.lanes["car-out"].displays[0]
        lane.plug_back()
        lane.clock.at = paid_at + 5 * S
        r = lane.client.post("/api/lanes/car-out/hold", headers=lane.auth, json={"reason": "放车"})
        assert r.status_code == 200, r.text
        lane.clock.at = paid_at + 15 * S
        r = lane.client.post("/api/lanes/car-out/release", headers=lane.auth, json={"reason": "恢复"})
        assert r.status_code == 200, r.text
        time.sleep(0.3)  # the release's words are shown after the worker looked for the car
        shown = list(display.shown[-1])  # type: ignore[attr-defined]
    assert shown == idle_lines(), f"the car that paid 30元 is told {shown}"
