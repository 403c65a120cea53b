"""The decision rules, table-driven: each row is a situation a guard would recognise."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway.core import (
    ClosedPeriod,
    CredentialFacts,
    Decision,
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
    vehicle_class_of,
)

TZ = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=TZ)
NIGHT = datetime(2026, 11, 20, 2, 0, tzinfo=TZ)

CAR_IN = LaneRules("car-in", "entrance", "vehicle", "main")
CAR_OUT = LaneRules("car-out", "exit", "vehicle", "main")
DOOR = LaneRules("door", "entrance", "pedestrian", None, (Window.parse("05:00-23:00"),))
DOOR_OUT = LaneRules("door-out", "exit", "pedestrian")

RESIDENT = Holder("resident", 1, "张*", "3栋", "2单元")
ROOM = ZoneFacts("main", "car", shared_capacity=10, shared_occupied=3)
FULL = ZoneFacts("main", "car", shared_capacity=10, shared_occupied=10)
CLOSED = ClosedPeriod(date(2026, 11, 1), date(2026, 11, 30), (Window.parse("07:00-21:00"),))


def card(holder: Holder = RESIDENT, **kw: object) -> CredentialFacts:
    return CredentialFacts(1, "card", "0A1B2C3D4E", holder, **kw)  # type: ignore[arg-type]


def car(
    slot: SlotFacts | None = None,
    monthly: datetime | None = None,
    holder: Holder = RESIDENT,
    **kw: object,
) -> CredentialFacts:
    vehicle = VehicleFacts(7, "皖A12345", "car", monthly, slot)
    return CredentialFacts(2, "plate", "皖A12345", holder, vehicle=vehicle, **kw)  # type: ignore[arg-type]


FREE_SLOT = SlotFacts(3, "main", "B001", taken_by_other=False)
TAKEN_SLOT = SlotFacts(3, "main", "B001", taken_by_other=True)
VISITOR = Holder(
    "visitor",
    9,
    "李*",
    "3栋",
    "2单元",
    validity=Validity(NOON - timedelta(hours=1), NOON + timedelta(hours=3)),
)
CONTRACTOR = Holder(
    "contractor",
    10,
    "王*",
    validity=Validity(NOON - timedelta(days=1), NOON + timedelta(days=10), (Window.parse("08:00-18:00"),)),
)


def presented(lane: LaneRules, kind: str = "card", at: datetime = NOON, value: str = "x") -> Presented:
    return Presented(lane.id, kind, value, 1.0, at)  # type: ignore[arg-type]


CASES = [
    # (name, presented, facts, policy, reason, flags)
    (
        "resident card at the door",
        presented(DOOR),
        Facts(DOOR, card()),
        Policy(),
        Reason.RESIDENT,
        (),
    ),
    ("unknown card", presented(DOOR), Facts(DOOR, None), Policy(), Reason.UNKNOWN, ()),
    (
        "blocked card",
        presented(DOOR),
        Facts(DOOR, card(blocked=True)),
        Policy(),
        Reason.BLOCKED,
        (),
    ),
    (
        "blocked resident",
        presented(DOOR),
        Facts(DOOR, card(Holder("resident", 1, blocked=True))),
        Policy(),
        Reason.BLOCKED,
        (),
    ),
    (
        "expired card",
        presented(DOOR),
        Facts(DOOR, card(validity=Validity(valid_to=NOON - timedelta(days=1)))),
        Policy(),
        Reason.EXPIRED,
        (),
    ),
    (
        "expired card still lets its holder out",
        presented(DOOR_OUT),
        Facts(DOOR_OUT, card(validity=Validity(valid_to=NOON - timedelta(days=1))), inside=True),
        Policy(),
        Reason.RESIDENT,
        (),
    ),
    (
        "blocked card stays shut at the exit",
        presented(DOOR_OUT),
        Facts(DOOR_OUT, card(Holder("resident", 1, blocked=True)), inside=True),
        Policy(),
        Reason.BLOCKED,
        (),
    ),
    (
        "card not yet valid",
        presented(DOOR),
        Facts(DOOR, card(validity=Validity(valid_from=NOON + timedelta(days=1)))),
        Policy(),
        Reason.NOT_YET_VALID,
        (),
    ),
    (
        "door shut at night",
        presented(DOOR, at=NIGHT),
        Facts(DOOR, card()),
        Policy(),
        Reason.OUTSIDE_HOURS,
        (),
    ),
    (
        "card hours exclude now",
        presented(DOOR),
        Facts(DOOR, card(validity=Validity(windows=(Window.parse("18:00-22:00"),)))),
        Policy(),
        Reason.OUTSIDE_HOURS,
        (),
    ),
    (
        "anti-passback hard",
        presented(DOOR),
        Facts(DOOR, card(), inside=True),
        Policy(anti_passback="hard"),
        Reason.ANTI_PASSBACK,
        (),
    ),
    (
        "anti-passback soft flags",
        presented(DOOR),
        Facts(DOOR, card(), inside=True),
        Policy(anti_passback="soft"),
        Reason.RESIDENT,
        ("already_inside",),
    ),
    (
        "anti-passback off",
        presented(DOOR),
        Facts(DOOR, card(), inside=True),
        Policy(anti_passback="off"),
        Reason.RESIDENT,
        (),
    ),
    (
        "exit without entry still opens",
        presented(DOOR_OUT),
        Facts(DOOR_OUT, card()),
        Policy(),
        Reason.RESIDENT,
        ("no_entry_record",),
    ),
    (
        "plate at a pedestrian lane",
        presented(DOOR, "plate"),
        Facts(DOOR, None),
        Policy(),
        Reason.WRONG_LANE,
        (),
    ),
    (
        "own slot free",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(FREE_SLOT), zone=FULL),
        Policy(),
        Reason.RESIDENT,
        (),
    ),
    (
        "shared slot taken: temporary",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(TAKEN_SLOT), zone=ROOM),
        Policy(shared_slot_second_car="temporary"),
        Reason.TEMPORARY,
        ("shared_slot",),
    ),
    (
        "shared slot taken: refused",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(TAKEN_SLOT), zone=ROOM),
        Policy(shared_slot_second_car="refuse"),
        Reason.SLOT_OCCUPIED,
        (),
    ),
    (
        "shared slot taken, zone full",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(TAKEN_SLOT), zone=FULL),
        Policy(shared_slot_second_car="temporary"),
        Reason.ZONE_FULL,
        ("shared_slot",),
    ),
    (
        "registered car without slot refused",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(), zone=ROOM),
        Policy(no_slot="refuse"),
        Reason.NO_SLOT,
        (),
    ),
    (
        "registered car without slot as temporary",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(), zone=ROOM),
        Policy(no_slot="temporary"),
        Reason.TEMPORARY,
        ("no_slot",),
    ),
    (
        "monthly car",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(monthly=NOON + timedelta(days=5)), zone=ROOM),
        Policy(),
        Reason.MONTHLY,
        (),
    ),
    (
        "monthly car, zone full",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(monthly=NOON + timedelta(days=5)), zone=FULL),
        Policy(),
        Reason.ZONE_FULL,
        (),
    ),
    (
        "monthly expired pays",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(monthly=NOON - timedelta(days=1)), zone=ROOM),
        Policy(),
        Reason.TEMPORARY,
        ("monthly_expired",),
    ),
    (
        "unknown plate is temporary",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, None, zone=ROOM),
        Policy(),
        Reason.TEMPORARY,
        (),
    ),
    (
        "unknown plate refused by policy",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, None, zone=ROOM),
        Policy(unknown_vehicle="refuse"),
        Reason.UNKNOWN,
        (),
    ),
    (
        "unknown plate, zone full",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, None, zone=FULL),
        Policy(),
        Reason.ZONE_FULL,
        (),
    ),
    (
        "temporary car leaves",
        presented(CAR_OUT, "plate"),
        Facts(CAR_OUT, None, inside=True),
        Policy(),
        Reason.TEMPORARY,
        (),
    ),
    (
        "unknown plate at exit, never came in",
        presented(CAR_OUT, "plate"),
        Facts(CAR_OUT, None),
        Policy(),
        Reason.UNKNOWN,
        ("no_entry_record",),
    ),
    (
        "resident car leaves",
        presented(CAR_OUT, "plate"),
        Facts(CAR_OUT, car(FREE_SLOT), inside=True),
        Policy(),
        Reason.RESIDENT,
        (),
    ),
    (
        "car already inside, hard anti-passback",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(FREE_SLOT), inside=True, zone=ROOM),
        Policy(anti_passback="hard"),
        Reason.ANTI_PASSBACK,
        (),
    ),
    (
        "visitor plate within pass",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(holder=VISITOR), zone=ROOM),
        Policy(),
        Reason.VISITOR,
        (),
    ),
    (
        "visitor pass over",
        presented(CAR_IN, "plate", NOON + timedelta(hours=4)),
        Facts(CAR_IN, car(holder=VISITOR), zone=ROOM),
        Policy(),
        Reason.EXPIRED,
        (),
    ),
    (
        "visitor, zone full",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(holder=VISITOR), zone=FULL),
        Policy(),
        Reason.ZONE_FULL,
        (),
    ),
    (
        "contractor within hours",
        presented(DOOR),
        Facts(DOOR, card(CONTRACTOR)),
        Policy(),
        Reason.CONTRACTOR,
        (),
    ),
    (
        "contractor after hours",
        presented(DOOR, at=NOON.replace(hour=19)),
        Facts(DOOR, card(CONTRACTOR)),
        Policy(),
        Reason.OUTSIDE_HOURS,
        (),
    ),
    (
        "closed management: resident in",
        presented(DOOR),
        Facts(DOOR, card()),
        Policy(closed_periods=(CLOSED,)),
        Reason.RESIDENT,
        (),
    ),
    (
        "closed management: contractor out",
        presented(DOOR),
        Facts(DOOR, card(CONTRACTOR)),
        Policy(closed_periods=(CLOSED,)),
        Reason.CLOSED_MANAGEMENT,
        (),
    ),
    (
        "closed management: visitor not fully registered",
        presented(DOOR),
        Facts(DOOR, card(VISITOR)),
        Policy(
            closed_periods=(
                ClosedPeriod(
                    date(2026, 11, 1), date(2026, 11, 30), (), visitor_fields=("id_number", "phone")
                ),
            )
        ),
        Reason.CLOSED_MANAGEMENT,
        (),
    ),
    (
        "closed management: unknown car refused",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, None, zone=ROOM),
        Policy(closed_periods=(CLOSED,)),
        Reason.CLOSED_MANAGEMENT,
        (),
    ),
    (
        "closed management over for the day",
        presented(CAR_IN, "plate", NOON.replace(hour=22)),
        Facts(CAR_IN, None, zone=ROOM),
        Policy(closed_periods=(CLOSED,)),
        Reason.TEMPORARY,
        (),
    ),
    (
        "closed management: resident car with slot",
        presented(CAR_IN, "plate"),
        Facts(CAR_IN, car(FREE_SLOT)),
        Policy(closed_periods=(CLOSED,)),
        Reason.RESIDENT,
        (),
    ),
]


@pytest.mark.parametrize(
    ("p", "facts", "policy", "reason", "flags"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rules(p: Presented, facts: Facts, policy: Policy, reason: Reason, flags: tuple[str, ...]) -> None:
    decision = decide(p, facts, policy)
    assert decision.reason == reason
    assert decision.flags == flags
    assert decision.admitted == reason.admits


def test_own_slot_decision_names_the_slot_and_bills_to_it() -> None:
    d = decide(presented(CAR_IN, "plate"), Facts(CAR_IN, car(FREE_SLOT), zone=ROOM), Policy())
    assert (d.slot_id, d.billing) == (3, "slot")


def test_visitor_with_full_registration_enters_during_closed_management() -> None:
    registered = Holder(
        "visitor",
        9,
        validity=VISITOR.validity,
        registered_fields=frozenset({"id_number", "phone", "destination", "reason"}),
    )
    period = ClosedPeriod(
        date(2026, 11, 1),
        date(2026, 11, 30),
        (),
        visitor_fields=("id_number", "phone", "destination", "reason"),
    )
    d = decide(presented(DOOR), Facts(DOOR, card(registered)), Policy(closed_periods=(period,)))
    assert d.reason == Reason.VISITOR


OVERNIGHT = ClosedPeriod(date(2026, 11, 1), date(2026, 11, 30), (Window.parse("21:00-07:00"),))


@pytest.mark.parametrize(
    ("at", "active"),
    [
        (datetime(2026, 11, 1, 2, 0, tzinfo=TZ), False),  # the night of 31 Oct, before the period
        (datetime(2026, 11, 1, 21, 0, tzinfo=TZ), True),  # its first night begins
        (datetime(2026, 11, 15, 3, 0, tzinfo=TZ), True),
        (datetime(2026, 11, 15, 12, 0, tzinfo=TZ), False),  # daytime is outside its hours
        (datetime(2026, 12, 1, 2, 0, tzinfo=TZ), True),  # its last night runs to the morning
        (datetime(2026, 12, 1, 7, 0, tzinfo=TZ), False),
        (datetime(2026, 12, 1, 21, 0, tzinfo=TZ), False),
    ],
    ids=["before-first-night", "first-night", "mid-night", "midday", "last-night", "last-morning", "after"],
)
def test_overnight_closed_period_counts_a_night_for_the_day_it_began(at: datetime, active: bool) -> None:
    assert OVERNIGHT.active(at) is active


MOTO_IN = LaneRules("moto-in", "entrance", "vehicle", "main", vehicle_class="motorcycle")


@pytest.mark.parametrize(
    ("cred", "lane", "expected"),
    [
        (None, CAR_IN, "car"),  # a stranger on a car lane
        (None, MOTO_IN, "motorcycle"),  # a stranger on a motorcycle lane
        (car(), MOTO_IN, "car"),  # a registered car keeps its class on any lane
        (
            CredentialFacts(4, "plate", "浙A11111", Holder("visitor", 9, vehicle_class="bicycle")),
            CAR_IN,
            "bicycle",
        ),  # a visitor's vehicle: the class on the pass
        (card(), MOTO_IN, "motorcycle"),  # a resident's card, no vehicle: the lane's class
    ],
)
def test_vehicle_class_registered_then_pass_then_lane(
    cred: CredentialFacts | None, lane: LaneRules, expected: str
) -> None:
    assert vehicle_class_of(cred, lane) == expected
    assert Facts(lane=lane, credential=cred).vehicle_class == expected


def _motorcycle(slot: SlotFacts | None = None) -> CredentialFacts:
    vehicle = VehicleFacts(8, "皖E12345", "motorcycle", None, slot)
    return CredentialFacts(5, "plate", "皖E12345", RESIDENT, vehicle=vehicle)


@pytest.mark.parametrize("slot", [None, FREE_SLOT], ids=["no-slot", "listed-on-a-car-slot"])
def test_a_residents_motorcycle_parks_free_in_the_motorcycle_spaces_never_on_a_car_slot(
    slot: SlotFacts | None,
) -> None:
    """Fixed slots are car slots: policy.no_slot is about cars, and a car slot is never a motorcycle's."""
    moto_room = ZoneFacts("main", "motorcycle", shared_capacity=5, shared_occupied=1)
    facts = Facts(MOTO_IN, _motorcycle(slot), zone=moto_room)
    assert decide(presented(MOTO_IN, "plate"), facts, Policy(no_slot="refuse")) == Decision(Reason.RESIDENT)
    full = replace(facts, zone=replace(moto_room, shared_occupied=5))
    assert decide(presented(MOTO_IN, "plate"), full, Policy()).reason == Reason.ZONE_FULL
