"""Which car a presentation at a lane is, before it is decided (Gateway, gateway/runtime/gateway.py):
a car turned back under the arm it paid to leave by, one more look at a passage a moment ago (its
card after its plate, a card or QR shown with a blocked car or a car held to pay), a pass's car that
nobody registered, a plate read as its registered look-alike.

Apart from gateway_deciding.py so that these rules, each with its reviews, read in one sitting.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from gateway.config.models import Lane
from gateway.core import TYPED_BY, Facts, LaneRules, Presented
from gateway.core.model import PASS_HOLDERS, CredentialFacts
from gateway.runtime.again import Decided
from gateway.runtime.gateway_base import GatewayBase
from gateway.runtime.plate_match import lookalike_of
from gateway.store.lookup import car_unknown, stay_open, subject_of
from gateway.store.record import own_car_back


def _ended_visit(cred: CredentialFacts, at: datetime) -> bool:
    """`cred`, a plate, is a pass's whose visit is over (or not begun, or outside its hours) at
    `at`: refused for that pass's time alone, its car may come in on another pass's QR scanned
    with it (Gateway._pass_car, the visitor back on a new pass registered on foot)."""
    if cred.kind != "plate" or cred.holder.kind not in PASS_HOLDERS:
        return False
    if cred.blocked or cred.holder.blocked or cred.holder.vehicle_blocked:  # refused as blocked first
        return False
    return not (cred.validity.admits(at) and cred.holder.validity.admits(at))


class WhichCar(GatewayBase):
    def _turned_back(self, p: Presented, lane: LaneRules, facts: Facts) -> Decided | None:
        """At a vehicle exit, the exit a car not recorded inside paid for, or owed nothing on (out
        within its free minutes), and was let out on within the grace period
        (ParkingDesk.left_settled): its driver turned back under the raised arm and
        is at an exit again, after SAME_CAR, which is all DecidedAgain remembers, or after a
        restart. That same passage, let through again as it was (flag `again`: nothing charged,
        no stay moved, counted once), not a car with no entry record. Read first, before a
        look-alike is taken for its plate: it left as itself."""
        if lane.type != "vehicle" or lane.direction != "exit" or facts.inside:
            return None
        subject = subject_of(p, facts.credential, lane.type)
        left = self.parking.left_settled(self.conn, subject, p.at)
        if left is None:
            return None
        # Never remembered (seq -1): the decision now is, as any.
        return Decided(left.decision, p.value, subject, -1, left.lane, p.kind, left.at, left.event_id)

    def _neighbour_read(self, p: Presented, lane: LaneRules) -> Decided | None:
        """At a vehicle lane, the decision on this plate at a vehicle lane of the other direction
        at the same gate a moment ago, if this read is that car seen by the camera beside it
        (DecidedAgain.neighbour_read): the neighbouring lane's car, no passage here. Lanes at
        another gate are not beside it: a car read at both within seconds is two cars (a clone),
        anti-passback's business."""
        if lane.type != "vehicle" or p.kind != "plate":
            return None
        other_way = [c.id for c in self._vehicle_lanes_at_gate(lane) if c.direction != lane.direction]
        return self._again.neighbour_read(p, other_way) if other_way else None

    def _vehicle_lanes_at_gate(self, lane: LaneRules) -> list[Lane]:
        """The vehicle lanes at `lane`'s gate (itself among them), as configured now: the lanes a
        camera there may also see."""
        lanes = self.site.config.lanes
        gate = next((c.gate for c in lanes if c.id == lane.id), None)
        return [c for c in lanes if c.gate == gate and c.type == "vehicle"]

    def _same_passage(
        self, p: Presented, lane: LaneRules, facts: Facts
    ) -> tuple[Decided | None, Facts, str | None]:
        """At a vehicle lane, the decision that let this car through there a moment ago, or refused
        it there, if this is one more look at that passage (DecidedAgain.same_passage); the facts
        to decide `p` on; and the plate of the car of a pass without a plate (_pass_car). A
        resident's own card that names no car, tapped for one of their cars
        (DecidedAgain.resident_car), is a card of that car: the car held to pay, it asks the hold's
        fee as the car's own card would, where the resident alone would be let out free. Any card
        or QR shown a moment after a plate refused `blocked` there (DecidedAgain.blocked_car) is
        that car's, whoever's it is, and is decided with its car blocked: refused `blocked` again
        (refused_again), at an entrance or an exit. Decided alone, a neighbour's card let a stolen
        car in as a temporary car, a forwarded pass's QR let it in as a visitor or out with its
        stay open for good (Reviews 59k, 59n). At a door, the refusal a moment ago of the person
        showing her card or pass again (DecidedAgain.refused_at_door): one person turned away, or
        as many as a pass for several people is for, each showing its QR in turn."""
        cred = facts.credential
        if lane.type != "vehicle":
            people = cred.holder.people if cred is not None else 1
            refused = self._again.refused_at_door(p, subject_of(p, cred, lane.type), people)
            return refused, facts, None
        at_exit = lane.direction == "exit"
        beside = [c.id for c in self._vehicle_lanes_at_gate(lane) if c.direction == lane.direction]
        passage = self._again.same_passage(p, subject_of(p, cred, lane.type), at_exit, beside)
        if passage is not None and not self._own_car_back(p, passage):
            return passage, facts, None
        if passage is not None:  # its re-entry, decided on its plate
            return None, facts, None
        blocked = self._again.blocked_car(p)
        if blocked is not None and cred is not None:  # the car at the barrier: so is its card or QR
            its_car = replace(cred.holder, vehicle_blocked=True)
            return blocked, replace(facts, credential=replace(cred, holder=its_car)), None
        if cred is None or p.kind == "qr" or _ended_visit(cred, p.at):
            return self._pass_car(p, lane, facts)
        car = self._again.resident_car(p, cred, lane.direction == "entrance")
        if car is None:
            return None, facts, None
        its = self._facts(replace(p, kind="plate", value=car.value), lane)
        if its.credential is None or its.credential.vehicle is None:  # its plate was deleted since
            return None, facts, None
        return car, replace(its, credential=replace(cred, vehicle=its.credential.vehicle)), None

    def _held_car(self, p: Presented, lane: LaneRules) -> Decided | None:
        """At a vehicle exit, the plate held to pay there a moment ago (DecidedAgain.held_car), if
        `p`, a card or QR, is shown for that car but names another: the household's other car's
        card (one card for two cars on one slot, tapped by habit), a neighbour's card handed
        through the window. At one barrier the car there is the one held, so the hold wins, also
        over the card's own car standing behind it: `p` is decided as that plate shown again
        (Gateway._decide_one). The car's own card or pass (_same_passage), and the resident's own
        card that names no car (DecidedAgain.resident_car), are decided as they were: a card of
        that car, asking the hold's fee."""
        if lane.type != "vehicle" or lane.direction != "exit":
            return None
        held = self._again.held_car(p)
        if held is None:
            return None
        cred = self._facts(p, lane).credential
        if subject_of(p, cred, lane.type) == held.subject:
            return None
        car = self._again.resident_car(p, cred, False) if cred is not None else None
        if car is not None and car.subject == held.subject:  # the held plate, or a card taken for it
            return None
        return held

    def _own_car_back(self, p: Presented, passage: Decided) -> bool:
        """`p`, a plate read in the passage of a pass's QR that let the pass in again over its car
        listed inside, moving no stay (qr_over_listed_car), is that car's plate: the car itself
        back at the entrance, its exit missed (own_car_back), decided as itself, as when its plate
        is read first. Another plate is a second car on the QR. Whether that QR's decision says
        already_inside does not matter: under anti_passback = "off" it says nothing (Review 59p)."""
        return (
            p.kind == "plate"
            and passage.kind == "qr"
            and passage.decision.admitted
            and own_car_back(self.conn, passage.subject, passage.event, p.value)
        )

    def _pass_car(
        self, p: Presented, lane: LaneRules, facts: Facts
    ) -> tuple[Decided | None, Facts, str | None]:
        """At an entrance, a plate nobody registered (or a pass's plate refused for that pass's
        time: _ended_visit) and the QR of a pass, shown within SAME_PASSAGE of each other
        (DecidedAgain.other_half), are one car on that pass: the
        decision on the first, the facts to decide `p` on (the pass's), and the plate the car
        carries, which its stay then carries too (car_of_pass). The pass has no plate, or one the
        camera did not read: the visitor came in another car (a friend's, a taxi), which is the
        car inside, not the one registered. Not for a pass whose car is known
        already (the car behind it), nor for a plate refused as recorded inside already (its exit
        missed), nor a plate read after the QR whose stay is open, nor for a QR after the plate when
        the pass is inside already, nor for a plate after a QR that let the pass in again over its
        stay open (already_inside): each would leave the car a second stay open, or hand the pass a
        stay an earlier entry opened, or write the plate over the stay of the pass's car inside
        (its own plate, read at its entry: the car gone from the cars inside).
        Without it, the car was two cars: two stays, two fees. (A QR after a plate refused
        `blocked` is the blocked car's: _same_passage.)"""
        none = None, facts, None
        half = self._again.other_half(p) if lane.direction == "entrance" else None
        if half is None:
            return none
        if p.kind == "qr":  # the plate came first
            cred = facts.credential
            if cred is None or facts.inside or self._inside_already(half):
                return none
            return (half, facts, half.value) if car_unknown(self.conn, cred.holder) else none
        if p.kind != "plate" or facts.inside:  # a stranger's plate recorded inside: its missed exit
            return none
        if "already_inside" in half.decision.flags:  # the pass's car is inside: this is another
            return none
        its = self._facts(replace(p, kind="qr", value=half.value), lane)
        if its.credential is None or not car_unknown(self.conn, its.credential.holder):
            return none
        return half, its, p.value

    def _inside_already(self, plate: Decided) -> bool:
        """The plate decided a moment ago was refused as a car recorded inside already (its exit
        missed, hard anti-passback): that stay is still open, and not the pass's. One let in again
        over it (soft: already_inside) closed it as a reentry, its fee carried on the plate: the
        stay that entry opened, and that debt, are the pass's car's as any stranger's plate's."""
        return not plate.decision.admitted and stay_open(self.conn, plate.subject)

    def _lookalike(self, p: Presented, lane: LaneRules, facts: Facts) -> tuple[Presented, Facts]:
        """At a lane that allows it, a plate nobody registered is read as the one registered plate a
        look-alike character away, as the register stands now (a plate registered a moment ago
        makes a reading as close to it and to another match neither). Never a plate a guard typed
        (what is on the car: no guessing), nor one recorded inside as read (a stranger's car let in
        on its typed plate leaves as itself)."""
        if (
            facts.credential is not None
            or facts.inside
            or p.kind != "plate"
            or self._plate_match.get(p.lane) != "confusable"
            or p.device.startswith(TYPED_BY)
        ):
            return p, facts
        matched = lookalike_of(self.conn, p.value)
        if matched is None:
            return p, facts
        read_as = replace(p, value=matched)
        return read_as, self._facts(read_as, lane)
