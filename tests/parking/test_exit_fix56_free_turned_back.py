"""A stranger's car parked inside its free minutes and left free (fee 0); its driver turned back
under the raised arm (a passenger forgotten) and is at the exit again 2 minutes later. A car that
*paid* and turned back is let out again within its grace (test_exit_fix49_paid_turned_back.py);
this one was a car with no entry record: held for a day's fee (exit_without_entry = "charge",
30元) or refused at the shut barrier (the default "guard", 禁止通行 未登记), although its exit was
on record 2 minutes before (review 56d)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, report_of_t0_day, show

STRANGER = "苏E77777"  # pays by time: 30 free minutes, then 5元 (the test tariff)
M = timedelta(minutes=1)
H = timedelta(hours=1)
# A second exit lane, at the same gate: the driver turned back and drove to the other one.
SECOND_EXIT = """
[[lanes]]
id = "car-out-b"
gate = "north"
direction = "exit"
type = "vehicle"
zone = "main"
"""


def _left_free(gw: Gateway) -> None:
    """In at T0, out at the exit 20 minutes later (inside the 30 free minutes): fee 0."""
    assert show(gw, "car-in", STRANGER, T0).admitted
    left = show(gw, "car-out", STRANGER, T0 + 20 * M)
    assert (left.admitted, left.fee_fen, left.flags) == (True, 0, ())


@pytest.mark.parametrize("policy", ["charge", "guard"])
def test_car_that_left_free_and_turned_back_is_let_out_again(
    make_gw: Callable[..., Gateway], policy: str
) -> None:
    """Back 2 minutes after its free exit: that same passage (flag `again`), nothing charged, no
    day's fee written, the exit counted once in the day's report."""
    gw = make_gw(exit_without_entry=policy)
    _left_free(gw)
    back = show(gw, "car-out", STRANGER, T0 + 22 * M)
    assert (back.admitted, back.fee_fen, back.flags) == (True, 0, ("again",)), (
        f"turned back 2 min after a free exit: {back.reason} {back.flags} asked {back.fee_fen / 100:.0f}元"
    )
    assert back.reason == "temporary"
    assert report_of_t0_day(gw, T0 + 24 * H)["vehicles"]["exits"]["total"] == 1
    amounts = [r[0] for r in gw.conn.execute("SELECT amount_fen FROM charges").fetchall()]
    assert amounts == [0]  # the free exit's; no day's fee for a car "with no entry record"


def test_car_that_left_free_is_let_out_again_at_the_other_exit_lane(make_gw: Callable[..., Gateway]) -> None:
    """The driver turned back and came round to the site's other exit lane: the same passage."""
    gw = make_gw(exit_without_entry="charge", extra=SECOND_EXIT)
    _left_free(gw)
    back = show(gw, "car-out-b", STRANGER, T0 + 23 * M)
    assert (back.admitted, back.fee_fen, back.flags) == (True, 0, ("again",)), (
        f"at the other exit 3 min after a free exit: {back.reason} {back.flags} {back.fee_fen}"
    )


def test_car_back_after_the_grace_of_its_free_exit_has_no_entry_record(
    make_gw: Callable[..., Gateway],
) -> None:
    """A free exit has the config's grace (parking.grace_minutes, 15 min), as a payment taken then
    would have had, and no more: back 16 minutes later, the guard decides as for any such car."""
    gw = make_gw()
    _left_free(gw)
    back = show(gw, "car-out", STRANGER, T0 + 36 * M)
    assert (back.admitted, back.reason, back.flags) == (False, "unknown", ("no_entry_record",))


def test_car_that_came_in_again_is_decided_on_its_new_stay(make_gw: Callable[..., Gateway]) -> None:
    """It did leave, and came in again 1 minute later: at the exit it is a car inside, its new
    stay closed by this exit, not a repeat of the free exit before it."""
    gw = make_gw(exit_without_entry="charge")
    _left_free(gw)
    assert show(gw, "car-in", STRANGER, T0 + 21 * M).admitted
    out = show(gw, "car-out", STRANGER, T0 + 24 * M)
    assert out.admitted and "again" not in out.flags
    open_stays = gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
    assert open_stays == 0


def test_car_whose_new_stay_was_closed_by_hand_is_not_let_out_on_the_free_exit_before(
    make_gw: Callable[..., Gateway],
) -> None:
    """Came in again since its free exit, that stay closed by the admin (a car that left unseen):
    the free exit is from before a stay of its own, and lets nothing out. At the exit 3 minutes
    later it is a car with no entry record, held for the day's fee, not let out free."""
    gw = make_gw(exit_without_entry="charge")
    _left_free(gw)
    assert show(gw, "car-in", STRANGER, T0 + 21 * M).admitted
    stay_id = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    with gw.conn:
        gw.parking.close_stay(gw.conn, stay_id, "left unseen", "admin", T0 + 22 * M)
    back = show(gw, "car-out", STRANGER, T0 + 25 * M)
    assert (back.admitted, back.reason, back.fee_fen) == (False, "payment_due", 3000), (
        f"came in again since its free exit, let out: {back.reason} {back.flags} {back.fee_fen}"
    )


def test_another_car_is_not_let_out_on_a_free_exit(make_gw: Callable[..., Gateway]) -> None:
    """Another stranger's car at the exit 2 minutes after that free exit is itself: no entry
    record, refused at the default "guard"."""
    gw = make_gw()
    _left_free(gw)
    other = show(gw, "car-out", "苏E88888", T0 + 22 * M)
    assert (other.admitted, other.reason, other.flags) == (False, "unknown", ("no_entry_record",))


@pytest.mark.parametrize(
    ("policy", "held"),
    [("charge", (False, "payment_due", 3000)), ("guard", (False, "unknown", 0))],
)
def test_clone_is_not_let_out_on_the_free_exit_of_the_car_whose_entry_closed_its_stay(
    make_gw: Callable[..., Gateway], policy: str, held: tuple[bool, str, int]
) -> None:
    """Two cars on one plate (a clone, 套牌): the clone in at 09:00 and parked; the genuine car in
    at 14:00, a re-entry (the default reentry = "void" closes the clone's stay, its fee let go);
    out free 20 minutes later. The clone at the exit 5 minutes after that, parked 5h25, is a car
    with no entry record, as before d39daa9 (review 56g): held for the day's fee, or refused
    未登记; not let out free on the genuine car's free exit, flag `again`."""
    gw = make_gw(exit_without_entry=policy)
    assert show(gw, "car-in", STRANGER, T0).admitted  # the clone
    assert show(gw, "car-in", STRANGER, T0 + 5 * H).admitted  # the genuine car: a re-entry
    out = show(gw, "car-out", STRANGER, T0 + 5 * H + 20 * M)
    assert (out.admitted, out.fee_fen) == (True, 0)
    clone = show(gw, "car-out", STRANGER, T0 + 5 * H + 25 * M)
    assert (clone.admitted, clone.reason, clone.fee_fen) == held, (
        f"clone parked 5h25 at the exit: {clone.reason} {clone.flags} fee {clone.fee_fen}"
    )
    assert "again" not in clone.flags
