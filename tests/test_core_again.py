"""The decision core's rule for a car the lane decides again while it is still there (Presented.again):
let through before, let through again as it was; refused before, decided afresh."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gateway.core import (
    AGAIN,
    Billing,
    CredentialFacts,
    Decision,
    Facts,
    Holder,
    LaneRules,
    Policy,
    Presented,
    Reason,
    decide,
)
from gateway.core.model import REFUSED_AGAIN
from gateway.core.windows import Validity

TZ = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=TZ)
CAR_IN = LaneRules("car-in", "entrance", "vehicle", "main")
CAR_OUT = LaneRules("car-out", "exit", "vehicle", "main")
STRANGER = Presented("car-out", "plate", "苏E77777", 0.99, NOON, "car-out-camera", again=True)
LET_OUT = Decision(Reason.TEMPORARY, Billing.TEMPORARY)
HARD = Policy(anti_passback="hard", exit_without_entry="charge")


def test_a_car_let_out_is_let_out_again_and_charged_nothing() -> None:
    """Its stay was closed by the first decision: without the rule it would owe the day's cap."""
    facts = Facts(CAR_OUT, fee_due=3000, previous_here=LET_OUT)
    assert decide(STRANGER, facts, HARD) == Decision(Reason.TEMPORARY, Billing.TEMPORARY, flags=(AGAIN,))


def test_a_car_let_in_is_let_in_again_with_its_slot() -> None:
    came = Decision(Reason.RESIDENT, Billing.SLOT, 3, ("already_inside",))
    p = replace(STRANGER, lane="car-in")
    again = decide(p, Facts(CAR_IN, inside=True, previous_here=came), HARD)
    assert again == Decision(Reason.RESIDENT, Billing.SLOT, 3, (AGAIN,))  # not anti_passback


def test_a_car_refused_before_is_decided_afresh() -> None:
    refused = Decision(Reason.UNKNOWN, flags=("no_entry_record",))
    assert decide(STRANGER, Facts(CAR_OUT, fee_due=3000, previous_here=refused), HARD).reason == "payment_due"


def test_a_new_arrival_is_decided_afresh_whatever_came_before() -> None:
    p = replace(STRANGER, again=False)
    assert decide(p, Facts(CAR_OUT, fee_due=3000, previous_here=LET_OUT), HARD).reason == "payment_due"


def _pass(blocked: bool = False, valid_to: datetime | None = None) -> CredentialFacts:
    holder = Holder("visitor", 7, blocked=blocked, validity=Validity(valid_to=valid_to))
    return CredentialFacts(9, "plate", STRANGER.value, holder)


def test_a_car_blocked_since_is_refused() -> None:
    """A guard blocked the car (its pass's QR) while it stood at the barrier: the next look refuses."""
    p = replace(STRANGER, lane="car-in")
    came = Decision(Reason.VISITOR, Billing.VISITOR)
    facts = Facts(CAR_IN, _pass(blocked=True), inside=True, previous_here=came)
    assert decide(p, facts, HARD) == Decision(Reason.BLOCKED)


def test_a_pass_that_ran_out_while_its_car_stood_at_the_barrier_still_lets_it_through() -> None:
    """Only a guard's block is asked again: the clock running past the pass's end (or the lane's
    hours, or into a closed-management period) while the car stands under the barrier it was let
    through does not shut the barrier on it mid-passage."""
    p = replace(STRANGER, lane="car-in")
    came = Decision(Reason.VISITOR, Billing.VISITOR)
    facts = Facts(CAR_IN, _pass(valid_to=NOON - timedelta(seconds=5)), inside=True, previous_here=came)
    assert decide(p, facts, HARD) == Decision(Reason.VISITOR, Billing.VISITOR, flags=(AGAIN,))


def test_a_car_refused_again_for_the_same_reason_is_still_one_car_turned_away() -> None:
    """Flagged "refused_again", so the daily report counts the car standing at the barrier once."""
    refused = Decision(Reason.UNKNOWN, flags=("no_entry_record",))
    facts = Facts(CAR_OUT, previous_here=refused)
    assert decide(STRANGER, facts, Policy()) == Decision(
        Reason.UNKNOWN, flags=("no_entry_record", REFUSED_AGAIN)
    )
    assert decide(replace(STRANGER, again=False), facts, Policy()).flags == (
        "no_entry_record",
    )  # a new arrival


def test_a_car_refused_again_for_another_reason_is_a_new_refusal() -> None:
    held = Decision(Reason.PAYMENT_DUE, Billing.TEMPORARY, fee_fen=3000)
    assert decide(STRANGER, Facts(CAR_OUT, previous_here=held), Policy()).flags == ("no_entry_record",)
