"""Review 59g: the 跟车通过 alarm's counts under an arm up past COUNTED_FOR_S (84c64bf). The alarm
reads 本次抬杆放行 {openings} 辆，通过 {passed} 辆 (alarm_texts.py "tailgate.unknown"): the cars let
through under this arm-up and the cars that passed under it. After 84c64bf the openings forgotten
after 10 minutes left `openings` while `passed` still counted every car since the arm rose: under
an arm stuck up for half an hour, the one car that tailgated was alarmed as "10 let through, 31
passed", 21 cars through unpaid for the guard to look for. Proof by reviewer 59g."""

from __future__ import annotations

from gateway.runtime.lanes import BarrierWatch
from gateway.runtime.tailgating import COUNTED_FOR_S

LANE = "car-in"


def _half_an_hour_stuck_up(barriers: BarrierWatch) -> float:
    """The contact stuck "up"; a car a minute for half an hour, each let through and over the loop."""
    rule = barriers.tailgating
    rule.arm(LANE, True, 1000.0)
    t = 1000.0
    for i in range(30):
        t += 60.0
        barriers.commanded(LANE, t, f"皖A{10000 + i}")
        rule.loop(LANE, True, t + 1)
        assert rule.loop(LANE, False, t + 4) is None
    assert COUNTED_FOR_S < 30 * 60.0  # the first cars' openings are forgotten by now
    return t


def test_an_arm_stuck_up_alarms_one_tailgater_as_one_car_not_let_through() -> None:
    barriers = BarrierWatch({LANE: 10.0})
    t = _half_an_hour_stuck_up(barriers)
    barriers.tailgating.loop(LANE, True, t + 30)  # a car not let through, under the arm
    tailgate = barriers.tailgating.loop(LANE, False, t + 33)
    assert tailgate is not None
    assert (tailgate.openings, tailgate.passed) == (30, 31)  # as before 84c64bf


def test_a_forgotten_opening_no_car_used_is_not_among_those_let_through() -> None:
    """An opening forgotten unused let no car through: neither number counts it."""
    barriers = BarrierWatch({LANE: 10.0})
    rule = barriers.tailgating
    rule.arm(LANE, True, 1000.0)
    barriers.commanded(LANE, 1001.0, "皖A20000")  # decided, let through, turned away
    t = 1001.0 + COUNTED_FOR_S + 60.0
    barriers.commanded(LANE, t, "皖A20001")
    rule.loop(LANE, True, t + 1)
    assert rule.loop(LANE, False, t + 4) is None  # covered by its own opening
    rule.loop(LANE, True, t + 30)
    tailgate = rule.loop(LANE, False, t + 33)
    assert tailgate is not None
    assert (tailgate.openings, tailgate.passed) == (1, 2)


def test_a_new_arm_up_counts_afresh() -> None:
    barriers = BarrierWatch({LANE: 10.0})
    t = _half_an_hour_stuck_up(barriers)
    rule = barriers.tailgating
    rule.arm(LANE, False, t + 10)
    rule.arm(LANE, True, t + 20)  # raised by nobody's opening here
    rule.loop(LANE, True, t + 21)
    tailgate = rule.loop(LANE, False, t + 24)
    assert tailgate is not None
    assert (tailgate.openings, tailgate.passed) == (0, 1)
