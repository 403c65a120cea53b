"""Combining the readings of one vehicle across frames into one decision per passage.

Pure logic: the caller passes the time (seconds, monotonic) with every frame's readings, so tests
replay recorded sequences exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from plates.reading import Reading

log = logging.getLogger(__name__)

Point = tuple[float, float]
Box = tuple[int, int, int, int]  # x, y, w, h


@dataclass(frozen=True, slots=True)
class LaneDecision:
    text: str
    colour: str
    support: float  # summed confidence of the readings that agreed
    frames: int  # readings that agreed
    at: float  # the time passed in with the deciding frame
    box: tuple[int, int, int, int]  # box of the deciding reading
    # The same car, still in the lane, decided again (it stood repeat_after_s, or the loop asked):
    # not a new arrival.
    again: bool = False


def _inside(point: Point, polygon: Sequence[Point]) -> bool:
    x, y = point
    inside = False
    n = len(polygon)
    for i in range(n):
        (x1, y1), (x2, y2) = polygon[i], polygon[(i + 1) % n]
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def _overlap(a: Box | None, b: Box | None) -> bool:
    """Whether two boxes (x, y, w, h) share any area: readings of one plate where it is."""
    if a is None or b is None:
        return False
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def _near(a: str, b: str) -> bool:
    """Equal, or one character apart: one changed, dropped or added (edit distance 1). The model
    drops a green plate's 8th character now and then (docs/plates.md): 浙K43880 is 浙K43880G."""
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    if abs(len(a) - len(b)) != 1:
        return False
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _apart(readings: Iterable[Reading]) -> set[frozenset[str]]:
    """The pairs of texts read in one frame in separate places (boxes that do not overlap): two
    plates, so two cars, however alike their texts (a queue of fleet cars with consecutive
    numbers, a blue 浙AD1234 before a green 浙AD12345). One plate read twice in a frame is read
    where it is: its boxes overlap."""
    return {
        frozenset((a.text, b.text))
        for a, b in combinations(readings, 2)
        if a.text != b.text and not _overlap(a.box, b.box)
    }


def _union(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    x, y = min(a[0], b[0]), min(a[1], b[1])
    return x, y, max(a[0] + a[2], b[0] + b[2]) - x, max(a[1] + a[3], b[1] + b[3]) - y


@dataclass
class _Vote:
    support: float = 0.0
    frames: int = 0
    colour: str = ""
    box: Box = (0, 0, 0, 0)  # the latest reading's
    span: Box | None = None  # every reading's box in the window: the track of a moving car


@dataclass(slots=True)
class _Held:
    """A plate decided for a car still in the lane: further readings of it do not decide again."""

    decided: float  # when it was last decided (or held)
    seen: float  # when it (or a misread of it, one character off) was last read
    exact: float  # when it was last read exactly
    due: bool = False  # to be decided again: it stood repeat_after_s, or the loop asked
    looped: bool = False  # the loop has said a car arrived since it was decided
    again: bool = False  # its last decision was a car that stayed, decided again


@dataclass
class LaneVoter:
    """Decides once per vehicle passage, as soon as the readings agree enough.

    roi: the lane region, as x, y, w, h or a polygon of frame points; readings whose box centre
    is outside are ignored (a car parked beside the lane).
    decide_at: summed confidence one text needs (one clear reading at 0.985 decides at once;
    three at 0.35 agree to decide).
    margin: a rival text (one character off the leader, or read where the leader is: the same
    car misread) must have less than (1 - margin) of the leader's support. A text read in the
    same frame as the leader, elsewhere (boxes that do not overlap), is another car: no rival.
    window_s: how long readings count.
    gone_after_s: a decided plate not read for this long has left, so it is decided afresh when
    it comes back.
    repeat_after_s: a decided plate still standing in the lane (stopped at the barrier) is
    decided again after this long, so the gate can act on it again.
    rearm_after_s: when the lane's loop detector says a car has arrived (`rearm`), a plate
    decided at least this long ago is decided afresh at once. One decided moments before, as
    the car drove onto the loop, is not decided twice.
    misread_s: a reading one character off a decided plate is that car misread, and keeps it in
    the lane, while the plate itself was read within this long, or until the loop says a car
    has arrived or the plate is due again (repeat_after_s). After both, it may be the next car
    (fleet cars carry consecutive numbers).
    held_for_s: a plate typed at the lane (`hold`) lets go of the held plates not read for this
    long. Frames let a plate go after gone_after_s; while the camera sends none (offline for days,
    the guards typing every car) nothing else would, and every typed plate stayed held.

    One character off: one changed, dropped or added (a green plate read without its 8th
    character is that car). A text is decided only on a frame that reads it: the car is there.
    Every decided plate in view is held on its own (a queue: the car at the barrier and the one
    behind it), each with its own times.
    """

    roi: tuple[int, int, int, int] | Sequence[Point] | None = None
    # Set for the shipped model (docs/plates.md, False admissions): as many registered cars
    # decide on their first frame as the model before it did at 0.96, fewer impostors.
    decide_at: float = 0.985
    margin: float = 0.5
    window_s: float = 4.0
    gone_after_s: float = 3.0
    repeat_after_s: float = 15.0
    rearm_after_s: float = 3.0
    misread_s: float = 1.0
    held_for_s: float = 60.0
    min_confidence: float = 0.2
    _readings: list[tuple[float, Reading]] = field(default_factory=list, repr=False)
    _held: dict[str, _Held] = field(default_factory=dict, repr=False)
    _held_at_loop: set[str] = field(default_factory=set, repr=False)  # in the lane when the loop fired
    # The held plates the last frame read showed: each, and whether read exactly (not one off).
    _shown: dict[str, bool] = field(default_factory=dict, repr=False)

    def _in_lane(self, r: Reading) -> bool:
        if self.roi is None:
            return True
        x, y, w, h = r.box
        centre = (x + w / 2, y + h / 2)
        roi = list(self.roi)
        if len(roi) == 4 and all(isinstance(v, (int, float)) for v in roi):
            rx, ry, rw, rh = (float(v) for v in roi)  # type: ignore[arg-type]
            return rx <= centre[0] <= rx + rw and ry <= centre[1] <= ry + rh
        return _inside(centre, roi)  # type: ignore[arg-type]

    def reset(self) -> None:
        self._readings.clear()
        self._held.clear()
        self._held_at_loop.clear()
        self._shown.clear()

    def rearm(self, now: float) -> None:
        """A car has arrived on the lane's loop: each held plate decided long enough ago is a car
        that stopped at the barrier (or came back), and its next readings decide again."""
        self._held_at_loop = set(self._held)
        for text, held in self._held.items():
            held.looped = True
            if not held.due and now - held.decided >= self.rearm_after_s:
                log.debug("plate %s: the loop says a car is here, deciding again", text)
                self._make_due(text, held)

    def hold(self, text: str, now: float) -> None:
        """`text` was decided another way (a guard typed the plate the camera could not read):
        treat it as decided here too, so the car is not decided again as the camera reads it.
        Plates not read for held_for_s are let go first: a car in front of the lane within the last
        minute keeps its place (the in-front rules of a trigger read it), one gone longer has left."""
        for gone in [t for t, held in self._held.items() if now - held.seen >= self.held_for_s]:
            del self._held[gone]
        self._held[text] = _Held(decided=now, seen=now, exact=now)
        self._drop_readings_near(text)

    def still(self, now: float) -> None:
        """The camera's picture has not changed since the last frame read (a still lane between two
        key frames): the held plates that frame showed are still read at `now`, as it read them.
        Nothing is decided, and no plate is made due again: a repeated picture is no new look at
        the lane, and a car is decided again only on a frame that reads it (repeat_after_s). A
        plate already gone (unseen for gone_after_s: the picture repeated after a stall) stays gone."""
        for text, exact in self._shown.items():
            held = self._held.get(text)
            if held is None or now - held.seen > self.gone_after_s:
                continue
            held.seen = max(held.seen, now)
            if exact:
                held.exact = max(held.exact, now)

    def on_loop_still(self, texts: Iterable[str], now: float) -> None:
        """The loop detector the cars of `texts` arrived on has stayed on since they were decided, at
        a camera that read nothing meanwhile (trigger mode): those still held are in the lane at
        `now`, as read then. Nothing is decided: the next frame that reads one decides it again as
        the same car once it is due (repeat_after_s), as a car standing at the barrier is; one that
        drove off is not read, and is gone after gone_after_s. A plate already let go stays gone."""
        for text in texts:
            held = self._held.get(text)
            if held is not None:
                held.seen = max(held.seen, now)
                held.exact = max(held.exact, now)

    def in_lane(self, text: str, now: float) -> bool:
        """Whether `text` was decided (or held) and has not left the lane at `now`: read (or a misread
        of it) within gone_after_s. A plate no frame has shown for that long has left, also where
        no frame came since (a camera gone offline still "saw" the last car it read)."""
        held = self._held.get(text)
        return held is not None and now - held.seen <= self.gone_after_s

    def arrived(self, text: str) -> bool:
        """Whether `text` was not in the lane when the loop last said a car arrived: the car on the
        loop, not the one in front of it still in the picture as it pulls away."""
        return text not in self._held_at_loop

    def decided_again(self, text: str) -> bool:
        """True while `text` is held and its last decision was the same car, still in the lane,
        decided again (after repeat_after_s, or because the loop asked): not a new arrival."""
        held = self._held.get(text)
        return held is not None and held.again

    def add(self, readings: Iterable[Reading], now: float) -> LaneDecision | None:
        """Feed one frame's readings; returns a decision at most once per passage."""
        fresh = [r for r in readings if r.confidence >= self.min_confidence and self._in_lane(r)]
        self._update_held(fresh, now)
        self._readings = [(t, r) for t, r in self._readings if now - t <= self.window_s]
        apart_now = _apart(fresh)
        voting = [r for r in fresh if self._votes(r, now, apart_now)]
        self._readings += [(now, r) for r in voting]
        frames: dict[float, list[Reading]] = {}  # the window's readings, frame by frame
        for t, r in self._readings:
            frames.setdefault(t, []).append(r)
        apart = {pair for frame in frames.values() for pair in _apart(frame)}
        votes: dict[str, _Vote] = {}
        for _, r in self._readings:
            v = votes.setdefault(r.text, _Vote())
            v.support += r.confidence
            v.frames += 1
            v.colour, v.box, v.span = r.colour, r.box, _union(v.span, r.box)
        if not votes:
            return None
        chosen = self._leader(votes, {r.text for r in voting}, apart)
        if chosen is None:
            return None
        text, best = chosen
        again = text in self._held  # only a held plate made due again gets here
        self._held[text] = _Held(decided=now, seen=now, exact=now, again=again)
        self._shown[text] = True
        # Its misreads (one character off) in the window are this car too, not a next one; a
        # text read beside it in a frame is another car, and keeps its readings.
        self._drop_readings_near(text, keep={t for pair in apart if text in pair for t in pair} - {text})
        return LaneDecision(text, best.colour, best.support, best.frames, now, best.box, again)

    def _leader(
        self, votes: dict[str, _Vote], in_frame: set[str], apart: set[frozenset[str]]
    ) -> tuple[str, _Vote] | None:
        """The best-supported text that has enough support and a clear lead over its rivals:
        the other texts that may be this same car misread (one character off, or read along the
        same track: their boxes in the window overlap, a moving car's too). Alternating misreads
        never build a lead, however many frames they span; another car's plate in view (the one
        queued behind) is no rival, so each car is decided. A text read in the same frame as this
        one in another place (apart) is such a plate, however alike: 皖A12346 queued behind
        皖A12345, or a green 浙AD12345 behind a blue 浙AD1234, seen together from the first frame.

        Only a text read in this frame (in_frame) is decided: one that gains its lead as a rival
        ages out, its car gone, would open the gate for nobody and mark its plate on empty road.
        It still counts as a rival of the others, and a car standing at the barrier, read again
        on the next frame or so, is decided then."""
        ranked = sorted(votes.items(), key=lambda kv: -kv[1].support)
        for text, best in ranked:
            if best.support < self.decide_at:
                return None
            if text not in in_frame:
                continue
            rival = max(
                (
                    v.support
                    for t, v in ranked
                    if t != text
                    and frozenset((t, text)) not in apart
                    and (_near(t, text) or _overlap(v.span, best.span))
                ),
                default=0.0,
            )
            if rival < (1.0 - self.margin) * best.support:
                return text, best
        return None

    def _update_held(self, fresh: list[Reading], now: float) -> None:
        for text, held in list(self._held.items()):
            if now - held.seen > self.gone_after_s:
                # Not read for that long before this frame: it left, and a reading of it now is
                # the car coming back, decided afresh.
                log.debug("plate %s left the lane", text)
                del self._held[text]
            elif not held.due and now - held.decided >= self.repeat_after_s:
                log.debug("plate %s still in the lane: deciding again", text)
                self._make_due(text, held)
        self._shown = {}
        for r in fresh:  # a reading of a held plate, or one character off it, is that car still here
            for text, held in self._held.items():
                if r.text == text:
                    held.seen = held.exact = now
                    self._shown[text] = True
                elif _near(r.text, text):
                    held.seen = now
                    self._shown.setdefault(text, False)

    def _votes(self, r: Reading, now: float, apart: set[frozenset[str]]) -> bool:
        """Whether a reading counts towards a decision: not a held plate (unless it is due to be
        decided again), nor one character off a held plate: that car misread. Only once the
        plate is due or the loop has said a car arrived, and the plate itself has not been read
        for misread_s, may such a reading be the next car (a fleet car one character off); or
        at once where the plate itself is read in this frame in another place (apart): the car
        queued behind it."""
        held = self._held.get(r.text)
        if held is not None:
            return held.due
        return all(
            (other.due or other.looped) and now - other.exact > self.misread_s
            or frozenset((r.text, text)) in apart
            for text, other in self._held.items()
            if _near(r.text, text)
        )

    def _make_due(self, text: str, held: _Held) -> None:
        held.due = True
        self._drop_readings_near(text)

    def _drop_readings_near(self, text: str, keep: Container[str] = frozenset()) -> None:
        self._readings = [(t, r) for t, r in self._readings if r.text in keep or not _near(r.text, text)]
