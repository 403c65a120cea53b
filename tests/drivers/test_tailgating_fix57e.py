"""跟车通过 judged on its own (gateway/runtime/tailgating.py): a lane's loop and arm edges, its
openings and refusals, with the time a parameter. Review 57e: a car held or refused at a lane that
drove out under the arm raised for the car in front was never told to anyone."""

from __future__ import annotations

from gateway.runtime.tailgating import NAMED_WITHIN_S, Tailgate, Tailgating

LANE = "car-out"


def _car_passes(rule: Tailgating, at: float) -> Tailgate | None:
    rule.loop(LANE, True, at)
    return rule.loop(LANE, False, at + 1.0)


def test_a_held_car_that_follows_the_car_let_out_is_a_tailgate_naming_it() -> None:
    rule = Tailgating()
    rule.loop(LANE, True, 0.0)
    rule.opening(LANE, 0.5, "皖B33333")
    rule.arm(LANE, True, 1.5)
    assert rule.loop(LANE, False, 2.0) is None  # the resident drives off the loop
    rule.loop(LANE, True, 2.5)
    rule.refused(LANE, 3.0, "苏E55555", "payment_due")
    assert rule.loop(LANE, False, 4.0) == Tailgate(LANE, "苏E55555", "payment_due", passed=2, openings=1)


def test_a_refused_car_on_the_loop_is_named_only_once_the_passage_is_beyond_the_openings() -> None:
    """Review 57i: a refusal on the loop raised the alarm alone, the openings given notwithstanding,
    and the camera decides the car queued behind the one on the loop too: B let out under the arm
    up for A, C read behind B and held, B drove out, and C, still at the arm, was named (放行 2 辆，
    通过 2 辆). The count alone says whether a car went through on no opening."""
    rule = Tailgating()
    rule.opening(LANE, 0.0, "A")
    rule.arm(LANE, True, 1.0)
    assert _car_passes(rule, 1.5) is None  # A
    rule.loop(LANE, True, 3.0)
    rule.opening(LANE, 3.2, "B")
    rule.refused(LANE, 3.5, "C", "payment_due")  # read queued behind B
    assert rule.loop(LANE, False, 4.0) is None  # B drives out
    rule.loop(LANE, True, 4.5)  # C follows B out under the arm still up
    rule.refused(LANE, 4.6, "C", "payment_due")
    assert rule.loop(LANE, False, 5.0) == Tailgate(LANE, "C", "payment_due", passed=3, openings=2)


def test_an_opening_given_as_a_late_down_edge_comes_counts_for_the_arm_up_it_caused() -> None:
    """Review 57i: the 'down' edge of a polled contact arrived after B's decision, whose pulse sent
    the falling arm back up: B's opening, counted for the arm-up that was ending, was dropped with
    it, and B through on its own decision was alarmed (放行 0 辆，通过 1 辆)."""
    rule = Tailgating()
    rule.opening(LANE, 0.0, "A")
    rule.arm(LANE, True, 1.0)
    assert _car_passes(rule, 1.5) is None  # A
    rule.loop(LANE, True, 3.0)
    rule.opening(LANE, 3.2, "B")  # the arm still believed up
    rule.arm(LANE, False, 3.5)  # a poll late
    rule.arm(LANE, True, 3.8)  # back up on B's pulse
    assert rule.loop(LANE, False, 4.5) is None  # B
    assert rule.loop(LANE, True, 5.0) is None
    tailgate = rule.loop(LANE, False, 5.5)  # A's opening, used, counts for nothing again
    assert tailgate is not None and (tailgate.passed, tailgate.openings) == (2, 1)


def test_a_queue_let_through_under_one_arm_up_is_no_tailgate() -> None:
    rule = Tailgating()
    rule.opening(LANE, 0.0, "A")
    rule.arm(LANE, True, 1.0)
    rule.opening(LANE, 1.5, "B")  # decided while the arm is up for A
    rule.opening(LANE, 1.6, "B")  # B decided again by the camera: one car, one opening
    assert _car_passes(rule, 2.0) is None
    assert _car_passes(rule, 4.0) is None
    tailgate = _car_passes(rule, 6.0)
    assert tailgate is not None and tailgate.plate == "" and tailgate.openings == 2


def test_a_held_car_that_pays_at_the_lane_and_is_let_out_is_no_tailgate() -> None:
    rule = Tailgating()
    rule.opening(LANE, 0.0, "A")
    rule.arm(LANE, True, 1.0)
    assert _car_passes(rule, 1.5) is None
    rule.loop(LANE, True, 3.0)
    rule.refused(LANE, 3.1, "B", "payment_due")
    rule.opening(LANE, 20.0, "B")  # the fee taken at the lane
    assert rule.loop(LANE, False, 21.0) is None


def test_openings_given_long_before_the_arm_rose_count_for_nothing() -> None:
    rule = Tailgating({LANE: 5.0})
    rule.opening(LANE, 0.0, "A")
    rule.arm(LANE, True, 1.0)
    rule.opening(LANE, 1.2, "B")  # never came: its arm-up ends without it
    assert _car_passes(rule, 2.0) is None
    rule.arm(LANE, False, 5.0)
    rule.opening(LANE, 10.0, "C")  # the relay took it, the arm did not rise for 6 s
    rule.arm(LANE, True, 16.0)
    rule.refused(LANE, 16.5, "D", "zone_full")
    tailgate = _car_passes(rule, 17.0)
    assert tailgate is not None and tailgate.plate == "D"


def test_the_last_refusal_is_named_only_while_recent() -> None:
    rule = Tailgating()
    rule.refused(LANE, 0.0, "B", "payment_due")
    rule.opening(LANE, NAMED_WITHIN_S + 1.0, "A")
    rule.arm(LANE, True, NAMED_WITHIN_S + 2.0)
    assert _car_passes(rule, NAMED_WITHIN_S + 3.0) is None
    tailgate = _car_passes(rule, NAMED_WITHIN_S + 5.0)
    assert tailgate is not None and tailgate.plate == ""


def test_nothing_judged_while_held_open_after_the_arm_came_down_or_on_a_lost_loop() -> None:
    rule = Tailgating()
    rule.held(LANE, True, 0.0)
    rule.arm(LANE, True, 0.0)
    for at in (1.0, 3.0, 5.0):
        assert _car_passes(rule, at) is None
    rule.held(LANE, False, 6.0)
    rule.arm(LANE, False, 8.0)
    assert _car_passes(rule, 9.0) is None  # a car backing off the loop at a shut arm
    rule.opening(LANE, 10.0, "A")
    rule.arm(LANE, True, 11.0)
    rule.loop(LANE, True, 11.5)
    rule.loop_lost(LANE)  # its module went offline: no car passed
    assert rule.loop(LANE, False, 12.0) is None
    assert _car_passes(rule, 13.0) is None  # A, on its opening
