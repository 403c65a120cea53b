"""The typed values that flow through the decision core."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from gateway.core.windows import ClosedPeriod, Validity, Window, all_at_once

CredentialKind = Literal["card", "plate", "qr", "guard", "button"]
# A door's exit button (出门按钮), pressed from inside: its value is the id of the device that
# wires it. Not a credential: whoever is inside goes out (decide, gateway/runtime/exit_buttons.py).
BUTTON: Literal["button"] = "button"
HolderKind = Literal["resident", "visitor", "contractor"]
Direction = Literal["entrance", "exit"]
LaneType = Literal["vehicle", "pedestrian"]
VehicleClass = Literal["car", "motorcycle", "bicycle"]


class Reason(StrEnum):
    """Why a decision came out as it did. The first five and the exit button admit; the rest refuse."""

    RESIDENT = "resident"
    MONTHLY = "monthly"
    VISITOR = "visitor"
    CONTRACTOR = "contractor"
    TEMPORARY = "temporary"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    BLOCKED = "blocked"
    OUTSIDE_HOURS = "outside_hours"
    NO_SLOT = "no_slot"
    SLOT_OCCUPIED = "slot_occupied"
    ZONE_FULL = "zone_full"
    ANTI_PASSBACK = "anti_passback"
    CLOSED_MANAGEMENT = "closed_management"
    WRONG_LANE = "wrong_lane"
    LANE_CLOSED = "lane_closed"
    STORAGE_FAILED = "storage_failed"
    PAYMENT_DUE = "payment_due"  # the barrier stays shut until the fee is paid
    EXIT_BUTTON = "exit_button"  # a door's exit button pressed from inside (BUTTON)

    @property
    def admits(self) -> bool:
        return self in _ADMITTING


_ADMITTING = frozenset(
    {Reason.RESIDENT, Reason.MONTHLY, Reason.VISITOR, Reason.CONTRACTOR, Reason.TEMPORARY, Reason.EXIT_BUTTON}
)


class Billing(StrEnum):
    """How a vehicle's stay is paid for: on its own slot, monthly, as a visitor, or by time."""

    SLOT = "slot"
    MONTHLY = "monthly"
    VISITOR = "visitor"
    TEMPORARY = "temporary"


@dataclass(frozen=True, slots=True)
class Presented:
    """A credential shown at a lane: a card tapped, a plate read, a QR pass scanned."""

    lane: str
    kind: CredentialKind
    value: str
    confidence: float
    at: datetime
    device: str = ""
    snapshot: str | None = None  # JPEG of the lane at that moment, relative to the data directory
    # What a guard who typed the plate saw: an unregistered vehicle is counted and billed as this
    # rather than as the lane's class (a motorcycle at a car lane). A registered one keeps its own.
    vehicle_class: VehicleClass | None = None
    # The lane's plate reader decided the same car again while it is still there (it stood at the
    # barrier, or reached the loop from a queue): one more look at the same car, not a new arrival.
    # At a door: a person refused there a moment ago showing her card or pass again.
    again: bool = False


# The device of a plate a guard typed (a car the camera could not read, a fee taken at the lane):
# never matched to a look-alike, and the lane's cameras are told it so they do not decide it again.
TYPED_BY = "guard:"
# A card or pass of the car let through on its plate (or the plate of the car let through on its
# card) at that lane within this long: the driver tapped the card as the camera read the car. Short,
# so that a card handed back to the car behind is still anti-passback's business.
SAME_PASSAGE = timedelta(seconds=10)

# The flag of a decision for a car decided again while still at the lane (Presented.again) that was
# let through before: the gate opens again, but it is no passage (no stay moves, nothing is counted).
AGAIN = "again"


# The flag of a decision for a car decided again while still at the lane (Presented.again) that is
# refused for the reason it was refused before: the same car still turned away, not one more refusal
# (as a car held to pay is one hold, however often the camera decides it again). So is a person
# refused at a door who shows her card or pass again within SAME_PASSAGE: one person turned away.
REFUSED_AGAIN = "refused_again"
# The flag of a plate read at a vehicle lane within SAME_PASSAGE of a decision on it at a lane of the
# other direction beside it (a camera that also sees the neighbouring lane; a car's front and rear
# plates): the neighbouring lane's car, no passage here. Recorded refused `wrong_lane`, nothing acted
# on (gateway/runtime/again.py DecidedAgain.neighbour_read).
NEIGHBOUR_LANE = "neighbour_lane"
# The flag of an exit decision for a car with no stay open: its entry was never on record (missed or
# misread); the exit's rule for such cars decides (core/decide.py).
NO_ENTRY_RECORD = "no_entry_record"
# A decision with one of these flags is one more look at a car (or person) the report has counted.
REPEATS = (AGAIN, REFUSED_AGAIN, NEIGHBOUR_LANE)


def is_passage(flags: Iterable[str]) -> bool:
    """A decision with these flags is a car's own passage (or its attempt), to be recorded as one:
    a stay moved, a fee settled, a count in the report. A car decided again (AGAIN) is not. A car
    refused again (REFUSED_AGAIN) is still an attempt, only the report does not count it (REPEATS)."""
    return AGAIN not in flags


# The holders who come on a pass (its QR, its plate), not on the register: their car is a pass's car.
PASS_HOLDERS: tuple[HolderKind, ...] = ("visitor", "contractor")


@dataclass(frozen=True, slots=True)
class Holder:
    kind: HolderKind
    id: int
    name_masked: str = ""
    building: str = ""
    unit: str = ""
    blocked: bool = False
    validity: Validity = Validity()
    # Visitors: every field a closed-management period asks for was registered.
    registered_fields: frozenset[str] = frozenset()
    # The people the holder stands for at a door: a pass's people count (人数, `passengers`), a crew
    # or a family walking in one by one on its one QR; 1 for a resident (decide.py _passback).
    people: int = 1
    # A pass's vehicle: the class the guard (or the central server) registered with its plate; None
    # for residents and for a pass without a plate (the lane's class applies).
    vehicle_class: VehicleClass | None = None
    # A pass's vehicle blocked by its plate ("Block now" on it: a car reported stolen): at a vehicle
    # lane its QR brings that car and is refused too; at a door its visitor is not (decide.py _blocked).
    vehicle_blocked: bool = False
    # A pass registered without a plate (its visitor came on foot): it names no car and lists
    # nobody in one. Its registration is complete for a door, not for a car: at a vehicle lane a
    # closed period that asks for the driver finds them missing, and at a vehicle exit its QR is no
    # car unless it let one in (decide.py).
    without_plate: bool = False
    # The key the central server knows the holder by: a resident's ref, the ref of a pass it sent
    # down; None for a pass registered at the booth, or a holder the register has forgotten. Not
    # for deciding: it goes up in the access record beside the gateway's id (events.py).
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class SlotFacts:
    id: int
    zone: str
    number: str
    taken_by_other: bool  # another car assigned to this slot is inside and on it


@dataclass(frozen=True, slots=True)
class VehicleFacts:
    id: int
    plate: str
    vehicle_class: VehicleClass = "car"
    monthly_until: datetime | None = None
    slot: SlotFacts | None = None
    # The car's own standing, kept on its plate credential: a card that opens for this car asks it too.
    blocked: bool = False
    validity: Validity = Validity()


@dataclass(frozen=True, slots=True)
class CredentialFacts:
    id: int
    kind: CredentialKind
    value: str
    holder: Holder
    blocked: bool = False
    validity: Validity = Validity()
    vehicle: VehicleFacts | None = None
    # Vehicle exits: the open stay (its subject) of the car this card or QR let in, when the
    # register no longer names that car (struck off, its holder deleted or its pass withdrawn, the
    # card or QR itself gone): found by the entry's access record, the car leaves on that stay.
    stay_subject: str | None = None


@dataclass(frozen=True, slots=True)
class ZoneFacts:
    """Shared (non-fixed) spaces of one vehicle class in a zone."""

    id: str
    vehicle_class: VehicleClass
    shared_capacity: int
    shared_occupied: int

    @property
    def full(self) -> bool:
        return self.shared_occupied >= self.shared_capacity


@dataclass(frozen=True, slots=True)
class LaneRules:
    id: str
    direction: Direction
    type: LaneType
    zone: str | None = None
    hours: tuple[Window, ...] = ()
    vehicle_class: VehicleClass | None = None  # of an unregistered vehicle here (a motorcycle lane)


def vehicle_class_of(cred: CredentialFacts | None, lane: LaneRules) -> VehicleClass:
    """What a vehicle at a lane is counted and billed as: a registered vehicle keeps its own class,
    a visitor's or contractor's the class on its pass; any other takes the lane's, else car."""
    if cred is not None and cred.vehicle is not None:
        return cred.vehicle.vehicle_class
    if cred is not None and cred.holder.vehicle_class is not None:
        return cred.holder.vehicle_class
    return lane.vehicle_class or "car"


@dataclass(frozen=True, slots=True)
class Policy:
    no_slot: Literal["refuse", "temporary"] = "refuse"
    shared_slot_second_car: Literal["refuse", "temporary"] = "temporary"
    unknown_vehicle: Literal["refuse", "temporary"] = "temporary"
    anti_passback: Literal["off", "soft", "hard"] = "soft"
    exit_without_entry: Literal["open", "guard", "charge"] = "guard"
    closed_periods: tuple[ClosedPeriod, ...] = ()

    def closed_period(self, at: datetime) -> ClosedPeriod | None:
        """The periods in force at `at` as one (all_at_once): a stricter period ordered on top of a
        standing one applies, whichever comes first in the config."""
        return all_at_once([p for p in self.closed_periods if p.active(at)])


@dataclass(frozen=True, slots=True)
class Facts:
    """What the store knows about one presentation: the site state the decision needs."""

    lane: LaneRules
    credential: CredentialFacts | None = None
    inside: bool = False  # the credential's subject (person or vehicle) is inside now
    # At a door: how many are recorded inside on the subject, each of a pass's party who walked in
    # on its QR (Holder.people); 1 for a person inside, 0 for one not.
    people_inside: int = 0
    zone: ZoneFacts | None = None  # the lane's zone, for the presented vehicle's class
    fee_due: int = 0  # fen still to pay before leaving (exit lanes; worked out by the store's fee desk)
    stay_billing: Billing | None = None  # exit lanes: how the stay now ending was billed
    # Exit lanes: the class the stay now ending came in as. A vehicle leaves as it came in, whatever
    # the exit lane's class or the register says now, so the report's exits by class match its entries.
    stay_class: VehicleClass | None = None
    # A car recorded inside: what its stay's entry let it in as (a visitor's stay: visitor or contractor).
    stay_entered_as: Reason | None = None
    # A car decided again (Presented.again): the last decision recorded for it at this lane.
    previous_here: Decision | None = None
    lane_closed: bool = False  # closed by a guard or the central server: everyone is refused
    # Exit lanes: when the hold of the car held here to pay began, while it stands held (not let
    # out since; the store's fee desk finds it, as the fee runs to it): the lane's hours judge the
    # car then (decide._afresh).
    held_since: datetime | None = None

    @property
    def vehicle_class(self) -> VehicleClass:
        return self.stay_class or vehicle_class_of(self.credential, self.lane)


@dataclass(frozen=True, slots=True)
class Decision:
    reason: Reason
    billing: Billing | None = None
    slot_id: int | None = None
    flags: tuple[str, ...] = field(default=())
    fee_fen: int = 0  # what the driver is asked to pay (payment_due)

    @property
    def admitted(self) -> bool:
        return self.reason.admits
