"""Patrol rounds (电子巡更): when rounds are due, and whether each was done, late or missed.

Pure: the schedule, the taps and the current time come in as parameters. A round is due every
`every` from the start of the route's hours until their end; it takes the taps from its due time
until the next round is due. All checkpoints tapped within `allowed` of the due time: done; all
tapped later, but before the next round: late; not all tapped by then: missed. Past `allowed` and
still unfinished, it is overdue (the alarm for a late round is raised then, not at the end).

Only a guard's tap counts towards a round (not_counted, decided as the tap is recorded): with
`[patrol] guard_cards` listed, a tap by one of them; without, a tap by any card the register does
not hold. A resident's door card tapped at the checkpoints is on record, and never a round walked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from gateway.core.card_forms import TenDigits, agreed_bits, card_id
from gateway.core.windows import Window
from gateway.timefmt import later

Status = Literal["pending", "overdue", "done", "late", "missed"]
FINAL = ("done", "late", "missed")
# What the register says of the card tapped (the store looks it up): not held, held (a resident's
# or a pass's), or held and blocked (the card, or its holder).
OnRegister = Literal["", "registered", "blocked"]
# Why a tap is not a guard's: a card not in [patrol] guard_cards, a card the register holds (no
# guard_cards listed), a card blocked on the register (whatever is listed).
NotCounted = Literal["not_a_guard_card", "registered_card", "blocked_card"]


@dataclass(frozen=True, slots=True)
class RouteSpec:
    id: str
    name: str
    checkpoints: tuple[str, ...]
    window: Window
    every: timedelta
    allowed: timedelta


@dataclass(frozen=True, slots=True)
class Tap:
    at: datetime
    checkpoint: str
    not_counted: NotCounted | None = None  # why it is not a guard's; None: it counts (an older version's too)

    @property
    def counted(self) -> bool:
        return self.not_counted is None


# How a listed all-digit 10-digit number is meant: as the printed decimal number, as a hex reader's
# id, or "either" (a site with a hex EM4100 reader: the installer may have copied the number printed
# on the card, 0372653390, or the one a hex reader gives, and cannot be told which).
ListedAs = TenDigits | Literal["either"]


@dataclass(frozen=True, slots=True)
class GuardCards:
    """`[patrol] guard_cards` (None: not listed), 10-digit all-digit numbers meant as `listed_as`
    says (gateway/store/patrol.py PatrolCards.of: "either" where a reader of the site gives hex)."""

    cards: tuple[str, ...] | None = None
    listed_as: ListedAs = "decimal"


def not_counted(
    card: str, read_as: TenDigits, on_register: OnRegister, guards: GuardCards
) -> NotCounted | None:
    """Why a tap of `card` (as its checkpoint reads 10 digits: `read_as`) is not a guard's, or None
    for one that counts towards a round.

    A card blocked on the register never counts (a guard's lost card too). With guard cards listed,
    theirs count and no other; without (a site set up before the list), any card but one the
    register holds: the round a resident's door card "walked" stays late or missed, its alarms raised."""
    if on_register == "blocked":
        return "blocked_card"
    if guards.cards is not None:
        return None if _listed(card, read_as, guards) else "not_a_guard_card"
    return "registered_card" if on_register else None


def _listed(card: str, read_as: TenDigits, guards: GuardCards) -> bool:
    """Whether the card read is a listed guard card: the same number, or one of another form that
    agrees with it on every bit both carry (a printed number listed, read by a hex checkpoint). An
    all-digit 10-digit number listed "either" way is the card it is as a printed number and the one
    it is as a hex id (0372653390: the card printed so, and the card a hex reader reads so)."""
    cards = guards.cards or ()
    if card in cards:
        return True
    read = card_id(card, read_as)
    if read is None:
        return False
    listed_as = guards.listed_as
    readings: tuple[TenDigits, ...] = ("decimal", "hex") if listed_as == "either" else (listed_as,)
    listed = (card_id(value, reading) for value in cards for reading in readings)
    return any(agreed_bits(read, guard) for guard in listed if guard is not None)


@dataclass(frozen=True, slots=True)
class RoundResult:
    route: str
    due: datetime
    status: Status
    finished_at: datetime | None = None
    missing: tuple[str, ...] = ()
    # The missing checkpoints a card that does not count tapped in the round, with why (each
    # checkpoint once, in the route's order; the first tap's why): "not tapped" would be untrue.
    not_counted: tuple[tuple[str, NotCounted], ...] = ()


def due_times(route: RouteSpec, start: datetime, end: datetime, tz: ZoneInfo) -> list[datetime]:
    """Every round of the route due in [start, end), in time order, in UTC.

    Rounds are `every` of elapsed time apart from the start of the route's hours, so on the night
    the clocks go back the repeated hour has its rounds twice (hourly: 02:00 summer time, then
    02:00 winter time), and on the night they go forward none falls in the hour that does not exist.
    In UTC because those two 02:00s are equal as local times of one zone (fold is ignored)."""
    w = route.window
    out = []
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        if day.weekday() in w.weekdays:
            closes_day = day + timedelta(days=1) if w.end <= w.start else day
            due, closes = _instant(day, w.start, tz), _instant(closes_day, w.end, tz)
            while due < closes:
                if start <= due < end:
                    out.append(due)
                due += route.every
        day += timedelta(days=1)
    return out


def round_closes(route: RouteSpec, due: datetime, tz: ZoneInfo) -> datetime:
    """When the round due at `due` stops taking taps: when its next round is due, at most `every`
    after it (the last round of the route's hours). The last round of hours that `every` does not
    divide closes early: 00:00-23:59 every 150 minutes, 22:30's round closes when the next day's
    00:00 is due, not at 01:00 (one walk at 00:10 counted for both, and 22:30's, walked by nobody,
    was judged late rather than missed)."""
    opens = due.astimezone(UTC)
    following = due_times(route, opens + timedelta(microseconds=1), opens + route.every, tz)
    return following[0] if following else opens + route.every


def still_open(
    route: RouteSpec, start: datetime, end: datetime, now: datetime, tz: ZoneInfo
) -> list[datetime]:
    """The rounds due in [start, end) that may still change at `now`: their next round is not due."""
    return [
        due
        for due in due_times(route, max(start, later(now, -route.every)), end, tz)
        if now < round_closes(route, due, tz)
    ]


def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """A local time of the day, in UTC: the first of a time the clocks go back over, and for one
    they skip (02:30 the night they go forward) the instant an hour later on the new clock."""
    return datetime.combine(day, at.replace(tzinfo=None), tz).astimezone(UTC)


def evaluate(
    route: RouteSpec,
    due: datetime,
    taps: list[Tap],
    now: datetime,
    found_overdue: bool = False,
    closes: datetime | None = None,
) -> RoundResult:
    """The state of one round at `now`, from the guards' taps at the route's checkpoints (a tap not
    `counted` walks no round), taken until `closes` (round_closes: the next round due; `every` after
    `due` where not given).

    A round `found_overdue` (on record as overdue: unfinished at its deadline, and the centre told
    it was late) is late at best: judged again on a route edited since (a checkpoint taken out,
    more `round_minutes`), it would otherwise read done on time, or pending again."""
    # in UTC: a local time plus a timedelta is wall-clock arithmetic, wrong across a clock change
    opens = due.astimezone(UTC)
    closes = opens + route.every if closes is None else closes.astimezone(UTC)
    deadline = opens + route.allowed
    first: dict[str, datetime] = {}
    others: dict[str, tuple[datetime, NotCounted]] = {}  # the first tap not counted, by checkpoint
    for tap in taps:
        if not (tap.checkpoint in route.checkpoints and opens <= tap.at < closes and tap.at <= now):
            continue
        if tap.not_counted is not None:
            if tap.checkpoint not in others or tap.at < others[tap.checkpoint][0]:
                others[tap.checkpoint] = (tap.at, tap.not_counted)
        elif tap.checkpoint not in first or tap.at < first[tap.checkpoint]:
            first[tap.checkpoint] = tap.at
    missing = tuple(c for c in route.checkpoints if c not in first)
    if not missing:
        finished = max(first.values())
        on_time = finished <= deadline and not found_overdue
        return RoundResult(route.id, due, "done" if on_time else "late", finished)
    tapped = tuple((c, others[c][1]) for c in missing if c in others)
    if now >= closes:
        return RoundResult(route.id, due, "missed", None, missing, tapped)
    if now >= deadline or found_overdue:
        return RoundResult(route.id, due, "overdue", None, missing, tapped)
    return RoundResult(route.id, due, "pending", None, missing, tapped)
