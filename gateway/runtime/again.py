"""The same car decided again at a lane while it is still there (it stood at the barrier, or reached
the loop from a queue): one more look at the same car, not a new arrival.

A lane's plate reader knows which plates it decided again (StandingPlates); the gateway remembers the
last decision it recorded for each plate at each lane, so that such a car is taken for what it was
let through as (gateway.core.decide, Presented.again).

The lane voter forgets a car it has not read for a few seconds, and a car also shows more than one
credential: so the same car let through at a lane is also one passage when its plate is decided
there afresh by the lane's plate camera within SAME_CAR (glimpsed in the queue, then hidden by the
car in front until it reached the loop), or typed there by a guard within SAME_CAR (two tablets in
the booth: the other guard typed it, or the camera let it through before this tablet showed it),
or its card or pass within SAME_PASSAGE of its plate (the driver taps the card as the camera reads
the car): `same_passage`. A car refused (or held to pay) there is one car turned away (one hold)
when shown again within SAME_PASSAGE: decided afresh, as a repeat of that refusal (typed by a guard,
afresh). A resident's own card that names no car, tapped within SAME_PASSAGE after the camera let
one of the resident's cars through (or held it) at the lane, is a card of that car (`resident_car`).
A plate nobody registered and the QR of a pass, shown at an entrance within SAME_PASSAGE of each
other (either order), are one car on that pass (`other_half`): the pass has no plate, or the visitor
came in another car than the one registered with it; so are a pass's plate refused for its own
pass's time (expired...) and another pass's QR. A plate refused `blocked` at a lane (entrance or
exit) and any card or QR shown there within SAME_PASSAGE after it are one car too, refused again
(whoever the card or pass is: `blocked_car`); so are a plate held to pay at an exit and any card or
QR shown there within SAME_PASSAGE after it, one hold (`held_car`). A person refused at a door who
shows her card or pass again there within SAME_PASSAGE is one person turned away too
(`refused_at_door`); a pass for several people (a crew on one QR) is that many, one after another,
before a show is her trying again.
A plate let through at a lane, read at another lane of the same direction at its gate within
SAME_PASSAGE, is that passage too (a camera that also sees the next lane: `same_passage`,
_next_lane); read by the camera of a lane of the other direction beside it, it is the neighbouring
lane's car, no passage there (`neighbour_read`). The car held to pay that a guard lets out by
hand has no decision of its own: it is told here as let through at the opening (`let_out`), so
that it too is one passage as it leaves.
"""

from __future__ import annotations

import itertools
from collections import OrderedDict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, runtime_checkable

from gateway.core import TYPED_BY, Billing, CredentialFacts, Decision, Presented, Reason
from gateway.core.model import AGAIN, NEIGHBOUR_LANE, PASS_HOLDERS, REFUSED_AGAIN, SAME_PASSAGE
from gateway.core.tickets import is_ticket
from gateway.events import AccessEvent
from gateway.runtime.devices import Devices
from gateway.store.holds import Held
from gateway.store.lookup import holder_subject
from gateway.store.parking import Owed
from gateway.timefmt import elapsed

# Plates remembered with their last decision at each lane, for a car decided again while it is still
# there; the lane voter forgets a car as soon as it has gone, so this covers every car in the lanes.
REMEMBER_DECIDED = 4096
# A plate let through at a lane and decided there afresh by the lane's plate camera, or typed there by a
# guard, within this long is the same car: a car glimpsed in the queue and hidden by the car in front
# (the camera forgot it) reaches the loop well within it, and so does the second of two guards typing
# the plate of the car the other tablet (or the camera) just let through. (A plate is the car itself:
# unlike a card, it cannot be handed back to the car behind.)
SAME_CAR = timedelta(seconds=60)

# What a car let out by hand is taken to have left as, by its stay's billing, as decide() lets out a
# car that paid; a contractor's visit is taken for a visitor's (the repeat counts nowhere: "again").
_LET_OUT_AS: dict[Billing | None, Reason] = {
    Billing.SLOT: Reason.RESIDENT,
    Billing.MONTHLY: Reason.MONTHLY,
    Billing.VISITOR: Reason.VISITOR,
}

K = TypeVar("K")


def _corrected_car(ev: AccessEvent) -> str:
    """The plate a decision on a corrected car's misread plate was taken as (Gateway._decide_one,
    _as_read): its record keeps the camera's reading in `value`, flagged `read:<reading>`, and names
    the corrected car. Its next look was taken for the reading, a car that never came in, and went
    up as a resident's with no resident. "" for any other decision (a look-alike's keeps the match
    in `value`)."""
    if ev.kind != "plate" or ev.plate is None or f"read:{ev.value}" not in ev.flags:
        return ""
    return ev.plate


def _on(decided: Decided, ev: AccessEvent, repeats: Sequence[AccessEvent] = ()) -> bool:
    """`decided` is the decision `ev`, or a repeat of it: the same car let through again at its
    lane since (flag `again`), or at the lane of one of `repeats` (the next exit lane's camera)."""
    if decided.event in {ev.event_id, *(r.event_id for r in repeats)}:
        return True
    repeat = AGAIN in decided.decision.flags and decided.at >= ev.at
    lanes = {ev.lane, *(r.lane for r in repeats)}
    return repeat and decided.subject == ev.subject and decided.lane in lanes


def _next_lane(p: Presented, last: Decided, entrance: bool) -> bool:
    """`p`, a plate at a vehicle lane, is the car `last` let through on its plate at another lane
    of the same direction (`entrance`: both entrances, else both exits) at the same gate (the
    caller asks: DecidedAgain.same_passage) within SAME_PASSAGE: a
    camera that also sees the next lane, or a car straddling two, reads one car at both. A plate is
    the car itself, and no car leaves (or comes in) twice in a few seconds. Decided afresh, it left
    twice: the second exit's barrier opened with flag no_entry_record (a registered car's stay
    closed by the first), and the report counted two exits for one entry (Review 57g); at a second
    entrance it came in twice: flagged already_inside, its first stay closed as a re-entry half a
    second after it opened and a second opened (Review 62c). Let through again there (flag again),
    the second barrier opens too, as a repeat at the first lane's would: the car may have moved to
    it as the first arm stayed down, and a registered car kept at a shut arm is what a guard is
    called out for; it is counted once, its stay moved once."""
    return (
        p.kind == last.kind == "plate"
        and last.decision.admitted
        and last.entrance == entrance
        and abs(elapsed(last.at, p.at)) <= SAME_PASSAGE
    )


def _in_place(decided: Decided) -> bool:
    """`decided` found its car where its lane expects one (an entry of a car not recorded inside, an
    exit of one recorded inside), so that a read of the plate at the lane of the other direction
    beside it a moment later is the neighbouring camera's (neighbour_read). Out of place, it may be
    that camera's read itself (a car coming in read first by the exit camera beside it: held as a
    car with no entry record): the read at the other lane is then the car's own, decided afresh."""
    flags = decided.decision.flags
    if decided.entrance:
        return "already_inside" not in flags and decided.decision.reason != Reason.ANTI_PASSBACK
    return "no_entry_record" not in flags


# A pass's plate refused for its own pass's time: the visit it was registered for is over (or not
# begun, or outside its hours), and the car may come in on another pass's QR.
_PASS_ENDED = frozenset({Reason.EXPIRED, Reason.NOT_YET_VALID, Reason.OUTSIDE_HOURS})


def _car_of_an_ended_pass(half: Decided) -> bool:
    """`half`, a plate registered with a pass, was refused for that pass's time (yesterday's visit):
    the visitor back in the same car on a new pass registered on foot scans its QR, and the car is
    the new pass's, as a plate nobody registered would be. Decided alone, the QR's stay carried no
    plate: the car left free on its plate (no_entry_record) and the stay stayed open for good."""
    pass_car = half.subject.split(":", 1)[0] in PASS_HOLDERS
    return pass_car and not half.decision.admitted and half.decision.reason in _PASS_ENDED


def _turned_away(last: Decided | None, decided: Decided) -> int:
    """Decided.turned_away of `decided`, `last` the decision on its subject before it: one more
    turned away at the lane, unless a repeat (refused_again) of a refusal there a moment ago."""
    if decided.decision.admitted:
        return 0
    chained = (
        last is not None
        and last.lane == decided.lane
        and not last.decision.admitted
        and abs(elapsed(last.at, decided.at)) <= SAME_PASSAGE
    )
    before = last.turned_away if last is not None and chained else 0
    return before if before and REFUSED_AGAIN in decided.decision.flags else before + 1


@runtime_checkable
class StandingPlates(Protocol):
    """A lane's plate reader (gateway/runtime/plate_reading.py): knows a car that stayed."""

    def decided_again(self, text: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Decided:
    """The last decision recorded for a plate at a lane, and the plate it was taken for."""

    decision: Decision
    value: str  # a look-alike match's registered plate, else the plate as read
    subject: str  # the car (or person) it was about, for "decided nowhere else since"
    seq: int  # which of two was decided later
    lane: str
    kind: str
    at: datetime
    # Its access record: the stay an entry opened names it (entry_event). None for a car let out by
    # hand, which has no decision of its own (let_out).
    event: str | None = None
    # A car whose hold a guard corrected, let out (or held) on the camera's repeat of its misread
    # plate (Gateway._decide_one): the corrected plate it was decided as, `value` being the reading
    # its record keeps. "" for any other.
    corrected: str = ""
    # Decided at an entrance, the only lane hard anti-passback refuses a car at (same_passage).
    entrance: bool = False
    # Refused: how many were turned away at its lane in the refusals of the subject there, each
    # within SAME_PASSAGE of the one before, that ended with it (a repeat adds none): a crew's pass
    # refused at a door is as many people as it is for (refused_at_door). 0 for one let through.
    turned_away: int = 0

    @property
    def car(self) -> str:
        """The plate the car was decided as, to be decided as again: the corrected one, or `value`."""
        return self.corrected or self.value


class DecidedAgain:
    """The plates a lane decided again, and the last decision recorded for each plate at each lane.
    In memory only: after a restart the lane voter has forgotten the car too, and decides it afresh.
    remember() and last() run on the decision worker; standing() on any thread (a camera's)."""

    def __init__(self, devices: Devices, *, hard_anti_passback: bool = False):
        self._devices = devices
        # Under hard anti-passback a plate a guard types at an entrance is a passage of its own
        # (same_passage).
        self._hard_anti_passback = hard_anti_passback
        self._decided: OrderedDict[tuple[str, str], Decided] = OrderedDict()  # (lane, plate read)
        self._latest: OrderedDict[str, Decided] = OrderedDict()  # subject -> its last decision anywhere
        # (resident, lane) -> the last decision there on one of the resident's cars' plates: per lane,
        # as the resident's other car may move at another lane meanwhile (a spouse driving it out).
        self._cars: OrderedDict[tuple[str, str], Decided] = OrderedDict()
        # lane -> the last plate or QR decided there: one half of a car on a pass, its plate unknown.
        self._halves: dict[str, Decided] = {}
        # lane -> the last plate decided there: a blocked car's, the car at the barrier (blocked_car).
        self._plates: dict[str, Decided] = {}
        self._seq = itertools.count()
        # What a batch of decisions changed, to undo if it is not stored (undo_batch): while None,
        # nothing is kept.
        self._undo: list[tuple[dict[Any, Decided], Any, Decided | None]] | None = None

    def begin_batch(self) -> None:
        """Decisions remembered from now on may not be stored (a full disk, a locked database):
        undo_batch forgets them, so the car is remembered as the decision that is on record."""
        self._undo = []

    def end_batch(self) -> None:
        self._undo = None

    def undo_batch(self) -> None:
        """The batch was rolled back: what it remembered is forgotten, newest first, each memory as
        it was before (a car let in a moment ago is still that car, not a refusal never stored)."""
        for memory, key, before in reversed(self._undo or []):
            if before is None:
                memory.pop(key, None)
            else:
                memory[key] = before
        self._undo = None

    def standing(self, lane: str, plate: str) -> bool:
        """A plate camera of the lane last decided this plate again: the same car, still there (it
        stood at the barrier, or reached the loop from a queue), not one more arrival."""
        return any(r.decided_again(plate) for r in self._readers(lane))

    def _readers(self, lane: str) -> list[StandingPlates]:
        devices = self._devices.lanes.get(lane)
        readers = devices.plate_readers if devices is not None else []
        return [r for r in readers if isinstance(r, StandingPlates)]

    def last(self, lane: str, read: str) -> Decided | None:
        """The last decision at the lane for the car read as `read`: its own, or a later one for
        the registered plate it was taken for (a look-alike read whose fee the guard took at the
        lane on that plate, the one the tablet shows: the barrier opened for this car)."""
        mine = self._decided.get((lane, read))
        if mine is None or mine.value == read:
            return mine
        typed = self._decided.get((lane, mine.value))
        return typed if typed is not None and typed.seq > mine.seq else mine

    def same_passage(
        self, p: Presented, subject: str, at_exit: bool = False, beside: Collection[str] = ()
    ) -> Decided | None:
        """The decision that let `subject` (the car: its plate, or a card or pass naming it) through
        at this lane a moment ago, or refused it there, if `p` is one more look at that passage: its
        plate again from the lane's plate camera within SAME_CAR, or its plate and a card or pass
        within SAME_PASSAGE (a refusal: within SAME_PASSAGE only), and nothing decided for it at
        another lane since. So is its plate typed there by a guard within SAME_CAR of a decision
        that let it through: with two tablets in the booth, the second guard types the plate of the
        car the other tablet (or the camera) let through a moment ago, which a new passage would
        give a second stay at an entrance, or hold at an exit as a car with no entry record; not
        at an entrance under hard anti-passback, which an estate sets to refuse a second car with
        those plates coming in (a clone): the second guard is told the car is inside already, and
        nothing is recorded twice (but a car with no plate's ticket, which only the car given it
        carries, is that car still). Hard anti-passback refuses no exit, so at an exit the typed
        plate is that car still. The same card twice is not, nor the same plate from another
        system, nor a plate a guard types for a car refused there (he types it to have the car
        decided again, once registered or unblocked): anti-passback, or the decision afresh,
        decides those. A refusal is no pass: the
        caller decides `p` afresh, as a repeat of it (refused again for the same reason: one car
        turned away). `at_exit`: `p` is at a vehicle exit, else an entrance; the car's plate let
        through at another lane of the same direction at its gate (`beside`) within SAME_PASSAGE
        is that passage too (_next_lane), but under hard anti-passback not a plate a guard types at
        an entrance (a clone, as at the same lane). A lane at another gate is not beside it: no
        camera there sees it, and a car read at both within seconds is two cars on one plate (a
        clone, refused by hard anti-passback as it comes in; one leaving is a car with no entry
        record, decided so: let through again, it left free and uncounted: Review 62j)."""
        last = self._latest.get(subject)
        if last is None:
            return None
        if last.lane != p.lane:
            typed_clone = self._hard_anti_passback and not at_exit and p.device.startswith(TYPED_BY)
            next_lane = last.lane in beside and _next_lane(p, last, not at_exit)
            return last if not typed_clone and next_lane else None
        if p.kind == last.kind == "plate":
            # Only the lane's own plate camera forgets a car it has not read for a few seconds; a
            # guard types the plate of a car let through there a moment ago when his tablet had not
            # shown it yet (the other tablet's guard typed it, or the camera read it). A ticket is
            # no plate a second car can carry: the gateway gave it, to the car let in (review 60j).
            clone_guarded = self._hard_anti_passback and last.entrance and not is_ticket(p.value)
            typed = not clone_guarded and p.device.startswith(TYPED_BY) and last.decision.admitted
            within = SAME_CAR if typed or self._camera_read(p) else timedelta(0)
        elif "plate" in (p.kind, last.kind):
            within = SAME_PASSAGE
        else:
            return None
        if not last.decision.admitted:  # the driver taps the card as the barrier stays shut
            within = min(within, SAME_PASSAGE)
        return last if abs(elapsed(last.at, p.at)) <= within else None

    def neighbour_read(self, p: Presented, other_way: Sequence[str]) -> Decided | None:
        """The decision on `p`'s plate at one of `other_way` (the lanes of the other direction
        beside `p`'s, at its gate) within SAME_PASSAGE, if `p`, a plate a camera read (not one a
        guard typed, nor a car with no plate's ticket), is that car seen by the camera of the lane
        beside it: a camera that also sees the neighbouring lane, or the rear plate of a car read
        as its front plate is read at its own lane. No car drives round from one to the other in
        seconds. Decided afresh, a stranger let in and read by the exit camera half a second later
        was let out free, its stay closed in its free minutes (held as a car with no entry record,
        fee 0, when it really left); a resident let in onto his slot was let out, the household's
        other car given the slot; a car let out got a stay again (counted inside, refused by hard
        anti-passback at its own gate that evening, or charged as a re-entry next time: Review
        62c). Refused there too (a stranger at a full car park, read by the exit camera, was held
        as a car with no entry record). Only a decision that found its car in place (_in_place),
        decided nowhere else since. The caller records `p` as no passage (flag neighbour_lane)."""
        if p.kind != "plate" or p.device.startswith(TYPED_BY) or is_ticket(p.value):
            return None
        for lane in other_way:
            there = self.last(lane, p.value)
            if there is None or there.kind != "plate" or self._latest.get(there.subject) is not there:
                continue
            if _in_place(there) and abs(elapsed(there.at, p.at)) <= SAME_PASSAGE:
                return there
        return None

    def refused_at_door(self, p: Presented, subject: str, people: int = 1) -> Decided | None:
        """The decision that refused `subject` (the person, whichever of their cards or passes: an
        unknown card or QR is itself) at this door a moment ago, if `p` is her showing it again:
        within SAME_PASSAGE of it, and nothing decided for her at another lane since. The scanner
        beeped red, she shows her pass again, or taps her card again after the reader's debounce:
        one person turned away. The caller decides `p` afresh, as a repeat of it (refused again for
        the same reason: refused_again, counted once). One let in a moment ago is not: her card
        shown again lets a friend in behind her, anti-passback's business as any second entry.
        A pass for `people` (人数: a crew of four on one QR) is shown by each of them in turn: a
        repeat only once that many were turned away in its refusals there (Decided.turned_away).
        Taken for one, a crew of four refused in turn was one person turned away (Review 60l)."""
        last = self._latest.get(subject)
        if last is None or last.lane != p.lane or last.decision.admitted or last.turned_away < people:
            return None
        return last if abs(elapsed(last.at, p.at)) <= SAME_PASSAGE else None

    def resident_car(self, p: Presented, card: CredentialFacts, entrance: bool) -> Decided | None:
        """The decision on the plate of the resident's car that let it through at this lane a moment
        ago, or refused it there, if `p`, the resident's own `card` that names no car, was tapped for
        that car: within SAME_PASSAGE of its plate, the car decided at no other lane since, nor the
        resident. The caller decides `p` as a card of that car, so a second tap (the first beep not
        heard) is the car again too: the first was recorded as the car's, not the resident's.
        Tapped first, the card is decided as the resident alone, and the plate after it afresh; a
        card that would itself be refused at an entrance (expired, not yet valid, outside its hours:
        the car's plate never asked) is too, and refused. Exits do not ask a card's validity."""
        if card.vehicle is not None or p.kind == "plate" or (entrance and not card.validity.admits(p.at)):
            return None
        resident = holder_subject(card.holder.kind, card.holder.id)
        car = self._cars.get((resident, p.lane))
        if car is None or abs(elapsed(car.at, p.at)) > SAME_PASSAGE:
            return None
        since, mine = self._latest.get(car.subject), self._latest.get(resident)
        if since is None or since.lane != p.lane or (mine is not None and mine.seq > car.seq):
            return None
        return car

    def other_half(self, p: Presented) -> Decided | None:
        """The other half of a car on a pass whose plate the camera has not read yet (a pass without
        a plate, or the visitor in another car than the one registered with it), if `p` is one: for
        a plate, the QR decided at its lane just before it; for a QR, the plate nobody registered
        decided there just before it (either order: the camera reads the car as the driver scans
        the pass) or a pass's plate refused there for its own pass's time (the visitor back on a
        new pass). Only the last plate or QR decided at the lane, within SAME_PASSAGE, and decided
        nowhere else since: a plate already taken for a pass's car is not one, nor a QR let through
        again on its car's plate read in its passage (its car is known: the car behind is not it).
        Whether `p` is a plate nobody registered, neither plate one recorded inside already, the
        QR's pass one whose car is not known yet (not the car behind it), and the lane an
        entrance, is for the caller to say (Gateway._pass_car): an exit finds such a car by the
        plate its stay carries (gateway/store/lookup.py)."""
        half = self._halves.get(p.lane)
        if (
            half is None
            or {half.kind, p.kind} != {"plate", "qr"}
            or self._latest.get(half.subject) is not half
        ):
            return None
        registered = half.kind == "plate" and half.subject != f"plate:{half.value}"
        if registered and not _car_of_an_ended_pass(half):
            return None  # a registered car's
        if half.kind == "qr" and AGAIN in half.decision.flags:  # its car's plate read with it
            return None
        return half if abs(elapsed(half.at, p.at)) <= SAME_PASSAGE else None

    def blocked_car(self, p: Presented) -> Decided | None:
        """The plate refused `blocked` at `p`'s lane just before it (a car reported stolen, a driver
        who threatened a guard), if `p`, a card or QR shown within SAME_PASSAGE after it, is that
        car's: whoever's card or pass it is (a neighbour's card that names no car, a friend's pass
        forwarded by WeChat), the car at the barrier is the blocked one, at an entrance or an exit.
        The caller decides `p` with its car blocked: refused `blocked` again (refused_again), one
        car turned away. Decided alone, it opened the barrier: let in as a temporary car or a
        visitor, its stay carrying no plate, or let out with its stay open for good. Only the last
        plate decided at the lane, decided nowhere else since: the car behind's plate read, the
        blocked car is gone from the barrier. Later than SAME_PASSAGE, `p` is its own again."""
        return self._plate_before(p, Reason.BLOCKED)

    def held_car(self, p: Presented) -> Decided | None:
        """The plate held to pay (`payment_due`) at `p`'s exit lane just before it, a car recorded
        inside, if `p`, a card or QR shown within SAME_PASSAGE after it, is shown for that car:
        whoever's card or pass it is (the household's other car's, a neighbour's handed through
        the window), the car at the barrier is the one held. The caller decides `p` as that plate
        shown again (Gateway._decide_one): the hold's fee asked again (refused_again), one hold,
        its plate's. Decided alone, it let the held car out free as the card's car or its holder
        leaving (no_entry_record), the held car's stay open for good and the card's car's closed
        while it was still parked (Review 64H). Not a plate held with no entry record: the card or
        pass may be what let that car in, its plate unread at the entrance, the stay's only name.
        Only the last plate decided at the lane, decided nowhere else since, as blocked_car; its
        own card or pass is that passage already (same_passage), a resident's card that names no
        car a card of that car (resident_car): the caller asks those first."""
        plate = self._plate_before(p, Reason.PAYMENT_DUE)
        return plate if plate is not None and not plate.entrance and _in_place(plate) else None

    def _plate_before(self, p: Presented, reason: Reason) -> Decided | None:
        """The last plate decided at `p`'s lane, refused for `reason` within SAME_PASSAGE before
        `p`, a card or QR, and decided nowhere else since (blocked_car, held_car): the car's last
        decision is that plate's, or a repeat of its refusal at the lane since (refused_again: its
        own card, the resident's card that names no car, a card taken for it). Taken for a new
        car there, the household's other card tapped after the car's own let the held car out free
        (Review 64Rm). The window runs from the plate's read, not from a card after it: a card is
        never kept as the lane's last plate (remember)."""
        plate = self._plates.get(p.lane)
        if p.kind not in ("card", "qr") or plate is None or plate.decision.reason != reason:
            return None
        since = self._latest.get(plate.subject)
        repeat = (
            since is not None
            and since.seq > plate.seq
            and since.lane == plate.lane
            and not since.decision.admitted
            and since.decision.reason == reason
            and REFUSED_AGAIN in since.decision.flags
        )
        if since is not plate and not repeat:
            return None
        return plate if abs(elapsed(plate.at, p.at)) <= SAME_PASSAGE else None

    def _camera_read(self, p: Presented) -> bool:
        """`p` is a plate one of its lane's plate cameras read: not one a guard typed (what is on
        the car at the barrier now: same_passage says when it is still the car let through), nor
        one another source at the lane presented (a simulated camera, a card reader)."""
        devices = self._devices.lanes.get(p.lane)
        if devices is None or not self._readers(p.lane) or p.device.startswith(TYPED_BY):
            return False
        return not any(s.health.device == p.device for s in devices.sources if s not in devices.cameras)

    def remember(self, read: str, ev: AccessEvent, shown: str = "") -> None:
        """The decision just made at its lane (to be stored: see begin_batch), for the car decided
        again while it is still there, or shown again in the same passage (same_passage). The
        neighbouring lane's car read here (flag neighbour_lane) is not: the decision at its own
        lane stays its last, so that this lane's camera reading it again is that car still.
        `shown`: the kind of credential shown, if not `ev.kind`: a card or QR taken for the plate
        held there (held_car) is that car's decision at the lane (its last, the plate's there, the
        resident's car's there) but not the lane's last plate, so that the 10 s run from the
        camera's read (kept as the lane's last plate, the hold's window measured from each tap kept
        a neighbour tapping on refused with the held car's fee for good: Review 64Rm). Kept as the
        car's last only, the held car that paid, let out on it, left again with no entry record on
        its resident's own card tapped after it, and the entrance camera beside the exit reading
        it was the car coming in (Review 64Rs)."""
        if NEIGHBOUR_LANE in ev.flags:
            return
        billing = Billing(ev.billing) if ev.billing else None
        decision = Decision(Reason(ev.reason), billing, ev.slot_id, ev.flags)
        decided = Decided(
            decision,
            ev.value,
            ev.subject,
            next(self._seq),
            ev.lane,
            ev.kind,
            ev.at,
            ev.event_id,
            _corrected_car(ev),
            ev.direction == "entrance",
        )
        decided = replace(decided, turned_away=_turned_away(self._latest.get(ev.subject), decided))
        if shown not in ("", ev.kind):
            self._keep(self._latest, decided.subject, decided)
            self._keep(self._decided, (decided.lane, decided.value), decided)
        else:
            self._keep_decided(read, decided)
        if ev.kind == "plate" and ev.holder_kind == "resident" and ev.holder_id is not None:
            car = decided
            plate = self._plates.get(ev.lane)
            if shown not in ("", ev.kind) and plate is not None and plate.subject == decided.subject:
                # A tap taken for the held car: the household's own card is its own again 10 s
                # after the camera's read, not after this tap (Review 64Rt).
                car = replace(decided, at=plate.at)
            self._keep(self._cars, (holder_subject("resident", ev.holder_id), ev.lane), car)

    def let_out(self, lane: str, held: Held, account: Owed, at: datetime) -> None:
        """The car held to pay at the exit `lane` (`held`, its account `account`) was let out there
        at `at` by a guard's opening by hand, with no decision of its own (hand_lanes.py). Read again
        by the lane's camera as it pulls away, or its card or pass shown, within the windows of
        same_passage, it is that passage, as a car let out once its fee was taken: let through
        again, with no fee, not a car leaving with no stay."""
        billing = Billing(account.stay.billing) if account.stay and account.stay.billing else None
        decision = Decision(_LET_OUT_AS.get(billing, Reason.TEMPORARY), billing)
        decided = Decided(decision, held.value, account.subject, next(self._seq), lane, held.kind, at)
        self._keep_decided(held.value, decided)

    def not_let_out(self, ev: AccessEvent, repeats: Sequence[AccessEvent] = ()) -> None:
        """The decision `ev` let a car out at an exit whose barrier did not open, and its stay is
        open again (ParkingDesk.not_let_out): forgotten, with the repeats of it let through again
        since (a Modbus module answers a moment after the decision), so that the car's next look
        there, still at the shut barrier, is decided afresh, as an exit that closes its stay. Let
        through again on it (flag `again`: no stay moves), it left with its stay open for good.
        `repeats`: those that joined its passage (Gateway._put_back), at another exit lane too."""
        memories: tuple[dict[Any, Decided], ...] = (
            self._decided,
            self._latest,
            self._cars,
            self._halves,
            self._plates,
        )
        for memory in memories:
            for key in [key for key, decided in memory.items() if _on(decided, ev, repeats)]:
                self._note(memory, key)
                del memory[key]

    def _keep_decided(self, read: str, decided: Decided) -> None:
        self._keep(self._latest, decided.subject, decided)
        if decided.kind == "plate":
            self._keep(self._decided, (decided.lane, read), decided)
            self._note(self._plates, decided.lane)
            self._plates[decided.lane] = decided
        if decided.kind in ("plate", "qr"):
            self._note(self._halves, decided.lane)
            self._halves[decided.lane] = decided

    def _keep(self, memory: OrderedDict[K, Decided], key: K, decided: Decided) -> None:
        self._note(memory, key)
        memory[key] = decided
        memory.move_to_end(key)
        while len(memory) > REMEMBER_DECIDED:
            evicted, was = memory.popitem(last=False)
            if self._undo is not None:
                self._undo.append((memory, evicted, was))

    def _note(self, memory: dict[Any, Decided], key: Any) -> None:
        if self._undo is not None:
            self._undo.append((memory, key, memory.get(key)))
