"""Review 59n: an unpaid car ahead of a car let in and waiting at an arm stuck up. 4d4b65a (Review
59l) took a decision for a plate whose opening was used more than grace_s before for a new opening,
but "used" is whichever counted opening was earliest when a car drove off the loop, not that
plate's car. Car X, nobody let through, drove over the loop ahead of car A, let in and still at
the arm; the camera read A again after grace_s, a second opening, and A's passage covered X's: no
跟车通过. Before 4d4b65a, and again now, it raises 放行 1 辆，通过 2 辆. Proof by reviewer 59n;
docs/hardware.md (Tailgating: "each car counted once however often the camera decided it again")."""

from __future__ import annotations

import pytest

from gateway.runtime.lanes import BarrierWatch

LANE = "car-in"
CAR = "苏E12345"


# The reviewer's reads every 4 s, and the camera's own repeat for a car standing at the arm (15 s).
@pytest.mark.parametrize("every_s", [4.0, 15.0])
def test_unpaid_car_ahead_of_a_car_waiting_at_a_stuck_arm_is_a_tailgate(every_s: float) -> None:
    barriers = BarrierWatch({LANE: 10.0})
    rule = barriers.tailgating
    rule.arm(LANE, True, 1000.0)  # the contact stuck "up"
    barriers.commanded(LANE, 2000.0, CAR)  # A let in; it waits at the arm
    rule.loop(LANE, True, 2001.0)  # X, unpaid, drives over the loop first
    assert rule.loop(LANE, False, 2004.0) is None  # one opening given: it covers one passage
    t = 2000.0
    for _ in range(3):  # A still at the arm, the camera deciding it again
        t += every_s
        barriers.commanded(LANE, t, CAR)
    rule.loop(LANE, True, t + 1)  # A drives over the loop
    tailgate = rule.loop(LANE, False, t + 4)
    assert tailgate is not None, "two cars through on one opening: no 跟车通过 raised"
    assert (tailgate.openings, tailgate.passed) == (1, 2)
