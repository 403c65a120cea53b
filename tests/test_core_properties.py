"""Properties of the decision rules that hold for every situation hypothesis can think of."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
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


@given(situations())
def test_same_situation_same_decision(s: tuple[Presented, Facts, Policy]) -> None:
    assert decide(*s) == decide(*s)


@given(situations())
def test_blocked_never_admitted(s: tuple[Presented, Facts, Policy]) -> None:
    p, facts, policy = s
    cred = facts.credential
    if cred is not None and (cred.blocked or cred.holder.blocked):
        assert not decide(p, facts, policy).admitted


@given(situations())
def test_outside_lane_hours_nobody_passes(s: tuple[Presented, Facts, Policy]) -> None:
    p, facts, policy = s
    if facts.lane.hours and not any(w.contains(p.at) for w in facts.lane.hours):
        assert decide(p, facts, policy).reason == Reason.OUTSIDE_HOURS


@given(situations())
def test_credential_outside_validity_never_comes_in(s: tuple[Presented, Facts, Policy]) -> None:
    p, facts, policy = s
    cred = facts.credential
    entering = facts.lane.direction == "entrance"
    if entering and cred is not None and (cred.validity.expired(p.at) or cred.holder.validity.expired(p.at)):
        assert not decide(p, facts, policy).admitted


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
