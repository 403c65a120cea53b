"""跟车通过 (tailgating): a car that drives through under an arm raised for another, judged from a
lane's loop detector and barrier contact. Pure: the runtime (lanes.py LaneInputs) feeds it the
lane's edges and decisions, with the time (monotonic seconds) as a parameter.

A car passes when the lane's last loop goes off while its arm is up. One arm-up lets through as
many cars as openings were given for it: decisions that let a car through and guards' openings,
while it is up or in the `grace_s` before it rose (the decision comes before the arm moves), each
car counted once however often the camera decided it again. An opening no car used keeps its
time: an arm-up counts every unused one given in the `grace_s` before it, whether given while the
arm was down or believed up (a polled contact's "down" edge that arrives after the decision whose
pulse sends the falling arm back up). Only a passage beyond them is a tailgate: the car named is
the one that drove onto the loop after the arm rose and whose last decision there was a refusal
(held to pay, car park full), else the lane's last car refused or held within NAMED_WITHIN_S and
not let through since (by a decision, or by any guard's opening: he opens for the car he sees
there), else nobody. A refusal alone raises nothing while the openings cover the
passage: the camera decides the car queued behind the one let out too (Review 57i). Cars that
pass while a guard holds the lane open, or after the arm came down, are not judged, nor beyond
the openings left while the arm is `unseen` (its contact's module offline; seen up again, those
given meanwhile count only if given in the `grace_s` before); openings given
while it is held count only as for an arm-up at its release, those in the `grace_s` before it (a
car let through just before is still on the loop). An opening counted for an arm-up whose car was
not decided again for COUNTED_FOR_S is forgotten, used or not: the car is gone, and decided later
it is back, a new opening (a contact stuck up is an arm-up of weeks); one used still counts among
the arm-up's openings a tailgate reports, as its car among those passed. A car decided again before
its opening is forgotten is that opening still, used or not: the loop cannot tell which car used it,
and a car let in that waits at the arm while an unpaid one drives over first is read again before
it passes (taken for a new opening, that tailgate was hidden: Review 59n). So under an arm stuck
up, a car out by the exit and let in again within COUNTED_FOR_S of its last decision reads as a
tailgate (the stuck arm is a held_open alarm of its own). A lane whose loop or barrier
contact is not wired reports no such edges, and nothing is ever judged there.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_GRACE_S = 10.0
# How long a refused or held car stays the one named by a tailgate on its lane: the camera decides
# a car held at the shut arm again every 15 s, so the car still there has been refused this recently.
NAMED_WITHIN_S = 60.0
# How long an opening counted for an arm-up is kept after its car was last decided, used or not:
# well past held_open_s (120 s), when an arm still up is a fault. Kept for the whole arm-up, a
# contact stuck up for four weeks at a busy entrance kept 17,700 cars, and a resident back a day
# later was no opening and raised a tailgate (Review 59a).
COUNTED_FOR_S = 600.0


@dataclass(frozen=True, slots=True)
class Tailgate:
    """A car through under an arm raised for another: `plate` ("" unknown) and why it was refused."""

    lane: str
    plate: str
    reason: str
    passed: int  # cars through during this arm-up, this one included
    openings: int  # openings given for it


@dataclass(slots=True)
class _Lane:
    up: bool = False
    unused: dict[str, float] = field(default_factory=dict)  # openings no car used yet: when given
    counted: dict[str, float] = field(default_factory=dict)  # counted for this arm-up: last decided
    used_forgotten: int = 0  # openings counted for this arm-up, used by a car, then forgotten
    passed: int = 0
    loop_on: bool = False
    arrived_up: bool = False  # the car on the loop drove onto it with the arm up
    on_loop_refused: tuple[str, str] | None = None  # that car's last decision, a refusal
    refused: tuple[str, str, float] | None = None  # the lane's last refusal, not let through since
    held: bool = False
    # The arm last seen up, its barrier contact's module offline since (unseen): it may have come
    # down unseen, so no car is judged; seen again still up, it is the same arm-up.
    unseen: bool = False
    counted_seen: frozenset[str] = frozenset()  # the openings counted when it went unseen


class Tailgating:
    def __init__(self, grace_s: Mapping[str, float] | None = None, default_s: float = DEFAULT_GRACE_S):
        self._grace = grace_s or {}
        self._default = default_s
        self._lanes: dict[str, _Lane] = {}
        self._unnamed = 0  # openings with no car (a guard's) and passages alarmed: counted apart
        self._lock = threading.Lock()

    def _lane(self, lane: str) -> _Lane:
        return self._lanes.setdefault(lane, _Lane())

    def _token(self) -> str:
        self._unnamed += 1
        return f"#{self._unnamed}"

    def opening(self, lane: str, now: float, car: str = "") -> None:
        """A decision let `car` through, or a guard opened the lane (for `car`, the one held to pay
        there, where known): the lane's last car refused is not named by a tailgate after it."""
        with self._lock:
            state = self._lane(lane)
            key = car or self._token()
            grace = self._grace.get(lane, self._default)
            # Bounded on a lane whose arm never reports: an opening counts only for an arm-up in
            # its `grace_s`, or for the one it was counted for. Kept oldest first (given again, a
            # key moves to the end), the expired ones are dropped from the front: a rebuild of the
            # whole dict at each opening cost a burst of thousands of decisions a third of its
            # throughput (gateway bench decide, 2,601 -> 1,750 a second).
            unused = state.unused
            _forget(state, now)
            while unused:
                oldest, at = next(iter(unused.items()))
                if oldest in state.counted or now - at <= grace:
                    break
                del unused[oldest]
            # Decided again under its arm-up: once, used or not. The loop does not say which car
            # used it: the car let in may still wait at the arm, an unpaid one through (Review 59n).
            if state.up and key in state.counted:
                del state.counted[key]
                state.counted[key] = now
            else:
                unused.pop(key, None)
                unused[key] = now
                if state.up and not state.held:
                    state.counted[key] = now
            # A guard's opening is for the car he sees at the arm, named or not: most often the
            # one refused or held there, whose name a car following it under the same arm-up took
            # (Review 57n).
            if state.refused is not None and (not car or state.refused[0] == car):
                state.refused = None
            state.on_loop_refused = None

    def refused(self, lane: str, now: float, car: str, reason: str) -> None:
        """A decision refused `car` (or held it to pay) at the lane."""
        with self._lock:
            state = self._lane(lane)
            state.refused = (car, reason, now)
            if state.loop_on:
                state.on_loop_refused = (car, reason)

    def held(self, lane: str, on: bool, now: float) -> None:
        """A guard holds the lane open (常开), or released it: any number of cars may pass."""
        with self._lock:
            state = self._lane(lane)
            if on == state.held:
                return
            state.held = on
            # Held, nothing is counted, so the openings age out by `grace_s` alone: counted, each
            # car let through in a hold of weeks was kept (Review 59a). Released with the arm up,
            # the cars judged from then on are counted as for an arm-up then.
            grace = self._grace.get(lane, self._default)
            fresh = {key: at for key, at in state.unused.items() if now - at <= grace}
            state.counted = fresh if state.up and not on else {}
            state.passed = state.used_forgotten = 0

    def arm(self, lane: str, up: bool, now: float) -> None:
        """The lane's barrier is up (any contact open) or down (its last contact closed). Seen up
        again after `unseen`, it is the arm-up it was, with its openings and the cars passed; of
        those given while it was unseen (it may have come down and gone up again), only the ones
        unused in the last `grace_s` are kept, as at an arm-up."""
        with self._lock:
            state = self._lane(lane)
            grace = self._grace.get(lane, self._default)
            if state.unseen and up and state.up:
                # Kept to COUNTED_FOR_S, the guard's 开闸 for a cyclist while the module was away
                # covered a car held to pay through behind the next car let out (Review Rdc).
                for key, at in list(state.unused.items()):
                    if key not in state.counted_seen and now - at > grace:
                        del state.unused[key]
                        state.counted.pop(key, None)
            state.unseen, state.counted_seen = False, frozenset()
            if up == state.up:
                return
            state.up, state.passed, state.used_forgotten = up, 0, 0
            # Too old for this arm-up is too old for any later one.
            state.unused = {key: at for key, at in state.unused.items() if now - at <= grace}
            state.counted = dict(state.unused) if up and not state.held else {}

    def unseen(self, lane: str) -> None:
        """The lane's arm, up, is no longer seen: its barrier contact's module went offline (one
        missed poll is enough), and no other contact of the lane is seen open. Until arm() says
        how it is again, a car off the loop uses an opening left for it, and is judged no further:
        the arm may have come down behind the car let through. Told the arm was down, the lane
        dropped every opening older than `grace_s`, and its contact back still up began an arm-up
        with none: the car let out, slow off the loop, was a tailgate under its own opening
        (Review Rc)."""
        with self._lock:
            state = self._lane(lane)
            if state.up and not state.unseen:
                state.unseen, state.counted_seen = True, frozenset(state.counted)

    def loop_lost(self, lane: str) -> None:
        """The lane's loop no longer counts as on (its module went offline with a car on it): not a
        car that passed."""
        with self._lock:
            self._lane(lane).loop_on = False

    def loop(self, lane: str, on: bool, now: float) -> Tailgate | None:
        """The lane's first loop saw a car arrive (on), or its last one went off: a car passed,
        judged if the arm is up."""
        with self._lock:
            state = self._lane(lane)
            if on == state.loop_on:
                return None
            state.loop_on = on
            if on:
                state.arrived_up, state.on_loop_refused = state.up, None
                return None
            if not state.up or state.held:
                return None
            _forget(state, now)
            # Covered: the earliest opening given is used (unused is kept oldest first).
            earliest = next((key for key in state.unused if key in state.counted), None)
            if earliest is None and state.unseen:
                return None  # perhaps backed off under an arm come down: not judged
            state.passed += 1
            if earliest is not None:
                del state.unused[earliest]
                return None
            refused = state.on_loop_refused if state.arrived_up else None
            plate, reason = refused or self._recent_refusal(state, now)
            state.refused = None
            openings = len(state.counted) + state.used_forgotten
            return Tailgate(lane, plate, reason, state.passed, openings)

    def _recent_refusal(self, state: _Lane, now: float) -> tuple[str, str]:
        if state.refused is None or now - state.refused[2] > NAMED_WITHIN_S:
            return "", ""
        return state.refused[0], state.refused[1]


def _forget(state: _Lane, now: float) -> None:
    """Drops the openings counted for the arm-up whose car was last decided COUNTED_FOR_S ago,
    kept oldest first (decided again, a key moves to the end). One a car used is still counted
    among the arm-up's openings: `passed` counts that car, and a tailgate's alarm says both of
    the same cars (before Review 59g, "10 let through, 31 passed" under an arm stuck up for half
    an hour with one car unpaid)."""
    counted = state.counted
    while counted:
        oldest, at = next(iter(counted.items()))
        if now - at <= COUNTED_FOR_S:
            return
        del counted[oldest]
        if state.unused.pop(oldest, None) is None:
            state.used_forgotten += 1
