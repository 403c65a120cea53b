"""decide(): one presented credential plus the facts about it gives one decision with a reason."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from gateway.core.model import (
    AGAIN,
    BUTTON,
    NO_ENTRY_RECORD,
    REFUSED_AGAIN,
    Billing,
    CredentialFacts,
    Decision,
    Facts,
    Holder,
    LaneRules,
    LaneType,
    Policy,
    Presented,
    Reason,
    VehicleFacts,
)
from gateway.core.tickets import NO_PLATE, is_ticket
from gateway.core.windows import EACH_OCCUPANT, ClosedPeriod, Validity, within

_HOLDER_REASON = {
    "resident": Reason.RESIDENT,
    "visitor": Reason.VISITOR,
    "contractor": Reason.CONTRACTOR,
}


# What a car that came in on a stay billed so leaves as (a visitor's stay: as the pass it came in on).
_BILLING_REASON: dict[Billing | None, Reason] = {
    Billing.SLOT: Reason.RESIDENT,
    Billing.MONTHLY: Reason.MONTHLY,
    Billing.TEMPORARY: Reason.TEMPORARY,
}
_PASS_REASONS = (Reason.VISITOR, Reason.CONTRACTOR)

# A resident's plate at a car entrance outside its registration (valid_from, valid_to): the car
# comes in as an unregistered car would, flagged with why (texts.py tells the driver).
REGISTRATION_FLAGS = {
    Reason.NOT_YET_VALID: "registration_not_yet_valid",
    Reason.EXPIRED: "registration_expired",
}


def decide(p: Presented, facts: Facts, policy: Policy) -> Decision:
    decision = _decide(p, facts, policy)
    if p.kind == "plate" and is_ticket(p.value):
        # A car with no plate, on the ticket the entrance gave it: the centre and the report tell
        # it apart from a read plate by this flag, on each of its records.
        return replace(decision, flags=(*decision.flags, NO_PLATE))
    return decision


def _decide(p: Presented, facts: Facts, policy: Policy) -> Decision:
    if p.kind == BUTTON:
        # Someone inside pressed the door's exit button: nobody is kept in, whatever the lane's
        # state (closed by a guard, outside its hours, a closed-management period), as a door's
        # button wired straight to its lock would not.
        return Decision(Reason.EXIT_BUTTON)
    if facts.lane_closed:  # before anything, a car let through a moment ago included
        return _refused_again(p, facts, Decision(Reason.LANE_CLOSED))
    again = _again(p, facts)
    if again is not None:
        return again
    return _refused_again(p, facts, _afresh(p, facts, policy))


def _afresh(p: Presented, facts: Facts, policy: Policy) -> Decision:
    lane = facts.lane
    if not within(lane.hours, p.at) and not _held_in_hours(p, facts):
        return Decision(Reason.OUTSIDE_HOURS)
    if p.kind == "plate" and lane.type != "vehicle":
        return Decision(Reason.WRONG_LANE)
    closed = policy.closed_period(p.at) if lane.direction == "entrance" else None
    cred = facts.credential
    if cred is None:
        return _unknown(p, facts, policy, closed)
    if _blocked(cred, lane):
        return Decision(Reason.BLOCKED)
    if lane.direction == "exit":
        return _exit(cred, facts)
    outside = _outside_registration(cred, p)
    if outside is not None:
        return _unregistered_now(outside, facts, policy, closed)
    refused = _credential_refusal(cred, lane, p, closed)
    if refused is not None:
        return Decision(refused)
    flags = _passback(facts, policy, closed)
    if flags is None:
        return Decision(Reason.ANTI_PASSBACK)
    if lane.type == "pedestrian":
        return Decision(_HOLDER_REASON[cred.holder.kind], flags=flags)
    return _vehicle_entry(cred, p, facts, policy, flags)


def _held_in_hours(p: Presented, facts: Facts) -> bool:
    """The car at an exit stands held there to pay since a moment within the lane's hours. The
    hours keep new cars out, not the car already at the barrier as they end (held at 22:58 at an
    exit open to 23:00, paying at 23:01): it is decided as its hold began, held to pay still, and
    its fee taken lets it out (review 65e1). A car that came after the hours is refused
    outside_hours, and so is a hold begun outside the hours the lane has now (edited since)."""
    since = facts.held_since
    return since is not None and within(facts.lane.hours, since.astimezone(p.at.tzinfo))


def _again(p: Presented, facts: Facts) -> Decision | None:
    """The same car decided again at the lane (it stood at the barrier, or reached the loop from a
    queue). Let through before: let through again as it was, moving no stay and charging nothing
    (flag "again": not one more passage), unless it was blocked since. Refused before: decided
    afresh, as a guard may have registered it or taken its fee since (_refused_again)."""
    previous = facts.previous_here
    if not p.again or previous is None or not previous.admitted:
        return None
    # A block is a person's word that the next presentation is refused (a stolen car under the
    # barrier). The rest that may have changed since is the clock's doing (a pass or registration
    # that ran out, the lane's hours, a closed-management period that began): the passage was
    # admitted in time, and the barrier does not shut on a car halfway through it.
    if facts.credential is not None and _blocked(facts.credential, facts.lane):
        return Decision(Reason.BLOCKED)
    return Decision(previous.reason, previous.billing, previous.slot_id, (AGAIN,))


def _refused_again(p: Presented, facts: Facts, decision: Decision) -> Decision:
    """A car refused before at the lane and refused again for the same reason while it still stands
    there (a driver arguing with the guard) is still one car turned away: flag "refused_again", so
    that the report counts it once. So is a person at a door showing her refused pass again."""
    previous = facts.previous_here
    if not p.again or previous is None or decision.admitted or decision.reason != previous.reason:
        return decision
    return replace(decision, flags=(*decision.flags, REFUSED_AGAIN))


def _car(cred: CredentialFacts, lane: LaneRules) -> VehicleFacts | None:
    """The car a credential opens for at this lane. A card that names a car is its holder's own card
    at a door: the car's block (a stolen car) and registration keep the car out, not the resident."""
    return cred.vehicle if lane.type == "vehicle" else None


def _blocked(cred: CredentialFacts, lane: LaneRules) -> bool:
    """The card or plate, its holder (a pass whose QR was blocked), or the car it opens for."""
    return cred.blocked or cred.holder.blocked or _car_blocked(cred, lane)


def _car_blocked(cred: CredentialFacts, lane: LaneRules) -> bool:
    """The car a card opens for, or a pass's car (blocked by its plate: its QR brings that car in
    and out), is blocked. At a door there is no car: the plate was blocked, not the person."""
    if lane.type != "vehicle":
        return False
    car = _car(cred, lane)
    return (car is not None and car.blocked) or cred.holder.vehicle_blocked


def _unknown(p: Presented, facts: Facts, policy: Policy, closed: ClosedPeriod | None) -> Decision:
    """A credential the store does not know: only a car may come in, as a temporary (paying) one."""
    lane = facts.lane
    if p.kind != "plate" or lane.type != "vehicle":
        return Decision(Reason.UNKNOWN)
    if lane.direction == "exit":
        return _unknown_exit(p, facts, policy)
    return _stranger_entry(facts, policy, closed, ())


def _stranger_entry(
    facts: Facts, policy: Policy, closed: ClosedPeriod | None, flags: tuple[str, ...]
) -> Decision:
    """A car at an entrance that the register does not let in as anyone's: a temporary (paying)
    car, as the site's policy and a closed-management period have it."""
    if closed is not None and not closed.admit_temporary_vehicles:
        return Decision(Reason.CLOSED_MANAGEMENT, flags=flags)
    if policy.unknown_vehicle == "refuse":
        return Decision(Reason.UNKNOWN, flags=flags)
    entry_flags = _passback(facts, policy, closed)
    if entry_flags is None:
        return Decision(Reason.ANTI_PASSBACK, flags=flags)
    return _temporary(facts, entry_flags + flags)


def _outside_registration(cred: CredentialFacts, p: Presented) -> Reason | None:
    """Why a resident's plate is not registered at `p.at` (not yet valid, or expired: the car's
    registration or its resident's), else None.
    A plate only: a card outside its validity is refused (it is the resident's card, not a car),
    and so is a pass's plate (the visit is over or not begun: docs/parking.md)."""
    if p.kind != "plate" or cred.holder.kind != "resident":
        return None
    # The car's registration and its resident's (a tenant whose lease has ended, or not begun).
    return _outside_dates(p.at, cred.validity, cred.holder.validity)


def _outside_dates(at: datetime, *validities: Validity) -> Reason | None:
    """Why `at` is outside the dates of any of `validities` (not yet valid, or expired), else None.
    Over outranks not yet: a resident whose lease has ended, his car registered from a later day,
    is over, not one to come back for; his plate says so as his card does (review 61z). So does a
    pass checked out before its visit began (a booked visit called off), whatever its QR's own
    dates say (review 61v)."""
    if any(v.expired(at) for v in validities):
        return Reason.EXPIRED
    if any(v.not_yet(at) for v in validities):
        return Reason.NOT_YET_VALID
    return None


def _unregistered_now(outside: Reason, facts: Facts, policy: Policy, closed: ClosedPeriod | None) -> Decision:
    """A resident's car at an entrance outside its registration (registered the evening before its
    first day, or past its end) is not refused where an unregistered car comes in: it comes in as
    one, a temporary car that pays (flag registration_not_yet_valid or registration_expired), and
    leaves as one. Refused by its registration's reason, as before, where the site refuses
    unregistered cars (policy.unknown_vehicle). Review 60a: refused 未到有效期, the driver who had
    just bought a month was the one car at the barrier not let in to pay."""
    if policy.unknown_vehicle == "refuse":
        return Decision(outside)
    return _stranger_entry(facts, policy, closed, (REGISTRATION_FLAGS[outside],))


def _unknown_exit(p: Presented, facts: Facts, policy: Policy) -> Decision:
    """A plate nobody holds. Recorded inside, its plate was struck off the register while it was
    parked (a resident's car deleted, a visitor's pass withdrawn): it pays its stay and leaves as it
    came in. Not inside, it is a stranger whose entry was missed, as the site's policy has it; but
    a ticket is only ever given at an entrance, so one not inside names no car (a slip of the
    guard's pen): the guard decides, whatever the policy, and no day's fee is asked on it."""
    if facts.inside:
        if facts.fee_due > 0:
            return Decision(Reason.PAYMENT_DUE, facts.stay_billing, fee_fen=facts.fee_due)
        return Decision(_leaves_as(facts, None), facts.stay_billing)
    flags = (NO_ENTRY_RECORD,)
    if is_ticket(p.value):
        return Decision(Reason.UNKNOWN, flags=flags)
    if facts.fee_due > 0:
        return Decision(Reason.PAYMENT_DUE, Billing.TEMPORARY, flags=flags, fee_fen=facts.fee_due)
    if policy.exit_without_entry == "guard":
        return Decision(Reason.UNKNOWN, flags=flags)
    return Decision(Reason.TEMPORARY, Billing.TEMPORARY, flags=flags)


def _passback(facts: Facts, policy: Policy, closed: ClosedPeriod | None) -> tuple[str, ...] | None:
    """An entry while recorded inside: None to refuse (hard), or the flags to admit it with."""
    if not facts.inside or policy.anti_passback == "off" or _party_still_coming(facts, closed):
        return ()
    return None if policy.anti_passback == "hard" else ("already_inside",)


def _party_still_coming(facts: Facts, closed: ClosedPeriod | None) -> bool:
    """At a door, a pass registered for several people (人数: a renovation crew, a visiting family)
    with fewer of them inside than it is for: the next one showing its QR is one more of them, an
    entry as the first was, not the first come back (Review 60b: the guard opened by hand for each
    of a crew of four, counted one person inside). A car is one passage however many are in it; a
    pass with a plate is the people in its car, on foot its holder alone (lookup.py _pass). While a
    closed-management period asks each person's ID number or phone, only the holder's are on
    record: the others need passes of their own (Review 60x)."""
    cred = facts.credential
    if facts.lane.type != "pedestrian" or cred is None or cred.holder.people <= 1:
        return False
    if closed is not None and closed.asks_each_person:
        return False
    return facts.people_inside < cred.holder.people


def _credential_refusal(
    cred: CredentialFacts, lane: LaneRules, p: Presented, closed: ClosedPeriod | None
) -> Reason | None:
    """Why a credential may not come in now. Exits do not ask: a pass that ran out while its
    visitor was inside, or a card outside its hours, still lets its holder leave (and pay)."""
    holder = cred.holder
    # A card for a car asks the car's own registration too (on its plate credential), as its plate would.
    vehicle = _car(cred, lane)
    car = (vehicle.validity,) if vehicle is not None else ()
    validities = (cred.validity, holder.validity, *car)
    outside = _outside_dates(p.at, *validities)
    if outside is not None:
        return outside
    if not all(within(v.windows, p.at) for v in validities):
        return Reason.OUTSIDE_HOURS
    if closed is not None and closed.keeps_out(holder.kind, _registered(holder, lane)):
        return Reason.CLOSED_MANAGEMENT
    return None


def _registered(holder: Holder, lane: LaneRules) -> frozenset[str]:
    return registered_at(holder.registered_fields, lane.type, without_plate=holder.without_plate)


def registered_at(fields: Collection[str], lane_type: LaneType, *, without_plate: bool) -> frozenset[str]:
    """What a pass holder registered, as a lane of this type asks for it (the booth's pass check
    asks as a door does: store/passes.py state_of). The people in a car (`occupants`) are asked of a
    car only: at a door they count as given whatever the pass lists, as its visitor walks in, on
    foot or from a car left outside. A pass without a plate has nobody in a vehicle to list
    (store/passes.py), but a car brought in on its QR carries people nobody registered: at a
    vehicle lane they are missing, so a period that asks for them keeps that car out, as it keeps
    out a pass with a plate and no driver listed: the guard registers the car's plate and its
    people. So with their numbers (`EACH_OCCUPANT`, a period asking each person's ID number or
    phone): at a door given, at a vehicle lane given when everyone listed has them."""
    people = {"occupants", *EACH_OCCUPANT.values()}
    if lane_type == "pedestrian":
        return frozenset(fields) | people
    if without_plate:
        return frozenset(fields) - people
    return frozenset(fields)


def _exit(cred: CredentialFacts, facts: Facts) -> Decision:
    # Nobody is kept in: an exit without a recorded entry still opens, and is flagged for the guard.
    # A car that owes a fee (a visitor's, or a resident's second car of a shared slot) pays first.
    flags = () if facts.inside else (NO_ENTRY_RECORD,)
    if facts.lane.type == "vehicle" and cred.holder.without_plate and not facts.inside:
        # A pass without a plate is a car at an exit only as the car it let in (recorded on the
        # pass, found by lookup). It let none in: whatever car waits is not its (a temporary car
        # held to pay, its driver registered on foot since), and letting it out would skip its fee
        # and leave its stay open. The guard decides, as for a stranger's car with no entry.
        return Decision(Reason.UNKNOWN, flags=flags)
    if facts.fee_due > 0:
        return Decision(Reason.PAYMENT_DUE, facts.stay_billing, flags=flags, fee_fen=facts.fee_due)
    return Decision(_leaves_as(facts, _HOLDER_REASON[cred.holder.kind]), facts.stay_billing, flags=flags)


def _leaves_as(facts: Facts, holder: Reason | None) -> Reason:
    """A car leaves as what it came in as, whoever holds its plate now (`holder`: None for nobody),
    so that the report's exits by kind match its entries: a shared slot's second car as temporary,
    a stranger registered as a visitor's while parked as temporary, a car on its own slot as
    resident, a visitor's car as the pass it came in on (visitor, contractor)."""
    entered = facts.stay_entered_as
    if facts.stay_billing == Billing.VISITOR:
        if entered in _PASS_REASONS:
            return entered
        # Its entry's record deleted by retention (parked for months): the pass it holds now.
        return holder if holder in _PASS_REASONS else Reason.VISITOR
    return _BILLING_REASON.get(facts.stay_billing) or entered or holder or Reason.TEMPORARY


def _vehicle_entry(
    cred: CredentialFacts,
    p: Presented,
    facts: Facts,
    policy: Policy,
    flags: tuple[str, ...],
) -> Decision:
    # A resident's car that has to pay is still a resident's: closed management lets it in.
    if cred.holder.kind != "resident":
        return _shared_space(facts, _HOLDER_REASON[cred.holder.kind], Billing.VISITOR, flags)
    vehicle = cred.vehicle
    # Fixed slots are car slots: a resident's motorcycle or bicycle parks in its class's shared spaces.
    car = facts.vehicle_class == "car"
    slot = vehicle.slot if vehicle is not None and car else None
    until = vehicle.monthly_until if vehicle is not None else None
    monthly = until is not None and p.at < until
    # A monthly car past its period is told apart wherever it comes in (a shared slot's second car
    # too): the guard explains why it pays, and the centre chases the renewal from the report.
    lapsed = ("monthly_expired",) if until is not None and not monthly else ()
    if slot is not None and slot.zone == facts.lane.zone:
        if not slot.taken_by_other:
            return Decision(Reason.RESIDENT, Billing.SLOT, slot.id, flags)
        if monthly:  # its paid-up period is what parking in the shared spaces costs: it is not billed again
            return _shared_space(facts, Reason.MONTHLY, Billing.MONTHLY, flags + ("shared_slot",))
        if policy.shared_slot_second_car == "refuse":
            return Decision(Reason.SLOT_OCCUPIED, flags=flags + lapsed)
        return _temporary(facts, flags + ("shared_slot", *lapsed))
    if monthly:
        return _shared_space(facts, Reason.MONTHLY, Billing.MONTHLY, flags)
    if lapsed:
        return _temporary(facts, flags + lapsed)
    if not car:  # it pays nothing, as a resident on foot does
        return _shared_space(facts, Reason.RESIDENT, None, flags)
    if policy.no_slot == "refuse":
        return Decision(Reason.NO_SLOT, flags=flags)
    return _temporary(facts, flags + ("no_slot",))


def _temporary(facts: Facts, flags: tuple[str, ...]) -> Decision:
    return _shared_space(facts, Reason.TEMPORARY, Billing.TEMPORARY, flags)


def _shared_space(facts: Facts, reason: Reason, billing: Billing | None, flags: tuple[str, ...]) -> Decision:
    if facts.zone is not None and facts.zone.full:
        return Decision(Reason.ZONE_FULL, flags=flags)
    return Decision(reason, billing, flags=flags)
