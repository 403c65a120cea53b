"""A driver's mistake at the exit lane: he paid the guard at the barrier, the arm rose, and he turned
back without driving through (the car in front stalled, he forgot a passenger). He is back at the
same exit a few minutes later, well within the grace period the tariff publishes for leaving after
paying (parking.grace_minutes, 15 min: 缴费后请在 15 分钟内离场)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, pay, report_of_t0_day, show

PLATE = "苏E12345"  # a stranger's car, pays by time
M = timedelta(minutes=1)
H = timedelta(hours=1)


def _paid_at_the_lane_and_turned_back(gw: Gateway) -> None:
    """In at T0, held at the exit two hours later (7元), paid a minute after: the arm rises."""
    assert show(gw, "car-in", PLATE, T0).admitted
    held = show(gw, "car-out", PLATE, T0 + 2 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 700)
    assert pay(gw, PLATE, 700, T0 + 2 * H + M).admitted  # the driver does not drive through


def test_car_that_paid_at_the_lane_and_turned_back_is_not_asked_a_days_fee_within_its_grace(
    make_gw: Callable[..., Gateway],
) -> None:
    """Back 4 minutes after paying 7元 (within the 15 minutes' grace), the exit asked it a whole
    day's fee (30元, flagged no_entry_record) as a car that never came in. It leaves free: the same
    passage as the one it paid for (flag `again`), counted once in the day's report."""
    gw = make_gw(exit_without_entry="charge")
    _paid_at_the_lane_and_turned_back(gw)
    back = show(gw, "car-out", PLATE, T0 + 2 * H + 5 * M)
    assert back.admitted and back.fee_fen == 0, (
        f"paid 7元 four minutes ago, now {back.reason} asking {back.fee_fen / 100:.0f}元 flags={back.flags}"
    )
    assert (back.reason, back.flags) == ("temporary", ("again",))
    report = report_of_t0_day(gw, T0 + 24 * H)
    assert report["vehicles"]["exits"]["total"] == 1
    money = report["parking"]
    assert (money["charges"], money["charged_fen"], money["revenue_fen"]) == (1, 700, 700)
    charges = gw.conn.execute("SELECT count(*) FROM charges").fetchone()[0]
    assert charges == 1  # no day's fee written for the car with "no entry record"


def test_car_that_paid_at_the_lane_and_turned_back_is_not_refused_as_unregistered(
    make_gw: Callable[..., Gateway],
) -> None:
    """The same at a site with the default exit_without_entry = "guard": it was refused with
    no_entry_record (禁止通行 未登记), the barrier shut until the guard came. It is let out."""
    gw = make_gw()
    _paid_at_the_lane_and_turned_back(gw)
    back = show(gw, "car-out", PLATE, T0 + 2 * H + 5 * M)
    assert back.admitted, f"paid car refused {back.reason} flags={back.flags}"
    assert "no_entry_record" not in back.flags


def test_car_back_after_its_grace_is_a_car_with_no_entry_record_as_before(
    make_gw: Callable[..., Gateway],
) -> None:
    """The grace is the tariff's promise, and no more: back 20 minutes after paying, the car left
    on record that long ago, and the guard decides (as for any car with no entry record)."""
    gw = make_gw()
    _paid_at_the_lane_and_turned_back(gw)
    back = show(gw, "car-out", PLATE, T0 + 2 * H + 21 * M)
    assert (back.reason, back.flags) == ("unknown", ("no_entry_record",))


def test_car_that_paid_ahead_at_the_booth_and_turned_back_at_the_exit_leaves_free(
    make_gw: Callable[..., Gateway],
) -> None:
    """Paid ahead at the booth, its stay stays open until it leaves: the exit's camera lets it out
    free within its grace and closes the stay. Its driver turns back under the raised arm and is
    at the exit again 4 minutes later: that same paid passage, not a car with no entry record."""
    gw = make_gw(exit_without_entry="charge")
    assert show(gw, "car-in", PLATE, T0).admitted
    with gw.conn:
        gw.parking.prepay(gw.conn, PLATE, 700, "cash", "", "booth", T0 + 2 * H)
    out = show(gw, "car-out", PLATE, T0 + 2 * H + 5 * M)
    assert out.admitted and out.fee_fen == 0
    back = show(gw, "car-out", PLATE, T0 + 2 * H + 9 * M)
    assert (back.admitted, back.fee_fen, back.flags) == (True, 0, ("again",)), (
        f"paid at the booth, back at the exit 4 minutes after leaving: {back.reason} "
        f"asking {back.fee_fen / 100:.0f}元 flags={back.flags}"
    )


def test_car_with_no_entry_record_that_paid_a_days_fee_and_turned_back_is_not_asked_it_again(
    make_gw: Callable[..., Gateway],
) -> None:
    """A car with no entry record pays the day's fee at the lane (exit_without_entry = "charge"),
    the arm rises, the driver turns back: 4 minutes later it was asked a second day's fee."""
    gw = make_gw(exit_without_entry="charge")
    held = show(gw, "car-out", PLATE, T0)
    assert (held.reason, held.fee_fen) == ("payment_due", 3000)
    assert pay(gw, PLATE, 3000, T0 + M).admitted
    back = show(gw, "car-out", PLATE, T0 + 5 * M)
    assert (back.admitted, back.fee_fen, back.flags) == (True, 0, ("again",)), (
        f"paid a day's fee 4 minutes ago, now {back.reason} asking {back.fee_fen / 100:.0f}元"
    )


def test_car_that_left_free_since_is_not_taken_for_its_paid_exit(
    make_gw: Callable[..., Gateway],
) -> None:
    """A car that paid, left, came in again and left again free within the grace (a quick errand)
    is decided as itself at its next exit: the paid exit was before its last stay began. Back at
    the exit 3 minutes after the free exit, it is that free exit's passage again (review 56d:
    test_exit_fix56_free_turned_back.py), never the paid one's."""
    gw = make_gw()
    _paid_at_the_lane_and_turned_back(gw)
    assert show(gw, "car-in", PLATE, T0 + 2 * H + 3 * M).admitted  # it did leave, and came back
    out = show(gw, "car-out", PLATE, T0 + 2 * H + 6 * M)
    assert out.admitted and "again" not in out.flags  # its own stay, closed
    at = T0 + 2 * H + 9 * M
    settled = gw.parking.left_settled(gw.conn, f"plate:{PLATE}", at)
    assert settled is not None and settled.event_id == out.event_id
    again = show(gw, "car-out", PLATE, at)
    assert (again.admitted, again.fee_fen, again.flags) == (True, 0, ("again",))
