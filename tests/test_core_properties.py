"""Properties of the decision rules that hold for every situation hypothesis can think of."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.core import (
    CredentialFacts,
    Facts,
    Holder,
    LaneRules,
    Policy,
    Presented,
    Reason,
    SlotFacts,
    Validity,
    VehicleFacts,
    Window,
    ZoneFacts,
    decide,
)
from gateway.core.decide import REGISTRATION_FLAGS
from gateway.core.windows import ALL_DAYS

TZ = ZoneInfo("Asia/Shanghai")
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1)).map(
    lambda d: d.replace(tzinfo=TZ)
)
times = st.times().map(lambda t: t.replace(microsecond=0, second=0))
windows = st.builds(Window, times, times).filter(lambda w: w.start != w.end)
lanes = st.builds(
    LaneRules,
    id=st.just("lane"),
    direction=st.sampled_from(["entrance", "exit"]),
    type=st.sampled_from(["vehicle", "pedestrian"]),
    zone=st.just("main"),
    hours=st.lists(windows, max_size=2).map(tuple),
)
validities = st.builds(
    Validity,
    valid_from=st.none() | moments,
    valid_to=st.none() | moments,
    windows=st.lists(windows, max_size=2).map(tuple),
)
holders = st.builds(
    Holder,
    kind=st.sampled_from(["resident", "visitor", "contractor"]),
    id=st.integers(1, 100),
    blocked=st.booleans(),
    validity=validities,
)
slots = st.builds(
    SlotFacts,
    id=st.integers(1, 9),
    zone=st.sampled_from(["main", "other"]),
    number=st.just("B1"),
    taken_by_other=st.booleans(),
)
vehicles = st.builds(
    VehicleFacts,
    id=st.integers(1, 9),
    plate=st.just("皖A12345"),
    monthly_until=st.none() | moments,
    slot=st.none() | slots,
)
credentials = st.builds(
    CredentialFacts,
    id=st.integers(1, 9),
    kind=st.sampled_from(["card", "plate", "qr"]),
    value=st.just("v"),
    holder=holders,
    blocked=st.booleans(),
    validity=validities,
    vehicle=st.none() | vehicles,
)
zones = st.builds(
    ZoneFacts,
    id=st.just("main"),
    vehicle_class=st.just("car"),
    shared_capacity=st.integers(0, 5),
    shared_occupied=st.integers(0, 6),
)
policies = st.builds(
    Policy,
    no_slot=st.sampled_from(["refuse", "temporary"]),
    shared_slot_second_car=st.sampled_from(["refuse", "temporary"]),
    unknown_vehicle=st.sampled_from(["refuse", "temporary"]),
    anti_passback=st.sampled_from(["off", "soft", "hard"]),
)


@st.composite
def situations(draw: st.DrawFn) -> tuple[Presented, Facts, Policy]:
    lane = draw(lanes)
    cred = draw(st.none() | credentials)
    kind = cred.kind if cred else draw(st.sampled_from(["card", "plate", "qr"]))
    p = Presented(lane.id, kind, "v", 1.0, draw(moments))
    facts = Facts(lane, cred, inside=draw(st.booleans()), zone=draw(st.none() | zones))
    return p, facts, draw(policies)


@given(situations(), situations())
def test_same_situation_same_decision(
    s: tuple[Presented, Facts, Policy], other: tuple[Presented, Facts, Policy]
) -> None:
    """decide is a pure function of what it is given: the same situation decided again, from a
    fresh copy and after another situation was decided in between, gives the same decision, and
    neither situation is changed by being decided. A core that remembered something between calls
    (a car seen, a cache keyed on too little) or wrote to its facts (marking a car inside) fails."""
    kept, other_kept = copy.deepcopy(s), copy.deepcopy(other)
    first = decide(*s)
    decide(*other)
    assert decide(*kept) == first
    assert (s, other) == (kept, other_kept), "decide changed what it was given"


@given(situations())
def test_blocked_never_admitted(s: tuple[Presented, Facts, Policy]) -> None:
    p, facts, policy = s
    cred = facts.credential
    if cred is not None and (cred.blocked or cred.holder.blocked):
        assert not decide(p, facts, policy).admitted


# Each edge below is its own test case: fewer situations each keep the file quick on the box.
EDGE_EXAMPLES = settings(max_examples=25)
MONDAY = datetime(2025, 3, 3, tzinfo=TZ)  # a Monday
WEEKDAYS = frozenset(range(5))  # Monday to Friday
FRIDAY = frozenset({4})


def _on(day: int, hour: int, minute: int) -> datetime:
    """`day` days after Monday 3 March 2025 (0 Monday, 4 Friday, 5 Saturday), at hour:minute."""
    return MONDAY + timedelta(days=day, hours=hour, minutes=minute)


def _hours(start: str, end: str, weekdays: frozenset[int] = ALL_DAYS) -> tuple[Window, ...]:
    (h1, m1), (h2, m2) = (map(int, start.split(":")), map(int, end.split(":")))
    return (Window(time(h1, m1), time(h2, m2), weekdays),)


# A lane's hours, a moment at or beside one of their edges, and whether that moment is within
# them: written out here, not worked out by Window (the code under test). An end at or before the
# start crosses midnight, and the part after midnight belongs to the day it began on.
LANE_HOURS_EDGES = [
    (_hours("07:00", "21:00"), _on(0, 6, 59), False),
    (_hours("07:00", "21:00"), _on(0, 7, 0), True),
    (_hours("07:00", "21:00"), _on(0, 20, 59), True),
    (_hours("07:00", "21:00"), _on(0, 21, 0), False),
    (_hours("22:00", "06:00"), _on(0, 21, 59), False),
    (_hours("22:00", "06:00"), _on(0, 22, 0), True),
    (_hours("22:00", "06:00"), _on(1, 5, 59), True),
    (_hours("22:00", "06:00"), _on(1, 6, 0), False),
    (_hours("22:00", "06:00"), _on(1, 12, 0), False),
    (_hours("00:00", "00:00"), _on(0, 0, 0), True),  # round the clock (00:00-24:00)
    (_hours("00:00", "00:00"), _on(0, 23, 59), True),
    (_hours("07:00", "21:00", WEEKDAYS), _on(4, 12, 0), True),  # Friday
    (_hours("07:00", "21:00", WEEKDAYS), _on(5, 12, 0), False),  # Saturday
    (_hours("22:00", "06:00", FRIDAY), _on(4, 23, 0), True),  # Friday night
    (_hours("22:00", "06:00", FRIDAY), _on(5, 2, 0), True),  # Friday night, after midnight
    (_hours("22:00", "06:00", FRIDAY), _on(4, 2, 0), False),  # Thursday night's, after midnight
    (_hours("22:00", "06:00", FRIDAY), _on(5, 23, 0), False),  # Saturday night
    (_hours("07:00", "09:00") + _hours("17:00", "19:00"), _on(0, 12, 0), False),
    (_hours("07:00", "09:00") + _hours("17:00", "19:00"), _on(0, 17, 0), True),
    (_hours("07:00", "09:00") + _hours("17:00", "19:00"), _on(0, 19, 0), False),
]


@pytest.mark.parametrize(
    ("hours", "at", "within_hours"),
    LANE_HOURS_EDGES,
    ids=[f"{','.join(map(str, h))}@{at:%a-%H:%M}-{'in' if i else 'out'}" for h, at, i in LANE_HOURS_EDGES],
)
@EDGE_EXAMPLES
@given(s=situations())
def test_outside_lane_hours_nobody_passes(
    hours: tuple[Window, ...], at: datetime, within_hours: bool, s: tuple[Presented, Facts, Policy]
) -> None:
    """Outside the lane's hours everyone is refused outside_hours; within them the hours make no
    difference: the decision is the one the same lane with no hours gives."""
    p, facts, policy = s
    p = replace(p, at=at)
    decided = decide(p, replace(facts, lane=replace(facts.lane, hours=hours)), policy)
    if within_hours:
        assert decided == decide(p, replace(facts, lane=replace(facts.lane, hours=())), policy)
    else:
        assert decided.reason == Reason.OUTSIDE_HOURS


VALID_FROM = datetime(2025, 3, 3, 8, 0, tzinfo=TZ)
VALID_TO = datetime(2025, 3, 4, 9, 0, tzinfo=TZ)
# Moments at or beside the edges of a validity from VALID_FROM to VALID_TO, and whether it covers
# them: from its first instant, up to but not at its last.
VALIDITY_EDGES = [
    (VALID_FROM - timedelta(minutes=1), False),
    (VALID_FROM - timedelta(microseconds=1), False),
    (VALID_FROM, True),
    (VALID_TO - timedelta(microseconds=1), True),
    (VALID_TO, False),
    (VALID_TO + timedelta(minutes=1), False),
]


@pytest.mark.parametrize("whose", ["credential", "holder"])
@pytest.mark.parametrize(
    ("at", "valid"), VALIDITY_EDGES, ids=[f"{at:%d-%H:%M:%S.%f}-{v}" for at, v in VALIDITY_EDGES]
)
@EDGE_EXAMPLES
@given(s=situations(), cred=credentials)
def test_credential_outside_validity_never_comes_in(
    whose: str, at: datetime, valid: bool, s: tuple[Presented, Facts, Policy], cred: CredentialFacts
) -> None:
    """A card or plate (or the pass that holds it) valid from 08:00 Monday to 09:00 Tuesday, at an
    entrance with no hours, neither blocked nor limited otherwise. From its first instant to just
    before its end the validity makes no difference: the decision is the one with no validity at
    all. Before it, or from its end, it is decided as one a month away from either edge is, and
    never comes in (not_yet_valid, expired), but for a resident's plate at a car entrance (outside
    the car's registration or its resident's): that car is decided as an unregistered car is,
    flagged with why, and refused by its registration's reason where the site refuses
    unregistered cars (Review 60a)."""
    p, facts, policy = s
    p = replace(p, kind=cred.kind, at=at)
    lane = replace(facts.lane, direction="entrance", hours=())
    holder = replace(cred.holder, blocked=False, validity=Validity())
    cred = replace(cred, blocked=False, validity=Validity(), holder=holder)

    def valid_by(validity: Validity) -> Facts:
        held = (
            replace(cred, validity=validity)
            if whose == "credential"
            else replace(cred, holder=replace(cred.holder, validity=validity))
        )
        return replace(facts, lane=lane, credential=held)

    month = timedelta(days=30)
    if valid:
        as_if = Validity()
    elif at < VALID_FROM:
        as_if = Validity(valid_from=VALID_FROM + month)
    else:
        as_if = Validity(valid_to=VALID_TO - month)
    decided = decide(p, valid_by(Validity(VALID_FROM, VALID_TO)), policy)
    assert decided == decide(p, valid_by(as_if), policy)
    # the car's registration (its plate credential's) or its resident's own
    residents_car = cred.kind == "plate" and cred.holder.kind == "resident"
    if valid or not (residents_car and lane.type == "vehicle"):
        assert valid or not decided.admitted
        return
    outside = Reason.NOT_YET_VALID if at < VALID_FROM else Reason.EXPIRED
    stranger = decide(p, replace(facts, lane=lane, credential=None), policy)
    if policy.unknown_vehicle == "refuse":
        assert decided == replace(stranger, reason=outside)
    else:
        assert decided == replace(stranger, flags=(*stranger.flags, REGISTRATION_FLAGS[outside]))


@given(situations())
def test_a_known_credential_always_leaves_unless_blocked_or_owing(s: tuple[Presented, Facts, Policy]) -> None:
    """Nobody is kept in: an expired pass, a card outside its hours, a car with no entry record
    all open the exit. Only a block, the lane's own hours or a fee still due keep it shut."""
    p, facts, policy = s
    cred = facts.credential
    if facts.lane.direction != "exit" or cred is None or cred.blocked or cred.holder.blocked:
        return
    if facts.fee_due > 0 or (facts.lane.hours and not any(w.contains(p.at) for w in facts.lane.hours)):
        return
    if p.kind == "plate" and facts.lane.type != "vehicle":
        return
    assert decide(p, facts, policy).admitted


@given(situations())
def test_full_zone_admits_only_cars_on_their_own_slot(s: tuple[Presented, Facts, Policy]) -> None:
    p, facts, policy = s
    d = decide(p, facts, policy)
    entering_car = facts.lane.type == "vehicle" and facts.lane.direction == "entrance"
    if entering_car and facts.zone is not None and facts.zone.full and d.admitted:
        assert d.billing == "slot"


@given(situations())
def test_slot_billing_only_on_a_free_own_slot(s: tuple[Presented, Facts, Policy]) -> None:
    p, facts, policy = s
    d = decide(p, facts, policy)
    if d.billing == "slot":
        vehicle = facts.credential.vehicle if facts.credential else None
        assert vehicle is not None and vehicle.slot is not None
        assert not vehicle.slot.taken_by_other and d.slot_id == vehicle.slot.id


@given(situations())
def test_hard_anti_passback_never_admits_twice(s: tuple[Presented, Facts, Policy]) -> None:
    p, facts, policy = s
    if (
        policy.anti_passback == "hard"
        and facts.inside
        and facts.credential is not None
        and facts.lane.direction == "entrance"
    ):
        assert not decide(p, facts, policy).admitted


@given(windows, moments)
def test_a_window_and_its_complement_cover_every_moment_once(w: Window, at: datetime) -> None:
    complement = Window(w.end, w.start)
    assert w.contains(at) != complement.contains(at)


@given(times, times, st.integers(0, 6))
def test_window_that_does_not_cross_midnight(start: time, end: time, weekday: int) -> None:
    if start >= end:
        return
    w = Window(start, end, frozenset({weekday}))
    monday = datetime(2026, 11, 16, tzinfo=TZ)  # a Monday
    day = monday + timedelta(days=weekday)
    assert w.contains(day.replace(hour=start.hour, minute=start.minute))
    assert not w.contains(day.replace(hour=end.hour, minute=end.minute))
