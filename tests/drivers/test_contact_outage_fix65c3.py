"""Review Rdc (of c1db777d, fix Rc): while a barrier contact's module is offline (Tailgating.unseen)
the arm-up keeps its openings, and its report back still up goes on with them. Openings given
during the outage were kept too, for up to 10 minutes (COUNTED_FOR_S), not cut back to
`open_grace_s` as at an arm-up: the guard's 开闸 for a cyclist (no loop crossed) while the module
was away covered a car held to pay that drove through behind the next car let out once it was back,
and no 跟车通过 was raised. Back still up, the arm-up keeps the openings counted before the module
went offline and those given in its last `open_grace_s` (docs/hardware.md, *Tailgating*)."""

from __future__ import annotations

import time
from typing import Any

from gateway.runtime.tailgating import Tailgating
from tests.drivers.test_contact_blip_fix65c2 import CONTACT, GRACE_S, HELD, LANE, LOOP, RESIDENT, lane  # noqa: F401

NEXT = "皖B77777"  # a resident let out once the module is back


def test_an_opening_given_while_the_contact_was_unseen_expires_by_open_grace_s() -> None:
    rule = Tailgating({LANE: 10.0})
    rule.opening(LANE, 0.0, RESIDENT)
    rule.arm(LANE, True, 1.0)
    rule.loop(LANE, True, 2.0)
    rule.unseen(LANE)  # the contact's module went offline
    assert rule.loop(LANE, False, 5.0) is None  # the resident, on its opening
    rule.opening(LANE, 10.0, "")  # the guard's 开闸 for a cyclist: no loop crossed
    rule.loop(LANE, True, 200.0)
    rule.opening(LANE, 201.0, NEXT)
    rule.arm(LANE, True, 202.0)  # the module back: still up
    assert rule.loop(LANE, False, 205.0) is None  # NEXT, on its opening
    rule.loop(LANE, True, 210.0)
    rule.refused(LANE, 211.0, HELD, "payment_due")
    tailgate = rule.loop(LANE, False, 214.0)
    assert tailgate is not None, "the held car drove through unpaid on the cyclist's opening"
    assert (tailgate.plate, tailgate.openings, tailgate.passed) == (HELD, 2, 3)


def test_a_car_held_to_pay_through_behind_the_next_car_after_an_outage_is_a_tailgate(lane: Any) -> None:  # noqa: F811
    inputs, tailgates = lane
    inputs.device_offline(LANE, CONTACT)  # the contact's module drops off the RS-485 line
    inputs.car_present(LANE, LOOP, False)  # the resident, on its opening; the arm comes down unseen
    inputs.opening(LANE, "")  # 开闸 for a delivery tricycle: crosses no loop
    time.sleep(GRACE_S * 3)  # well past open_grace_s, well within 10 minutes
    inputs.car_present(LANE, LOOP, True)
    inputs.opening(LANE, NEXT)  # the next resident let out: the arm rises
    inputs.barrier(LANE, CONTACT, True)  # the module is back: up
    inputs.car_present(LANE, LOOP, False)  # NEXT through
    time.sleep(1.1)  # a car at a time: a tailgate's source is the lane and the second
    inputs.car_present(LANE, LOOP, True)
    inputs.refused(LANE, HELD, "payment_due")
    inputs.car_present(LANE, LOOP, False)  # the held car drives through under NEXT's arm
    assert [(a["plate"], a["openings"], a["passed"]) for a in tailgates()] == [(HELD, 2, 3)]
