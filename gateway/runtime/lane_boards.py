"""A lane's relays pulsed, and its displays (and voice) told what came of it: after a decision
(Gateway._act) and after an opening by hand (HandLanes).

Most relays know at once whether they took a pulse: the write raised, or the board is offline after
it. A Modbus module's bus writes the coil on its own thread (WrittenLater), and the module's health
is its last request's, older than the pulse: a lost poll, or a module not polled yet as the gateway
starts, reads offline while the barrier rises, and a module that lost its supply since reads online
while it stays down. Its pulse's outcome, settled later, decides instead (tell_opening). An LCUS
board is written on its own thread too (WrittenLater): one that takes no data holds a write for the
port's write timeout, which on the decision worker held up every other lane (Review 64D).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from drivers.base import Display, Relay
from drivers.displays.voice import VoicePrompt
from drivers.relays.control import WrittenLater
from gateway.runtime.devices import Devices

log = logging.getLogger(__name__)

# A relay's pulse: its outcome (settled now, or later by a relay written later), and whether the
# relay was believed online when pulsed.
Pulsed = tuple[Future[bool], bool]
# A decision's verdict, as a lane's words go by it: let through or not, its reason code, and whose
# the car is taken for (a holder's kind; None: a stranger's car).
Verdict = tuple[bool, str, str | None]
E = TypeVar("E")  # a passage's exit decision (an AccessEvent)


def pulse(relay: Relay, seconds: float, ref: str) -> Pulsed:
    """Pulse a relay (it may raise: not taken, the caller says why)."""
    online = relay.health.online
    if isinstance(relay, WrittenLater):
        return relay.pulse_written(seconds, ref), online
    relay.pulse(seconds, ref)
    # Offline after a pulse that did not raise: a driver that found its board gone on the way.
    taken: Future[bool] = Future()
    taken.set_result(relay.health.online)
    return taken, online


def taken(relay: Relay, seconds: float, ref: str) -> bool:
    """Pulse a relay and wait for its outcome (an opening by hand: the guard is told whether it
    opened). One not known within the relay's own answer time counts as not taken."""
    outcome, _ = pulse(relay, seconds, ref)
    return _known(relay, outcome)


def held(relay: Relay) -> bool:
    """Hold a relay open and wait for its outcome, as taken() does for a pulse: a Modbus module
    never raises (its adapter unplugged, the module silent), so whether it holds is its write's
    answer. Any other relay holds unless hold() raised. Not held: the caller releases it."""
    if isinstance(relay, WrittenLater):
        return _known(relay, relay.hold_written())
    relay.hold()
    return True


def released(relay: Relay) -> bool:
    """Release a relay and wait for its outcome, as held() does for a hold: a Modbus module whose
    adapter is unplugged never raises, and its barrier held up stays up. Any other relay is
    released unless release() raised."""
    if isinstance(relay, WrittenLater):
        return _known(relay, relay.release_written())
    relay.release()
    return True


def _known(relay: Relay, outcome: Future[bool]) -> bool:
    wait = relay.answer_within_s if isinstance(relay, WrittenLater) else 0.0
    try:
        return outcome.result(timeout=wait)
    except TimeoutError:
        return False


def show_on(displays: Iterable[Display], lines: list[str]) -> None:
    """Show the lines on a lane's displays (and voice); one that fails is marked offline, the rest
    go on. One offline already (a serial board unplugged: it raises its own last error) keeps its
    driver's words: prefixed again at every car, they read "show failed: show failed: ... is not
    there (unplugged?)", which alarm_texts.device_fault_zh no longer words in Chinese (Review 60u)."""
    for display in displays:
        try:
            display.show(lines)
        except Exception as exc:
            if display.health.online or not display.health.last_error:
                display.health.set_offline(f"show failed: {exc}")


# A lane whose barrier is not watched (no contact wired, or not heard: docs/hardware.md) shows its
# idle line this long after a car was let through, as the barrier's contact closing does where it
# is: long enough for the car to drive through, short of the next car's arrival. Read when a
# greeting is shown (a test sets it shorter).
IDLE_AFTER_S = 10.0
# The cars whose last words each lane remembers (LaneBoards.show): the cars queued at one barrier.
TOLD_KEPT = 16


def _no_idle(lane: str) -> list[str] | None:
    return None


def _not_watched(lane: str) -> bool:
    return False


class LaneBoards:
    """Every lane's displays, and a ticket for each thing a lane is told, taken in the order it
    was decided: lines known later (a Modbus pulse's outcome, settled on its bus's thread) are shown
    under the ticket taken when the car was decided (reserve), and only if no newer ticket's lines
    were shown since. So the fault of the car before never replaces what the car now at the barrier
    is told, and two cars decided before the module answers are each greeted once it does, the
    second (now at the barrier) last: with one count read at the decision, the first outcome moved
    it and the second car was told nothing. Displays return at once (a serial board writes on its
    own thread): shown under the lock, in ticket order.

    What each car was last told at each lane is kept (show), and whether the lane shows a greeting
    of a car let through: once its barrier is down again (arm_down), or, where no contact tells,
    IDLE_AFTER_S later (start), the lane shows its idle line (`idle`: texts.idle_lines, a closed
    lane's closed line; None to leave the board as it is, a lane held open). Left there,
    一路平安 皖B33333 read over the lowered arm to the next driver until the next decision
    (Review 66C)."""

    def __init__(
        self,
        devices: Devices,
        idle: Callable[[str], list[str] | None] = _no_idle,
        arm_watched: Callable[[str], bool] = _not_watched,
    ):
        self._devices = devices
        self._idle = idle
        self._arm_watched = arm_watched  # a lane whose barrier contact will say it is down
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._taken: dict[str, int] = {}  # the lane's last ticket taken
        self._shown: dict[str, int] = {}  # the ticket whose lines the lane shows
        self._lines: dict[str, list[str]] = {}  # and those lines
        self._car: dict[str, str | None] = {}  # and whose they are (None: nobody's, an idle line)
        self._told: dict[str, dict[str, list[str]]] = {}  # per lane, what each car was last told
        # per lane, what each car's last decision there told it (its greeting, not a fault), and
        # that decision's verdict (admitted, reason): kept by its repeats (words_again)
        self._decided: dict[str, dict[str, tuple[Verdict, list[str]]]] = {}
        self._going: dict[str, int] = {}  # the ticket of the greeting of a car let through
        self._idle_at: dict[str, tuple[int, float]] = {}  # its idle line due (monotonic), unwatched
        self._thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> None:
        """Show the idle line of a lane whose barrier is not watched IDLE_AFTER_S after its
        greeting, on a thread of its own (Gateway.start; stopped by stop)."""
        with self._lock:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(target=self._idle_loop, name="lane-boards-idle", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout=5)

    def show(
        self,
        lane: str,
        lines: list[str],
        *,
        nothing_new: bool = False,
        car: str | None = None,
        going: bool = False,
    ) -> int:
        """Show the lines on the lane's displays now; the ticket that names this showing. `car`:
        whose lines they are (a plate, a subject), `going`: a greeting of a car let through, which
        the idle line replaces once the barrier is down again.
        `nothing_new`: a decision that tells the lane nothing new (the camera deciding again the
        car standing at the barrier; a refusal at a lane held open, which keeps the hold's words).
        Where the lane shows these lines already, its boards are sent them again but its voice is
        not played again: played at every repeat, a driver finding his phone to pay heard
        "临时车 请缴费 9元" every 15 s, each cutting the last one short (Review 60u).
        At a vehicle lane whose camera tells which cars stand there (_camera_tells), where the car
        was told these lines already and another car the camera still sees there was told
        something since that is not a greeting (two cars held to pay, one at the barrier and one
        behind it in the camera's view), nothing is shown or said: the board flipped between the
        two cars' fees at every repeat, each flip said (nine prompts a minute, Review 66C). The
        other car no longer seen in the lane, or let through (its greeting: it is leaving), the
        board is this car's again, not said. Anywhere else (a door, a lane no camera can tell
        of) a repeat is someone tapping again: shown and said, as any decision. Kept for another
        there, someone refused at a door who tapped again after another was let in read that
        person's 欢迎回家 and heard nothing (Review N on 5de5571f)."""
        other = self._other_car(lane, car) if nothing_new else None
        tells = nothing_new and car is not None and self._camera_tells(lane)
        standing = tells and other is not None and self._devices.sees(lane, other)
        with self._lock:
            ticket = self._take(lane)
            quiet = nothing_new and self._lines.get(lane) == lines
            if tells and not quiet and car is not None and self._told.get(lane, {}).get(car) == lines:
                greeting = lane in self._going and self._going[lane] == self._shown.get(lane)
                if standing and self._car.get(lane) == other and not greeting:
                    return ticket  # the other car keeps the board; this one heard its words
                quiet = True
            self._show(lane, ticket, lines, quiet=quiet, car=car, going=going)
            return ticket

    def words_again(self, lane: str, car: str, verdict: Verdict, lines: list[str], again: bool) -> list[str]:
        """The words of a decision for `car` at the lane (texts.display_lines), remembered with its
        verdict (admitted, reason, holder). A repeat (`again`: the car let through before, decided again
        as it stands there) with the verdict of the car's last decision at the lane keeps what that
        told it: the repeat carries only its own flag (decide.py _again), not the ones behind the
        words, and a shared slot's second car told 一位多车 临时车 请入场 was switched to a stranger's
        临时车 请入场 at the camera's next repeat, and heard it (Review 66 X). Unchanged, its words
        are shown again, not said (show). A repeat that takes the car for another holder's (a
        visitor's pass shown for the car read a moment before: 欢迎光临) is told its own words."""
        with self._lock:
            decided = self._decided.setdefault(lane, {})
            last = decided.pop(car, None)  # newest last: the oldest goes first
            if again and last is not None and last[0] == verdict:
                lines = last[1]
            decided[car] = (verdict, lines)
            while len(decided) > TOLD_KEPT:
                del decided[next(iter(decided))]
            return lines

    def show_at_start(self, lane: str, lines: list[str]) -> None:
        """Show the lines on the lane's boards, not on its voice (a car held to pay there was told
        already), unless the lane was told something already: what a lane shows as the gateway
        starts (HandLanes.tell_at_start: its held car's fee, else its closed or idle line), after a
        hold held again (its 一路平安, or its fault)."""
        with self._lock:
            if lane not in self._taken:
                self._show(lane, self._take(lane), lines, quiet=True)

    def reserve(self, lane: str) -> int:
        """A ticket for lines known later (show_unless_newer), in the order decided."""
        with self._lock:
            return self._take(lane)

    def show_unless_newer(
        self, lane: str, ticket: int, lines: list[str], *, car: str | None = None, going: bool = False
    ) -> None:
        """Show the lines of `ticket` (again: a greeting corrected by its fault) unless the lines of
        a newer ticket are shown already."""
        with self._lock:
            if ticket >= self._shown.get(lane, 0):
                self._show(lane, ticket, lines, car=car, going=going)

    def arm_down(self, lane: str) -> None:
        """The lane's barrier is down again (its last contact closed: LaneInputs.barrier): a
        greeting it still shows gives way to its idle line, not said (the driver let through heard
        his greeting, and is gone). Nothing else is replaced: a car told since (held to pay, refused
        behind the car that went through) keeps its words."""
        with self._lock:
            going = self._going.get(lane)
            if going is not None:
                self._idle_now(lane, going)

    def _other_car(self, lane: str, car: str | None) -> str | None:
        with self._lock:
            other = self._car.get(lane)
        return other if car is not None and other is not None and other != car else None

    def _camera_tells(self, lane: str) -> bool:
        """Whether the lane's repeats are a camera's, which also tells which cars still stand there
        (Devices.sees): a vehicle lane with a plate camera watching it now. Asked outside the lock
        (the readers' own)."""
        return lane not in self._devices.doors and self._devices.watches(lane)

    def _take(self, lane: str) -> int:
        ticket = self._taken[lane] = self._taken.get(lane, 0) + 1
        return ticket

    def _show(
        self,
        lane: str,
        ticket: int,
        lines: list[str],
        quiet: bool = False,
        car: str | None = None,
        going: bool = False,
    ) -> None:
        self._shown[lane], self._lines[lane], self._car[lane] = ticket, lines, car
        if car is not None:
            told = self._told.setdefault(lane, {})
            told.pop(car, None)  # newest last: the oldest goes first
            told[car] = lines
            while len(told) > TOLD_KEPT:
                del told[next(iter(told))]
        self._idle_at.pop(lane, None)
        if going:
            self._going[lane] = ticket
            if not self._arm_watched(lane):
                self._idle_at[lane] = (ticket, time.monotonic() + IDLE_AFTER_S)
                self._wake.notify_all()
        else:
            self._going.pop(lane, None)
        displays = self._devices.lanes[lane].displays
        show_on([d for d in displays if not (quiet and isinstance(d, VoicePrompt))], lines)

    def _idle_now(self, lane: str, going: int) -> None:
        """The idle line, not said, where the lane still shows the greeting `going` and no ticket
        was taken since: a car decided since whose words wait on its relay's outcome (reserve)
        would find the idle line's newer ticket shown and its own dropped (show_unless_newer),
        its driver at a barrier that never rose reading 一车一杆 减速慢行, not 道闸故障 请联系保安
        (Review N). The caller holds the lock."""
        if self._going.get(lane) != going or self._shown.get(lane) != going or self._taken.get(lane) != going:
            return
        lines = self._idle(lane)
        if lines is not None:
            self._show(lane, self._take(lane), lines, quiet=True)

    def _idle_loop(self) -> None:
        with self._wake:
            while not self._stopped:
                now = time.monotonic()
                for lane, (going, at) in list(self._idle_at.items()):
                    if at <= now:
                        del self._idle_at[lane]
                        try:
                            self._idle_now(lane, going)
                        except Exception:  # the words only: the next lane's idle line still shown
                            log.exception("lane %s: its idle line not shown", lane)
                next_at = min((at for _, at in self._idle_at.values()), default=None)
                self._wake.wait(None if next_at is None else max(0.0, next_at - now))


def _told_nobody(took: bool) -> None:
    return None


def tell_opening(
    boards: LaneBoards,
    lane: str,
    pulses: list[Pulsed],
    opened: list[str],
    fault: list[str],
    known: Callable[[bool], None] = _told_nobody,
    rose: list[Future[bool]] | None = None,
    *,
    nothing_new: bool = False,
    car: str | None = None,
) -> None:
    """After a lane's relays were pulsed: `opened` (the greeting) if any took its pulse, `fault`
    (道闸故障 请联系保安) if none did, and then `known(took)`, once, on the thread that learns
    it: now, or a relay written later's (a car not gone through: Gateway._pulses_known).
    Outcomes to come: with a relay believed online, the greeting is shown at once (the decision
    is not held for the bus) and replaced by the fault if none takes it; with none believed
    online (one poll lost to noise, a module not polled yet), the board waits for the outcome, a
    fraction of a second, rather than send a driver whose barrier is rising to the guard (the
    voice cannot take it back). `rose`: the same pulses taken only once the lane's arm rose
    (LaneInputs.rising), where that is watched: the greeting still goes by the relays, and only
    the fault and `known` wait for the arm (1-6 s); waited for as a whole, a driver told 请缴费 a
    moment ago read it under the rising arm (Review 57n). `nothing_new`: the greeting of a repeat,
    `car` whose it is (LaneBoards.show)."""

    def told(took: bool, ticket: int) -> None:
        if not took or rose is None:
            known(took)
            return

        def arm_known(up: bool) -> None:
            if not up:
                boards.show_unless_newer(lane, ticket, fault, car=car)
            known(up)

        _when_known(rose, arm_known)

    if any(outcome.done() and outcome.result() for outcome, _ in pulses):
        told(True, boards.show(lane, opened, nothing_new=nothing_new, car=car, going=True))
        return
    waiting = [(outcome, online) for outcome, online in pulses if not outcome.done()]
    if not waiting:
        told(False, boards.show(lane, fault, car=car))
        return
    if any(online for _, online in waiting):
        ticket = boards.show(lane, opened, nothing_new=nothing_new, car=car, going=True)

        def fault_if_not(took: bool) -> None:
            if not took:
                boards.show_unless_newer(lane, ticket, fault, car=car)
            told(took, ticket)

        _when_known([outcome for outcome, _ in waiting], fault_if_not)
        return
    ticket = boards.reserve(lane)  # now, as decided: a car decided after it shows after it

    def greeted(took: bool) -> None:
        boards.show_unless_newer(lane, ticket, opened if took else fault, car=car, going=took)
        told(took, ticket)

    _when_known([outcome for outcome, _ in waiting], greeted)


class PassagePulses(Generic[E]):
    """A car's passage at an exit (`exit`, the decision that let it out at `at`), judged by all of
    its pulses: its decision's, and those of the decisions that repeated it (flag again: the camera
    deciding the car still at the barrier a second later) before it was judged. A Modbus module
    answers each a moment later, on its bus's thread: the exit's pulse not taken and the repeat's
    taken, the arm rose and the car drove out. Only with none taken has the car not left
    (Gateway._not_let_out): judged by the exit's pulse alone, a car that drove out on the repeat's
    was put back on its stay, inside on record for good."""

    def __init__(self, exit: E, at: datetime, lane: str) -> None:
        self.exit, self.at = exit, at
        self._lock = threading.Lock()
        # The exit lanes whose pulses it waits on: its exit's, and a repeat's at the next exit lane
        # (ExitPassages.repeated), where a guard's opening joins it too (ExitPassages.opened_by_hand).
        self._lanes = {lane}
        self._waiting = 0  # decisions of the passage whose pulses are not all known
        self._took = False  # one of its pulses was taken: the car is out
        self._not_left = False  # judged not let out (not_left)
        self._put_back = False  # and its car's stay put back, stored (put_back)
        self._repeats: list[E] = []  # the decisions that joined it (pulsed with `again`)

    @property
    def repeats(self) -> tuple[E, ...]:
        """The decisions repeating the exit that joined the passage, in order: put back with it
        where the car has not left (store parking.put_back). Read as let through, the car's last
        decision at the lane hid it from the guard's opening by hand, and, for a car with no entry
        record, read as the car gone out on what it paid (it was asked the day's fee again)."""
        with self._lock:
            return tuple(self._repeats)

    @property
    def over(self) -> bool:
        """Judged: its car out, or not let out and put back on its stay (stored: put_back). Till
        then the car is leaving (ExitPassages.waiting), counted inside by the entrance and the
        occupancy figures (CarsLeaving): dropped at not_left, before the put-back's transaction,
        a reader whose view began before its commit saw the stay closed and the car not leaving,
        counted nowhere, a shared space free that the car holds."""
        with self._lock:
            return self._took or self._put_back

    @property
    def not_put_back(self) -> bool:
        """Judged not let out (not_left), its car's stay not put back (stored) yet, or ever where
        storing it failed: the car is inside, and leaving on record (ExitPassages.waiting)."""
        with self._lock:
            return self._not_left and not self._put_back

    def pulsed(self, again: E | None = None, lane: str | None = None) -> bool:
        """One more decision of the passage pulsed, its outcome to come (known): the exit's, or
        `again`, a repeat of it joining the passage (repeats) at `lane` (at_lane); False where the
        passage is over already or its car was put back (a decision after that is a passage of its
        own). One judged not let out whose put-back could not be stored (not_put_back) is judged
        again with the repeat (the camera reading the car still at the shut arm): its car is
        leaving still on its exit, whose stay a later put-back opens again (not_left anew). Begun
        afresh on the repeat instead, that passage closed no stay and put none back: the car, its
        stay closed, was counted nowhere, and the next stranger let into the shared space it holds."""
        with self._lock:
            if self._took or self._put_back:
                return False
            self._not_left = False
            self._waiting += 1
            if again is not None:
                self._repeats.append(again)
            if lane is not None:
                self._lanes.add(lane)
            return True

    def at_lane(self, lane: str) -> bool:
        """Whether a pulse of the passage was sent to `lane`'s relays: its exit's, or a repeat's."""
        with self._lock:
            return lane in self._lanes

    def known(self, took: bool) -> bool:
        """A decision's pulses known (tell_opening): True where none of the passage's pulses was
        taken and none is still waiting, for the caller to judge it (not_left)."""
        with self._lock:
            self._waiting -= 1
            self._took = self._took or took
            return not (self._took or self._waiting)

    def not_left(self) -> bool:
        """True, once, where the car has not left: none of the passage's pulses taken and none
        waiting, also none of a repeat that pulsed after known() said so (it may yet raise the
        arm: its own outcome judges the passage then). It is over only once its car's stay is put
        back (put_back); till then a repeat joins it again (pulsed)."""
        with self._lock:
            if self._took or self._waiting or self._not_left:
                return False
            self._not_left = True
            return True

    def put_back(self) -> None:
        """The put-back of a car that has not left (not_left) committed: its stay open again, or
        none to put back (the exit closed none). The passage is over, the car no longer leaving
        (the entrance and the figures count it by its open stay)."""
        with self._lock:
            self._put_back = True


def settled(took: bool) -> Future[bool]:
    """An outcome known already: a relay's answer where the arm is not watched."""
    outcome: Future[bool] = Future()
    outcome.set_result(took)
    return outcome


@dataclass(frozen=True, slots=True)
class JoinedByHand:
    """What an opening or a hold by hand of an exit lane joined (ExitPassages.opened_by_hand,
    Gateway.opened_by_hand): `known`, to tell those passages its outcome once the relays answered;
    `since`, when the latest of their cars was let out there (None: it joined none). The car at the
    barrier is that car, let out already: the opening lets out no car held or refused there before
    it (ParkingDesk.car_at_barrier). Looked for as when none waits, it found the lane's last hold
    (held for half an hour), a car that backed away and parked: its stay closed "let out by hand",
    its fee let go, its plate on the display, while the car that drove out was the one let out."""

    known: Callable[[bool], None]
    since: datetime | None = None
    # A single opening's outcome told, rather than `known` (a hold's): the opening taken only once
    # the lane's arm rose, where that is watched (LaneInputs.rising), joined passages or none.
    opened: Callable[[bool], Future[bool]] = settled


class ExitPassages(Generic[E]):
    """The passages at exits still being judged (PassagePulses), by lane and car: a decision of the
    same car at the same lane since, flag again, is a repeat of the passage and joins it. Passages
    judged are let go as the next begins; one judged not let out whose put-back could not be stored
    (database locked, disk full: PassagePulses.not_put_back) as the car's next passage begins, at
    any exit lane (that passage judges the car then)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_car: dict[tuple[str, str], PassagePulses[E]] = {}

    def begin(self, lane: str, car: str, exit: E, at: datetime) -> PassagePulses[E]:
        """The passage of `car` let out at `lane` by the decision `exit`, pulsed."""
        passage = PassagePulses(exit, at, lane)
        passage.pulsed()
        with self._lock:
            for key in [
                key
                for key, judged in self._by_car.items()
                if judged.over or (key[1] == car and judged.not_put_back)
            ]:
                del self._by_car[key]
            self._by_car[(lane, car)] = passage
        return passage

    def waiting(self) -> list[E]:
        """The exits of the passages still being judged: no relay has taken a pulse of theirs, and
        not every pulse has been answered (a Modbus module answers up to a second later) or the car
        is not put back yet (stored: PassagePulses.put_back). Each car may still be inside
        (CarsLeaving). A put-back that could not be stored leaves its exit here, the car inside
        and its stay closed, till a repeat of it (pulsed) judges the passage again, the car's next
        passage at an exit begins (ExitPassages.begin) or the gateway stops; one reopened or
        closed otherwise meanwhile (a correction), or its car recorded inside by hand, is counted
        by its open stay, no longer as leaving (store/occupancy.py STAYS_LEAVING)."""
        with self._lock:
            return [passage.exit for passage in self._by_car.values() if not passage.over]

    def opened_by_hand(self, lane: str) -> list[PassagePulses[E]]:
        """The passages pulsed at `lane` (their exit's, or a repeat's: PassagePulses.at_lane) still
        being judged, each pulsed once more by an opening or a hold by hand (a guard's 开闸 or 常开,
        the centre's open_lane) made while their pulses were still waiting: the arm it raised let
        the car out as the decision's own pulse would have (PassagePulses.pulsed; its outcome told
        by known). Judged by the decision's pulses alone, a
        car that drove out on the guard's opening, the decision's pulse answered "not taken" a
        moment later, was put back on its stay: inside on record for good, and the opening, which
        found no car held at the barrier (let out already), let out nobody on record. Joined only at
        the lane of its exit, the car let through again at the next exit lane (ExitPassages.repeated)
        that drove out on the guard's opening there was put back inside just the same."""
        with self._lock:
            passages = [passage for passage in self._by_car.values() if passage.at_lane(lane)]
        return [passage for passage in passages if passage.pulsed()]

    def repeated(self, lane: str, car: str, again: E, at: datetime) -> PassagePulses[E] | None:
        """The passage that the decision `again` repeating it (flag again) of `car` at `lane` at
        `at` belongs to, pulsed again by that decision; None where that passage is dated after it
        (the clock set back). One judged not let out whose put-back could not be stored is judged
        again with it (PassagePulses.pulsed). Where the car has none still being judged (judged
        already, or let go as another began, or a restart since), the repeat is judged as an attempt
        of its own: a car with no entry record read again at the shut arm of the exit it paid for
        (ParkingDesk.left_settled) is let out again on it, and, no relay taking that pulse either,
        has still not left (store parking.put_back keeps the repeat put back too). Judged as
        nothing, the repeat read as the car gone out on a barrier that opened, and the car, once the
        relay was mended, was asked the day's fee again. A repeat at another exit lane (the car's
        plate read there a moment later: DecidedAgain.same_passage) joins the car's passage still
        being judged at the lane that let it out: begun apart, the first lane's pulse not taken put
        the car back inside while the second's raised the arm it drove out through."""
        with self._lock:
            passage = self._by_car.get((lane, car))
            if passage is None:
                elsewhere = (p for (_, its), p in self._by_car.items() if its == car and not p.over)
                passage = next(elsewhere, None)
        if passage is not None and at < passage.at:
            return None
        if passage is not None and passage.pulsed(again, lane):
            return passage
        return self.begin(lane, car, again, at)


def _when_known(outcomes: list[Future[bool]], then: Callable[[bool], None]) -> None:
    """then(True) as soon as one outcome is taken, or then(False) once every one is not: once."""
    lock = threading.Lock()
    left = [len(outcomes)]

    def settled(outcome: Future[bool]) -> None:
        took = outcome.result()
        with lock:
            if left[0] == 0:
                return  # told already
            left[0] = 0 if took else left[0] - 1
            if left[0]:
                return
        then(took)

    for outcome in outcomes:
        outcome.add_done_callback(settled)
