"""Review 59l: a car let through twice under one arm-up. Under an entrance arm stuck up (the case
Reviews 59a and 59g bound and count), a taxi is let in at 10:00, drives over the loop, drops its
fare, leaves by the exit lane and is let in again at 10:08 with the next fare. Proof by reviewer
59l: its second passage raised 跟车通过, 放行 1 辆，通过 2 辆. 4d4b65a made such a car a new opening,
which hid a real tailgate (Review 59n, test_tailgating_fix59n_waiting_car.py), and was undone: the
loop cannot tell the taxi back from a car that waited at the arm while an unpaid one used its
opening. docs/hardware.md (Tailgating) names this limit under an arm stuck up (itself a held_open
alarm); these tests hold it as documented."""

from __future__ import annotations

from gateway.runtime.lanes import BarrierWatch
from gateway.runtime.tailgating import COUNTED_FOR_S, Tailgating

LANE = "car-in"
TAXI = "苏E12345"


def _through(barriers: BarrierWatch, t: float, plate: str) -> None:
    """`plate` let in at `t` and over the loop, no tailgate."""
    barriers.commanded(LANE, t, plate)
    barriers.tailgating.loop(LANE, True, t + 1)
    assert barriers.tailgating.loop(LANE, False, t + 4) is None


def _stuck_up() -> tuple[BarrierWatch, Tailgating]:
    barriers = BarrierWatch({LANE: 10.0})
    barriers.tailgating.arm(LANE, True, 1000.0)  # the contact stuck "up"
    return barriers, barriers.tailgating


def test_a_car_let_in_again_within_the_counted_time_under_a_stuck_arm_reads_as_a_tailgate() -> None:
    """The documented limit: within 10 minutes of its last decision the taxi is its first opening."""
    barriers, rule = _stuck_up()
    _through(barriers, 2000.0, TAXI)
    t = 2000.0 + 8 * 60.0  # out by the exit lane, back with the next fare
    barriers.commanded(LANE, t, TAXI)  # let in again
    rule.loop(LANE, True, t + 1)
    tailgate = rule.loop(LANE, False, t + 4)
    assert tailgate is not None
    assert (tailgate.openings, tailgate.passed) == (1, 2)


def test_a_car_let_in_again_after_the_counted_time_is_a_new_opening() -> None:
    barriers, rule = _stuck_up()
    _through(barriers, 2000.0, TAXI)
    t = 2000.0 + COUNTED_FOR_S + 60.0  # back 11 minutes later
    barriers.commanded(LANE, t, TAXI)
    rule.loop(LANE, True, t + 1)
    assert rule.loop(LANE, False, t + 4) is None


def test_the_car_just_through_read_again_is_still_one_opening() -> None:
    """The camera reads the car once more as it drives off the loop: that is no new opening, and a
    car following it unpaid is still a tailgate."""
    barriers, rule = _stuck_up()
    _through(barriers, 2000.0, TAXI)
    barriers.commanded(LANE, 2006.0, TAXI)  # 2 s after its passage, within grace_s
    rule.loop(LANE, True, 2008.0)
    tailgate = rule.loop(LANE, False, 2011.0)
    assert tailgate is not None
    assert (tailgate.openings, tailgate.passed) == (1, 2)
