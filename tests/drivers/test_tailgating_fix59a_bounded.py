"""Review 59a: a lane held open (常开, by a guard or the centre, for weeks: holds survive restarts) or
whose barrier contact is stuck up kept every car let through there in the tailgating memory
(gateway/runtime/tailgating.py): the openings counted for an arm-up were dropped only when the arm
came down. Four weeks at a busy entrance was 17,700 cars kept twice over (~2.8 MiB on a Pi), and
each car off the loop scanned them all; under the arm stuck up, a resident back the next day was
no new opening, and each raised a tailgate. Proof by reviewer 59a."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

from gateway.runtime.lanes import BarrierWatch
from gateway.runtime.tailgating import COUNTED_FOR_S, Tailgating

LANE = "car-in"
CARS_A_DAY = 1500
DAYS = 28


def _four_weeks(barriers: BarrierWatch, t: float, turns_away: Callable[[int], bool]) -> float:
    """1,500 cars a day for four weeks, 600 of them plates never seen before (visitors, couriers,
    taxis), the other 900 residents back every day: each decided, let through, and driven over the
    loop, covered by its opening, unless it turns away."""
    n = 0
    for _day in range(DAYS):
        for i in range(CARS_A_DAY):
            t += 50.0
            plate = f"皖A{(n % 900_000) + 100_000}" if i < 600 else f"皖B{i:05d}"
            n += i < 600
            barriers.commanded(LANE, t, plate)  # the camera decided it: let through
            if not turns_away(i):
                barriers.tailgating.loop(LANE, True, t + 1)
                assert barriers.tailgating.loop(LANE, False, t + 4) is None
    return t


def _grown_by(run: Callable[[], float]) -> tuple[float, int]:
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    t = run()
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    return t, grown


def _kept(rule: Tailgating) -> tuple[int, int]:
    lane = rule._lanes[LANE]
    return len(lane.unused), len(lane.counted)


def test_a_lane_held_open_for_weeks_keeps_no_car_let_through_and_judges_again_once_released() -> None:
    barriers = BarrierWatch({LANE: 10.0})
    barriers.held(LANE, True, 1000.0)  # 常开: the relay holds the arm up
    barriers.tailgating.arm(LANE, True, 1000.0)  # its contact reports it up, and it stays up
    t, grown = _grown_by(lambda: _four_weeks(barriers, 1000.0, lambda i: False))
    unused, counted = _kept(barriers.tailgating)
    assert unused <= 1 and counted == 0, f"{unused} openings, {counted} counted after 4 weeks held"
    assert grown < 64 * 1024, f"{grown / 2**20:.1f} MiB kept by 4 weeks held open"

    # Released while a car let through just before is still on the loop (the arm stays up over it):
    # its opening covers it; the car that follows it under that arm with none is a tailgate.
    barriers.commanded(LANE, t + 50.0, "皖C12345")
    barriers.tailgating.loop(LANE, True, t + 51.0)
    barriers.held(LANE, False, t + 52.0)
    assert barriers.tailgating.loop(LANE, False, t + 54.0) is None
    barriers.tailgating.loop(LANE, True, t + 55.0)
    tailgate = barriers.tailgating.loop(LANE, False, t + 57.0)
    assert tailgate is not None and (tailgate.passed, tailgate.openings) == (2, 1)


def test_an_arm_stuck_up_for_weeks_keeps_only_recent_openings_and_still_judges() -> None:
    barriers = BarrierWatch({LANE: 10.0})
    barriers.tailgating.arm(LANE, True, 1000.0)  # the contact stuck "up": an arm-up of four weeks
    # One car in fifty decided turns away (a wrong turn, a visitor who calls ahead): its opening
    # is never used.
    t, grown = _grown_by(lambda: _four_weeks(barriers, 1000.0, lambda i: i % 50 == 0))
    unused, counted = _kept(barriers.tailgating)
    recent = int(COUNTED_FOR_S / 50.0) + 1  # the cars decided in the last COUNTED_FOR_S
    assert unused <= recent and counted <= recent, f"{unused} openings, {counted} counted"
    assert grown < 64 * 1024, f"{grown / 2**20:.1f} MiB kept by an arm stuck up 4 weeks"

    # The openings of the cars that turned away are gone with them: a car through on none, long
    # after the last one, is a tailgate, and its alarm counts it as the one car not let through
    # (Review 59g: the openings used and forgotten are still counted, as their cars among those passed).
    barriers.tailgating.loop(LANE, True, t + COUNTED_FOR_S + 10.0)
    tailgate = barriers.tailgating.loop(LANE, False, t + COUNTED_FOR_S + 12.0)
    assert tailgate is not None and tailgate.passed - tailgate.openings == 1


def test_a_car_decided_again_under_its_arm_up_is_still_one_opening() -> None:
    """The bound leaves a real arm-up as it was: the camera deciding a car again counts it once."""
    rule = Tailgating()
    rule.opening(LANE, 0.0, "A")
    rule.arm(LANE, True, 1.0)
    for at in (2.0, 3.0, 4.0):
        rule.opening(LANE, at, "A")
    rule.loop(LANE, True, 5.0)
    assert rule.loop(LANE, False, 6.0) is None  # A
    rule.loop(LANE, True, 7.0)
    tailgate = rule.loop(LANE, False, 8.0)
    assert tailgate is not None and (tailgate.passed, tailgate.openings) == (2, 1)
