"""The lane voter with more than one car in view: a commute queue, fleet cars with consecutive
numbers, and which decisions are a car that stayed rather than a new arrival."""

from __future__ import annotations

from plates.lane import LaneVoter
from plates.reading import Reading

AT_BARRIER = (600, 400, 120, 40)  # the car at the barrier
BEHIND = (620, 200, 80, 28)  # the next car, queued behind it in the lane
A, B = "皖A12345", "皖B67890"

Frames = list[tuple[float, list[Reading]]]


def r(text: str, conf: float = 0.99, box: tuple[int, int, int, int] = AT_BARRIER) -> Reading:
    return Reading(text, "blue", conf, box)


def decisions(voter: LaneVoter, frames: Frames) -> list[tuple[float, str]]:
    out = []
    for t, readings in frames:
        d = voter.add(readings, now=t)
        if d is not None:
            out.append((round(t, 2), d.text))
    return out


def every(start: float, end: float, readings: list[Reading], step: float = 0.1) -> Frames:
    return [(round(start + i * step, 2), readings) for i in range(round((end - start) / step))]


def test_two_cars_queued_in_view_are_each_decided_once() -> None:
    """Car A at the barrier, car B behind it, both readable: one decision each, not A, B, A, B..."""
    frames = [(0.0, [r(A)])] + every(0.1, 20.0, [r(A), r(B, box=BEHIND)])
    voter = LaneVoter(repeat_after_s=60.0)
    assert [text for _, text in decisions(voter, frames)] == [A, B]


def test_each_car_of_a_queue_is_decided_again_on_its_own_timer() -> None:
    frames = [(0.0, [r(A)])] + every(0.1, 2.0, [r(A)]) + every(2.0, 17.5, [r(A), r(B, box=BEHIND)])
    assert decisions(LaneVoter(), frames) == [(0.0, A), (2.0, B), (15.0, A), (17.0, B)]


def test_the_queued_car_is_decided_again_when_it_reaches_the_loop() -> None:
    """A is let in and drives off at 3 s; B, decided while it queued, rolls onto the loop at 4 s."""
    voter = LaneVoter()
    queue = [(0.0, [r(A)])] + every(0.1, 3.0, [r(A), r(B, box=BEHIND)]) + every(3.0, 4.0, [r(B)])
    assert decisions(voter, queue) == [(0.0, A), (0.1, B)]
    voter.rearm(now=4.0)
    assert decisions(voter, every(4.0, 6.0, [r(B)])) == [(4.0, B)]


def test_the_next_car_one_character_off_is_decided_when_it_reaches_the_loop() -> None:
    """Fleet cars carry consecutive numbers: 皖A12346 right after 皖A12345 is the next car. From
    the readings alone it is the first car misread; the loop says a car has arrived."""
    voter = LaneVoter()
    frames = every(0.0, 4.0, [r("皖A12345")]) + every(4.0, 5.0, [r("皖A12346")])
    assert decisions(voter, frames) == [(0.0, "皖A12345")]
    voter.rearm(now=5.0)
    assert decisions(voter, every(5.0, 6.0, [r("皖A12346")])) == [(5.0, "皖A12346")]


def test_without_a_loop_the_next_car_one_character_off_waits_for_the_repeat() -> None:
    frames = every(0.0, 2.0, [r("皖A12345")]) + every(2.0, 16.0, [r("皖A12346")])
    assert decisions(LaneVoter(), frames) == [(0.0, "皖A12345"), (15.0, "皖A12346")]


def test_a_standing_car_misread_for_a_while_is_not_another_car() -> None:
    """A shadow or someone walking past: for 1.5 s the last character reads wrong."""
    frames = (
        every(0.0, 5.0, [r("皖A12345")])
        + every(5.0, 6.5, [r("皖A1234S")])
        + every(6.5, 10.0, [r("皖A12345")])
    )
    assert decisions(LaneVoter(repeat_after_s=120.0), frames) == [(0.0, "皖A12345")]


def test_a_plate_the_guard_typed_is_not_decided_again_as_its_misread() -> None:
    """The camera could not read the car, so the guard typed it; the camera then reads it one
    character off for as long as it stands there."""
    voter = LaneVoter()
    voter.hold("皖A12345", 0.0)
    assert decisions(voter, every(1.5, 10.0, [r("皖A1234S", conf=0.6)])) == []


def test_misreads_of_a_car_still_being_read_never_decide() -> None:
    """A standing car read mostly right, now and then one character off, for a minute."""
    frames = [(0.1 * i, [r("皖A1234S" if i % 3 == 2 else "皖A12345")]) for i in range(600)]
    got = decisions(LaneVoter(repeat_after_s=120.0), frames)
    assert got == [(0.0, "皖A12345")]


def test_decisions_of_a_car_that_stayed_are_marked_as_such() -> None:
    voter = LaneVoter()
    marks = []
    for t, readings in every(0.0, 20.0, [r(A)], step=0.5):  # standing without a loop
        d = voter.add(readings, now=t)
        if d is not None:
            marks.append((t, d.again, voter.decided_again(A)))
    assert marks == [(0.0, False, False), (15.0, True, True)]
    voter.rearm(now=20.0)  # the loop: the car is still there
    d = voter.add([r(A)], now=20.0)
    assert d is not None and d.again
    assert voter.add([], now=24.0) is None  # it leaves ...
    back = voter.add([r(A)], now=25.0)  # ... and comes back: a new arrival
    assert back is not None and not back.again and not voter.decided_again(A)


def test_a_standing_car_misread_just_as_it_is_decided_again_is_not_another_car() -> None:
    """At its 15 s repeat, someone walks past and for 0.3 s the last character reads wrong."""
    frames = every(0.0, 15.0, [r(A)]) + every(15.0, 15.3, [r("皖A1234S")]) + every(15.3, 20.0, [r(A)])
    assert "皖A1234S" not in [text for _, text in decisions(LaneVoter(), frames)]


def test_a_standing_car_misread_just_as_the_loop_asks_is_not_another_car() -> None:
    voter = LaneVoter(repeat_after_s=120.0)
    assert decisions(voter, every(0.0, 5.0, [r(A)])) == [(0.0, A)]
    voter.rearm(now=5.0)  # the car rolled forward on the loop
    frames = every(5.0, 5.2, [r("皖A1234S")]) + every(5.2, 8.0, [r(A)])
    assert "皖A1234S" not in [text for _, text in decisions(voter, frames)]


def test_the_next_fleet_car_on_the_loop_moments_after_the_first_is_decided_within_a_second() -> None:
    """皖A12345 is decided and drives off at 1 s; 皖A12346 rolls onto the loop at 1.5 s."""
    voter = LaneVoter()
    assert decisions(voter, every(0.0, 1.0, [r("皖A12345")])) == [(0.0, "皖A12345")]
    got = decisions(voter, every(1.0, 1.5, [r("皖A12346")]))
    voter.rearm(now=1.5)
    got += decisions(voter, every(1.5, 14.0, [r("皖A12346")]))
    assert [text for _, text in got] == ["皖A12346"] and got[0][0] <= 2.5
