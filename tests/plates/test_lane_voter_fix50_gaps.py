"""Lane voter behaviour no other test pinned down: a change to any of it went unnoticed (review
50h, by mutation)."""

from __future__ import annotations

from plates.lane import LaneVoter
from tests.plates.test_lane_queue import decisions, every, r


def test_the_next_car_two_characters_off_is_decided_at_once() -> None:
    """Car 皖A12345 is let through and leaves;
    the next car, 皖A12378, two characters off, is at the barrier at once (no loop): the gate must
    open for it on its first clear reading, not treat it as the first car misread and stay shut
    until the 15 s repeat."""
    frames = every(0.0, 1.0, [r("皖A12345")]) + every(1.0, 3.0, [r("皖A12378")])
    assert decisions(LaneVoter(), frames) == [(0.0, "皖A12345"), (1.0, "皖A12378")]


def test_unsure_readings_further_apart_than_the_window_do_not_add_up() -> None:
    """Readings count for 4 s (docs/plates.md): two unsure readings of
    a plate 5 s apart (a glimpse, then another car's shadow) must not add up to open the gate;
    two within the window do."""
    apart = [(0.0, [r("皖A12345", 0.5)]), (5.0, [r("皖A12345", 0.5)])]
    assert decisions(LaneVoter(), apart) == []
    close = [(0.0, [r("皖A12345", 0.5)]), (3.9, [r("皖A12345", 0.5)])]
    assert decisions(LaneVoter(), close) == [(3.9, "皖A12345")]


def test_a_car_kept_on_the_loop_misread_is_not_decided_as_another_car() -> None:
    """Trigger mode: 皖A12345
    is decided as it drives onto the loop and stands there; the loop stays on, the camera reads
    nothing until 5 s, when one frame misreads it 皖A12346. The car is still there as read then
    (on_loop_still): that reading is the same car misread, not a new car to act on."""
    voter = LaneVoter()
    assert decisions(voter, [(0.0, [r("皖A12345")])]) == [(0.0, "皖A12345")]
    voter.rearm(now=0.5)  # the loop: the car is on it (decided moments ago, not decided again)
    voter.on_loop_still(["皖A12345"], now=5.0)
    assert decisions(voter, [(5.3, [r("皖A12346")])]) == []


def test_a_car_unseen_for_more_than_three_seconds_is_decided_afresh_when_it_comes_back() -> None:
    """The car is
    let in and leaves the picture; 3.5 s later it is back at the barrier (it turned round): it left
    (docs/plates.md: "coming back decides again"), so the gate must act on it at once, not ignore
    it as the car still standing there."""
    frames = every(0.0, 1.0, [r("皖A12345")]) + every(4.4, 5.0, [r("皖A12345")])
    assert decisions(LaneVoter(), frames) == [(0.0, "皖A12345"), (4.4, "皖A12345")]
