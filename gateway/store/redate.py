"""Rows dated on a wrong clock, moved once NTP sets it right (a Pi has no real-time clock: it boots on
fake-hwclock's stale time): what this boot wrote on the old clock, so that an alarm's age, a repair
deadline, the report's downtime, a car's fee, a visitor's pass, materials carried out, a patrol
round and a guard's login are true: the rows of this boot (BOOT_TABLES, by id), and what this boot
wrote onto older ones (an old alarm cleared, a car inside since before handed its slot or paying
ahead at the booth, a visitor registered before checked out). All of a step is moved in one
transaction with the audit row that marks it done, by which a run restarted within the boot knows
not to move it again (BootClock.resume).
Patrol taps are append-only, as the reader recorded them: the mark says which were written on the
old clock, and they are read at their true time (Boot.tap_time). A patrol round first judged on
the old clock is unjudged (_undo_rounds): one due while the box was off for good, one due while it
was up to be judged again on the true clock.
Only the stale boot clock being set is re-dated (gateway/parking/boot_clock.py, sets_boot_clock): a
running clock's step, a glitch or its correction, leaves every row as it was written."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import astuple, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Literal

from gateway.store.alarms import end_alarm, tell_redated
from gateway.store.audit import audit, transaction
from gateway.store.materials import get_materials, materials_record
from gateway.store.outbox import enqueue
from gateway.store.passes import get_pass, upstream
from gateway.store.payments import payment_record
from gateway.store.report_rebuilds import keep_rebuilds
from gateway.timefmt import from_db, later, local_iso, to_db

# The tables whose rows of this boot are known by id: the first id of each is kept as the box boots
# (gateway/parking/boot_clock.py, boot-alarms.json). The audit's is where this boot's re-dating marks
# begin, and its alarm acknowledgements; the payments' where the booth payments it took for a car
# parked since before it begin (_older_stays); the gateway's downtime's, where the stretches its
# starts kept begin (_gateway_down).
BOOT_TABLES = (
    "alarms",
    "stays",
    "passes",
    "patrol_taps",
    "materials_out",
    "audit",
    "payments",
    "gateway_down",
)
REDATED = "clock.redate"  # the audit action that marks a step re-dated
ACKNOWLEDGED = "alarm.acknowledge"  # the audit action of an alarm acknowledged (target alarm:<id>)
CHECKED_OUT = "*.check_out"  # the audit actions of a pass checked out (GLOB; target pass:<id>)
PATROL_ALARMS = ("patrol_late", "patrol_missed")  # a round's alarms (gateway/store/patrol.py)

First = Mapping[str, int]
ClockState = Literal["stale", "set", "running"]
# A car inside's billing stop and first handover (stays.billed_until, handed_over_at) as stored.
StayTimes = tuple[str | None, str | None]


@dataclass(frozen=True, slots=True)
class TapsOff:
    """This boot's patrol taps up to id `last` were written on a clock `by` behind the true one."""

    last: int
    by: timedelta


@dataclass(frozen=True, slots=True)
class StaleRound:
    """A patrol round first judged while the clock may have been the stale one the box booted on:
    its route, when it was due and its deadline (as stored), and the source its alarms have."""

    route: str
    due_at: str
    deadline: str
    source: str


@dataclass(frozen=True, slots=True)
class Boot:
    """This boot as its rows know it: the kernel's boot id; the first id of each of BOOT_TABLES
    written since the box booted (the rows a stale boot clock may have dated wrong); when it booted
    on the wall clock those rows are dated on (epoch seconds; None until a run keeps it); its
    patrol taps written on an old clock; and whether its clock may still be the stale one it booted
    on ("stale"), was set right by a step that re-dated its rows ("set"), or a running clock's step
    was seen ("running": no later step is re-dated); the older alarms still open as the box booted
    (a clearing of one is this boot's), and the clock step alarms it raised as of when an earlier
    run saw the step (their raise stays too); the monotonic time until which, after a
    running clock's step, the wall clock is not trusted (the operations thread's CLOCK_CONFIRM);
    when (monotonic) the first step of that pause was seen, while the patrol rounds since are not
    judged yet (None: no pause to catch up on); the cars inside as the box booted, with their
    billing stop and handover then (what this boot writes onto them differs); the patrol rounds
    first judged while the clock may have been the stale one (unjudged once it is set); and those
    of them due while the box was up, for the patrol check to judge again on the true clock. And
    when (monotonic) the step that set the clock was seen (None: none has), and whether the one
    nudge after it that sets the boot clock too was taken (gateway/parking/boot_clock.py). And the
    database these rows are in, by its outbox stream (None: one without streams). And the newest
    time the database knew before this boot (its last heartbeat, or newest access record; epoch
    seconds), until the clock this boot runs on is found far past it and alarmed (None: nothing to
    judge it by, or told; gateway/parking/boot_clock.py far_past). And, once a clock far ahead is
    alarmed (that boot's, or a running clock's step), the newest time known before it (epoch
    seconds), until its pause is over: a reboot meanwhile judges its boot by it, not by the
    heartbeats the clock ahead wrote (None: no such pause)."""

    id: str
    first: dict[str, int]
    clock: float | None = None
    taps_off: tuple[TapsOff, ...] = ()
    clock_state: ClockState = "stale"
    older_open: frozenset[int] = frozenset()
    trusted_from: float = 0.0
    paused_since: float | None = None
    older_stays: Mapping[int, StayTimes] = field(default_factory=dict)
    stale_rounds: tuple[StaleRound, ...] = ()
    judge_again: tuple[StaleRound, ...] = ()
    clock_set_at: float | None = None
    nudged: bool = False
    database: str | None = None
    known_before: float | None = None
    far_from: float | None = None

    def tap_time(self, tap_id: int, at: datetime) -> datetime:
        """When a tap was really made: its time as recorded, moved by the steps of the clock since."""
        if tap_id < self.first["patrol_taps"]:
            return at
        return at + sum((off.by for off in self.taps_off if tap_id <= off.last), timedelta(0))


@dataclass(frozen=True, slots=True)
class Step:
    """A step of the wall clock seen at `now`: when the box booted on the clock before it (`old`)
    and after it (`new`), in seconds since the epoch (the wall clock less the monotonic one)."""

    old: float
    new: float
    now: datetime

    @property
    def by(self) -> timedelta:
        return timedelta(seconds=self.new - self.old)

    @property
    def booted(self) -> datetime:
        """When the box booted, on the old clock: nothing of this boot is dated before it."""
        return datetime.fromtimestamp(self.old, UTC)

    @property
    def booted_now(self) -> datetime:
        """When the box booted, on the new clock: its true boot once the clock is set right (the
        kernel's, whatever restarts of the service came since)."""
        return datetime.fromtimestamp(self.new, UTC)

    def wrote(self, at: datetime) -> bool:
        """Whether `at` was written on the old clock: before the old clock's `now` when it was
        behind, after `now` when it was ahead."""
        return at <= later(self.now, -self.by) if self.by > timedelta(0) else at > self.now

    def of_boot(self, at: datetime) -> bool:
        """Written on the old clock since the box booted (rows with no id to tell this boot's by)."""
        return self.wrote(at) and (self.by < timedelta(0) or at >= self.booted)

    def ran_in(self, start: datetime, end: datetime) -> bool:
        """Whether the old clock read a time from `start` to before `end` since the box booted: a
        row of the boot written then is dated in those hours (a report's period) until re-dated."""
        return start <= later(self.now, -self.by) and end > self.booted


def redate(
    conn: sqlite3.Connection,
    boot: Boot,
    steps: Sequence[Step],
    pass_hours: timedelta,
    rounds_before: datetime,
) -> Boot:
    """Move this boot's rows by `steps`, in order, and mark it done, all in one transaction: the
    rows were dated on the clock `boot.clock`, and are now on the last step's. A pass whose window
    the guard left empty got `pass_hours` from the clock. The patrol rounds first judged on the
    old clock are unjudged: those with a deadline from `rounds_before` on (the box's true boot,
    less the restart grace) are left to the patrol check to judge again (Boot.judge_again).
    The reports kept that counted the rows on their old dates are marked to be rebuilt in the same
    transaction (gateway/store/report_rebuilds.py): a power cut before the rebuild leaves it to the
    next run, not to nobody. Returns the boot as its rows now know it."""
    again = _judged_again(boot.stale_rounds, rounds_before)
    with transaction(conn):
        moved = 0
        for step in steps:
            moved += sum(what(conn, boot.first, step) for what in _what_moves(pass_hours, boot))
            boot = replace(boot, taps_off=(*boot.taps_off, *_taps_off(conn, boot, step)))
        keep_rebuilds(conn, reports_on_old_clock(conn, steps), steps[-1].now)
        mark = {
            "from": boot.clock,
            "to": steps[-1].new,
            "by_s": sum(s.by.total_seconds() for s in steps),
            "rows": moved,
            "taps": [[off.last, off.by.total_seconds()] for off in boot.taps_off],
            "rounds_undone": _undo_rounds(conn, boot.stale_rounds, steps[-1].now),
            "rounds_judged_again": [list(astuple(r)) for r in again],
        }
        audit(conn, steps[-1].now, "gateway", REDATED, f"boot:{boot.id}", json.dumps(mark))
    return replace(boot, clock=steps[-1].new, stale_rounds=(), judge_again=(*boot.judge_again, *again))


def reports_on_old_clock(conn: sqlite3.Connection, steps: Sequence[Step]) -> list[date]:
    """The days of the reports kept whose period the old clock of a step ran in since the boot: they
    may count the boot's rows on the dates the steps moved them from (a booth payment taken on the
    stale Saturday, which is Monday's now)."""
    rows = conn.execute("SELECT day, period_start, period_end FROM daily_reports")
    return [
        date.fromisoformat(day)
        for day, start, end in rows
        if any(step.ran_in(datetime.fromisoformat(start), datetime.fromisoformat(end)) for step in steps)
    ]


def redated(conn: sqlite3.Connection, boot: Boot) -> Boot:
    """The boot as its re-datings left it: on the clock kept (boot-alarms.json), or the one a
    re-dating moved its rows to since (its mark; the file not written after it, the run killed in
    between, with the rounds it left to judge again), with the taps its marks found written on an
    old clock, and no rounds judged on an old clock left to undo (a mark's re-dating undid them).
    A mark's re-dating set the stale clock, or was its nudge (_set_by_mark)."""
    marks = conn.execute(
        "SELECT detail FROM audit WHERE id >= ? AND action = ? AND target = ? ORDER BY id",
        (boot.first["audit"], REDATED, f"boot:{boot.id}"),
    )
    for (detail,) in marks:
        mark = json.loads(detail)
        if boot.clock is not None and mark["from"] is not None and abs(mark["from"] - boot.clock) < 1:
            again = tuple(StaleRound(*fields) for fields in mark.get("rounds_judged_again", []))
            boot = replace(_set_by_mark(boot), clock=mark["to"], judge_again=(*boot.judge_again, *again))
        taps = tuple(TapsOff(last, timedelta(seconds=by)) for last, by in mark["taps"])
        boot = replace(boot, taps_off=taps, stale_rounds=())
    return boot


def _set_by_mark(boot: Boot) -> Boot:
    """The boot after a re-dating the file did not keep: the first set the stale clock (a later
    step is no first one; when it came was not kept, so it takes no nudge either), the next was its
    nudge (sets_boot_clock in gateway/parking/boot_clock.py)."""
    if boot.clock_state == "stale":
        return replace(boot, clock_state="set")
    return replace(boot, nudged=True) if boot.clock_state == "set" else boot


def _taps_off(conn: sqlite3.Connection, boot: Boot, step: Step) -> tuple[TapsOff, ...]:
    """The taps of this boot written on the clock the step set right: up to the last one it wrote
    (taps are written in id order)."""
    rows = conn.execute("SELECT id, at FROM patrol_taps WHERE id >= ?", (boot.first["patrol_taps"],))
    wrote = [tap_id for tap_id, at in rows if step.wrote(boot.tap_time(tap_id, datetime.fromisoformat(at)))]
    return (TapsOff(max(wrote), step.by),) if wrote else ()


_ALARM_TIMES = ("raised_at", "cleared_at", "acknowledged_at")


def _alarms(conn: sqlite3.Connection, first: First, step: Step, older_open: frozenset[int]) -> int:
    """This boot's alarms, and an older one's clearing or acknowledgement this boot wrote, on the old
    clock (a fault from before a power cut that came back): its true age, not minutes. Which are
    this boot's is known by what belongs to the boot, not by their time: fake-hwclock saves the time
    once an hour, so the boot clock can read before the last things written before the power cut (a
    repair at 10:10, the Pi booting on 10:05). An older alarm's clearing is this boot's when it was
    open as the box booted (`older_open`; or raised by this boot as of a time known right, a clock
    step's alarm an earlier boot kept unraised), its acknowledgement when this boot's audit has it. Its
    other times are true times and stay (one cleared after a running-clock step may read before its
    raise). The centre got their records dated on the old clock: those moved go again, flagged
    redated (tell_redated)."""
    acknowledged = _acknowledged(conn, first)
    older = sorted(older_open | acknowledged)
    marks = ", ".join("?" * len(older))
    rows = conn.execute(
        f"SELECT id, {', '.join(_ALARM_TIMES)} FROM alarms WHERE id >= ? OR id IN ({marks})",
        (first["alarms"], *older),
    ).fetchall()
    moved_rows = 0
    for alarm_id, *stored in rows:
        # the columns of _ALARM_TIMES this boot wrote: all of its own alarm's
        ours = (
            (True, True, True)
            if alarm_id >= first["alarms"] and alarm_id not in older_open
            else (False, alarm_id in older_open, alarm_id in acknowledged)
        )
        moved = _moved(stored, step, partial(_wrote_column, ours))
        if moved != stored:
            moved_rows += 1
            conn.execute(
                "UPDATE alarms SET raised_at = ?, cleared_at = ?, acknowledged_at = ? WHERE id = ?",
                (*moved, alarm_id),
            )
            tell_redated(conn, alarm_id, dict(zip(_ALARM_TIMES, stored, strict=True)), step.now)
    return moved_rows


def _wrote_column(ours: tuple[bool, ...], column: int, _at: datetime) -> bool:
    return ours[column]


def _acknowledged(conn: sqlite3.Connection, first: First) -> frozenset[int]:
    """The alarms acknowledged this boot, by its audit rows (append-only, kept half a year)."""
    return _audited(conn, first, ACKNOWLEDGED, "alarm")


def _checked_out(conn: sqlite3.Connection, first: First) -> frozenset[int]:
    """The passes checked out this boot, by its audit rows (gateway/store/passes.py, check_out)."""
    return _audited(conn, first, CHECKED_OUT, "pass")


def _audited(conn: sqlite3.Connection, first: First, actions: str, kind: str) -> frozenset[int]:
    """The ids of the `kind` rows (target kind:<id>) this boot's audit has an action of (GLOB)."""
    rows = conn.execute("SELECT target FROM audit WHERE id >= ? AND action GLOB ?", (first["audit"], actions))
    kind_ids = (str(target).partition(":") for (target,) in rows)
    return frozenset(int(number) for named, _, number in kind_ids if named == kind and number.isdigit())


# A row moved, told upstream in the same transaction: (its rowid, its times before the move, by column).
Told = Callable[[sqlite3.Connection, int, Mapping[str, str | None], Step], None]

_PAYMENT = """
SELECT subject, plate, stay_id, lane, at, amount_fen, method, receipt, actor FROM payments WHERE rowid = ?
"""


def _payment_redated(
    conn: sqlite3.Connection, rowid: int, before: Mapping[str, str | None], step: Step
) -> None:
    """A payment went upstream dated on the old clock, and the centre totals its days from those
    records: a `payment` record with `"change": "redated"` moves it to its true time there too, or
    the centre counts it on one day and the daily report on another. It repeats the payment, so
    that the newest record of a receipt holds. The audit trail keeps `payment.take` as written
    (append-only), beside the re-dating's mark."""
    subject, plate, stay_id, lane, at, amount_fen, method, receipt, actor = conn.execute(
        _PAYMENT, (rowid,)
    ).fetchone()
    was, now = from_db(before["at"]), from_db(at)
    if was is None or now is None or was == now:
        return
    kind, _, number = subject.partition(":")
    pass_id = int(number) if plate is None and kind != "plate" and number.isdigit() else None
    local = step.now.tzinfo  # the site's offset, as every record's time carries it
    record = payment_record(
        now.astimezone(local), plate, pass_id, stay_id, lane, amount_fen, method, receipt, actor
    )
    enqueue(
        conn,
        "payment",
        {**record, "change": "redated", "previous_at": was.astimezone(local).isoformat()},
        step.now,
    )


# A stay's times dated on its clock (less those _clocked keeps).
_STAY_COLUMNS = ("entered_at", "billed_until", "handed_over_at")


def _stay_redated(
    conn: sqlite3.Connection, stay_id: int, before: Mapping[str, str | None], step: Step
) -> None:
    """A stay's entry or first handover moved: the centre has them as they went up on the old clock
    (a `handover` record's `at`, a `recorded_by_admin` record's `entered_at`, the entry's access
    record) and counts the handover on that day, where the daily report counts it on its true one.
    A `stay` record with `"change": "redated"` gives it the stay's times as they now are, with those
    they went up with; the newest record of a stay holds. `billed_until` is the box's own (no record
    sends it): moved alone, nothing goes up. A time not in `before` (a typed entry, an older stay's
    entry) did not move."""
    plate, entered, handed = conn.execute(
        "SELECT plate, entered_at, handed_over_at FROM stays WHERE id = ?", (stay_id,)
    ).fetchone()
    was_entered, was_handed = before.get("entered_at", entered), before.get("handed_over_at", handed)
    if (was_entered, was_handed) == (entered, handed):
        return
    local = step.now.tzinfo  # the site's offset, as every record's time carries it
    record = {
        "at": local_iso(entered, local),
        "change": "redated",
        "stay_id": stay_id,
        "plate": plate,
        "entered_at": local_iso(entered, local),
        "handed_over_at": local_iso(handed, local),
        "previous_at": local_iso(was_entered, local),
        "previous_handed_over_at": local_iso(was_handed, local),
    }
    enqueue(conn, "stay", record, step.now)


# What is dated on a stay's clock and moves with it: (table, the column naming the stay, its times,
# what tells upstream of a row moved: None where nothing of it went up).
_STAY_TIMES: tuple[tuple[str, str, tuple[str, ...], Told | None], ...] = (
    ("stays", "id", _STAY_COLUMNS, _stay_redated),
    # paid ahead at the booth: grace and fee run from it, and the centre counts it on its day
    ("payments", "stay_id", ("at", "fee_until"), _payment_redated),
    ("validations", "stay_id", ("at",), None),
)


def _stays(conn: sqlite3.Connection, first: First, step: Step, older: Mapping[int, StayTimes]) -> int:
    """The cars inside on this boot's stays whose entry was dated on the old clock: their entry and
    billing start move, so that they pay for their real stay, and so do the payments and the host's
    validation made during the stay on that clock (a fee paid ahead at the booth still covers the
    car; the centre hears that it moved). The access log keeps the entry as the gate recorded it
    (append-only). A car recorded inside with the time it came in given (an admin's, a
    `gateway import-inside` row's: entered_typed) keeps it, a true time as a pass's typed window
    is; recorded as in since now, its entry was the clock's and moves (_true_times). The cars inside
    since before the boot (`older`) have what this boot wrote onto them moved (_older_stays)."""
    stays = conn.execute(
        "SELECT id, entered_typed FROM stays WHERE id >= ? AND exited_at IS NULL", (first["stays"],)
    ).fetchall()
    moved = 0
    for stay_id, typed in stays:
        true = _true_times(conn, first, older, stay_id, typed)
        moved += any(
            [
                _move_rows(
                    conn, table, f"{of_stay} = ?", (stay_id,), _clocked(table, times, true), step, told
                )
                for table, of_stay, times, told in _STAY_TIMES
            ]
        )
    return moved + _older_stays(conn, first, older, step)


def _true_times(
    conn: sqlite3.Connection, first: First, older: Mapping[int, StayTimes], stay_id: int, typed: int | None
) -> tuple[str, ...]:
    """The times of a stay of this boot that are true ones, not the old clock's: an entry a person
    typed, and with it a handover at an exit from before the boot (_handed_on_before_boot). Of a
    stay whose entry was the clock's, all move: a handover the old clock read as after its entry
    stays after it."""
    if not typed:
        return ()
    return ("entered_at", *_handed_on_before_boot(conn, first, older, stay_id))


# What this boot may write onto a car inside since before it: its billing stopped, the slot handed
# to it (its entry is a true time).
_OLDER_STAY_COLUMNS = ("billed_until", "handed_over_at")


def _older_stays(conn: sqlite3.Connection, first: First, older: Mapping[int, StayTimes], step: Step) -> int:
    """The cars still inside that were inside as the box booted (`older`: their billing stop and
    handover then): what this boot wrote onto them on the old clock, the slot handed to one when
    the slot's other car left, moves, so that it pays to its real handover, not days short (and
    the centre hears it, _stay_redated). Which times this boot wrote is known by what they were as
    the box booted, not by their time: fake-hwclock's boot clock can read before a handover made
    just before the power cut, a true time that stays; so does one given back since from such an
    exit (_handed_on_before_boot). The booth payments this boot took for them move too
    (_older_payments)."""
    moved = 0
    for stay_id, as_booted in older.items():
        row = conn.execute(
            "SELECT billed_until, handed_over_at FROM stays WHERE id = ? AND exited_at IS NULL", (stay_id,)
        ).fetchone()
        if row is None or tuple(row) == tuple(as_booted):
            continue
        stored = list(row)
        true = _handed_on_before_boot(conn, first, older, stay_id)
        ours = tuple(
            now != then and column not in true
            for column, now, then in zip(_OLDER_STAY_COLUMNS, stored, as_booted, strict=True)
        )
        new = _moved(stored, step, partial(_wrote_column, ours))
        if new != stored:
            conn.execute(
                "UPDATE stays SET billed_until = ?, handed_over_at = ? WHERE id = ?", (*new, stay_id)
            )
            _stay_redated(conn, stay_id, dict(zip(_OLDER_STAY_COLUMNS, stored, strict=True)), step)
            moved += 1
    return moved + _older_payments(conn, first, older, step)


# The booth's payments are taken on no lane of the site's (gateway/parking/desk_fees.py prepay).
_BOOTH = "booth"
# Of the stays inside as the box booted (a JSON list of ids), those still open.
_STILL_INSIDE = "SELECT id FROM stays WHERE id IN (SELECT value FROM json_each(?)) AND exited_at IS NULL"


def _older_payments(
    conn: sqlite3.Connection, first: First, older: Mapping[int, StayTimes], step: Step
) -> int:
    """The booth payments this boot took on the old clock for the cars inside since before it
    (paid ahead, at a stale Saturday 20:40 for a true Monday 09:40): the moment the money was
    taken moves, so that the car's grace to leave runs from it and the daily report and the centre
    (_payment_redated) count the money on the day it was taken. What the fee was worked out to
    (`fee_until`) stays: the stale clock's quote paid for the car's true entry up to that time, and
    the rest of its stay is owed from there. Found among this boot's payments (by id: BOOT_TABLES)
    by their stay; those of this boot's own stays move with the stay (_stays). Only the booth's,
    and only while the car is still inside (as _older_stays): a fee taken at an exit lane, and any
    payment of a car that has left since, stays with the exit and the charge it settled, dated on
    the clock they are (moved alone, Saturday had a charge settled with no money and Monday money
    for no charge)."""
    where = f"id >= ? AND lane = '{_BOOTH}' AND stay_id IN ({_STILL_INSIDE})"
    args = (first["payments"], json.dumps(list(older)))
    return _move_rows(conn, "payments", where, args, ("at",), step, _payment_redated)


# The stays that left a car's slot (one the car of stay :stay is listed on) at the time the slot
# was handed to it: the exit its handover was taken from.
_HANDED_ON_BY = """
SELECT t.id, s.billed_until IS s.handed_over_at FROM stays s
JOIN slot_vehicles sv ON sv.vehicle_id = s.vehicle_id
JOIN stays t ON t.slot_id = sv.slot_id AND t.exited_at = s.handed_over_at
WHERE s.id = :stay AND t.id != s.id
"""


def _handed_on_before_boot(
    conn: sqlite3.Connection, first: First, older: Mapping[int, StayTimes], stay_id: int
) -> tuple[str, ...]:
    """The stay's handover, and its billing stop with it (where the handover stopped it), where the
    slot was handed on at an exit from before the boot: a car recorded inside since (a car parked
    before the power cut, its slot-mate seen leaving at 08:50 before it, inside.record_inside), or
    given back its handover by a record made again (inside.restore_displaced), is handed the slot
    at that exit's time, a true one, however the stale clock reads it. An exit of this boot (a stay
    of it, or one inside as it booted: `older`) was dated on its clock, and its handover moves."""
    rows = conn.execute(_HANDED_ON_BY, {"stay": stay_id}).fetchall()
    before_boot = [same for left, same in rows if left < first["stays"] and left not in older]
    if not before_boot:
        return ()
    return ("handed_over_at", "billed_until") if before_boot[0] else ("handed_over_at",)


def _clocked(table: str, times: tuple[str, ...], true: tuple[str, ...]) -> tuple[str, ...]:
    """The columns of `times` dated by the clock: of a stay, all but its `true` times (an entry
    typed, a handover at an exit before the boot). Of a payment for a stay whose entry is true, the
    moment it was taken alone: its fee was worked out from that entry to `fee_until` on the old
    clock, which stays, as a car's parked since before the boot does (_older_payments)."""
    if table == "stays":
        return tuple(t for t in times if t not in true)
    if table == "payments" and "entered_at" in true:
        return tuple(t for t in times if t != "fee_until")
    return times


def _passes(conn: sqlite3.Connection, first: First, step: Step, pass_hours: timedelta) -> int:
    """This boot's visitor and contractor passes registered on the old clock, and their QR and plate
    credentials: the moment registered, and the window where it was taken from the clock (a start
    the guard left empty is the moment registered; an end left empty is `pass_hours` after it). A
    time the guard typed is a true one and stays, as the window of a pass the centre sent (its
    `ref`) does. A check-out on the old clock moves too, that of a pass registered before the boot
    as well (checked out this boot: _checked_out): left, the pass was checked out days before it
    was registered."""
    older = sorted(_checked_out(conn, first))
    marks = ", ".join("?" * len(older))
    rows = conn.execute(
        "SELECT id, ref IS NOT NULL, created_at, valid_from, valid_to, checked_out_at FROM passes "
        f"WHERE id >= ? OR id IN ({marks})",
        (first["passes"], *older),
    ).fetchall()
    moved = 0
    for pass_id, central, created_at, valid_from, valid_to, checked_out_at in rows:
        stored = (created_at, valid_from, valid_to)
        ours = pass_id >= first["passes"]
        registered = _registered(stored, bool(central), step, pass_hours) if ours else stored
        out = from_db(checked_out_at)
        left = to_db(out + step.by) if out is not None and step.wrote(out) else checked_out_at
        if (*registered, left) == (*stored, checked_out_at):
            continue
        conn.execute(
            "UPDATE passes SET created_at = ?, valid_from = ?, valid_to = ?, checked_out_at = ? WHERE id = ?",
            (*registered, left, pass_id),
        )
        conn.execute(
            "UPDATE credentials SET valid_from = ?, valid_to = ? "
            "WHERE pass_id = ? AND valid_from = ? AND valid_to = ?",
            (*registered[1:], pass_id, valid_from, valid_to),
        )
        _pass_redated(conn, pass_id, bool(central), (created_at, checked_out_at), step)
        moved += 1
    return moved


def _registered(
    stored: tuple[str, str, str], central: bool, step: Step, pass_hours: timedelta
) -> tuple[str, str, str]:
    """A pass's moment registered, start and end (as stored) on the new clock: moved where the old
    clock wrote them, the start and end of a booth pass where taken from that moment. An end the
    guard typed is a true time and stays, unless it comes no later than the start moved (typed off
    the old clock, the booth's wall clock then: the API refuses a window that ends as it starts):
    the window moves whole, and never ends before it starts."""
    created_at, valid_from, valid_to = stored
    created = from_db(created_at)
    if created is None or not step.wrote(created):
        return stored
    start = created + step.by if valid_from == created_at and not central else None
    end_at = from_db(valid_to)
    end = None
    if start is not None and end_at is not None:
        on_old_clock = end_at == created + pass_hours or end_at <= start
        end = end_at + step.by if on_old_clock else None
    return (
        to_db(created + step.by),
        to_db(start) if start else valid_from,
        to_db(end) if end else valid_to,
    )


def _pass_redated(
    conn: sqlite3.Connection, pass_id: int, central: bool, before: tuple[str, str | None], step: Step
) -> None:
    """The centre files a booth's pass by its `created` record (the moment registered, the window)
    and a visit's end by its `checked_out` record, dated on the old clock: the visitor registered
    days before the daily report counts it, expired there while the box admits it, or checked out
    before registered. Each record whose time moved goes up again, `"change": "redated"`, `at` its
    new time and `previous_at` the one it went with, the pass as it now is; the check-out last, as
    a pass checked out always is (the newest record of a pass holds: not taken as open again). A
    pass the centre sent (`central`) never went up as created: only its check-out goes again."""
    row = get_pass(conn, pass_id)
    was_created, was_out = before
    registered = not central and row["created_at"] != was_created
    left = row["checked_out_at"] != was_out
    records: list[tuple[str, str | None, str | None]] = []
    if registered:
        records.append(("created", row["created_at"], was_created))
    if left or (registered and was_out is not None):
        records.append(("checked_out", row["checked_out_at"], was_out))
    local = step.now.tzinfo  # the site's offset, as every record's time carries it
    for op, at, was in records:
        record = {
            "op": op,
            "at": local_iso(at, local),
            "change": "redated",
            "previous_at": local_iso(was, local),
            "pass": upstream(row, step.now),
        }
        enqueue(conn, "pass", record, step.now)


def _materials(conn: sqlite3.Connection, first: First, step: Step) -> int:
    """Materials carried out this boot on the old clock: when they left, so that they are not out
    before the pass they left on was registered, and are in the true day's report."""
    where, args = "id >= ?", (first["materials_out"],)
    return _move_rows(conn, "materials_out", where, args, ("at",), step, _materials_redated)


def _materials_redated(
    conn: sqlite3.Connection, record_id: int, before: Mapping[str, str | None], step: Step
) -> None:
    """The centre told the unit's owner what left, and when, from the `materials` record dated on
    the old clock: it goes up again, `"change": "redated"`, `at` (and the record's own) its true
    time, `previous_at` the one it went with; the newest record of an id holds."""
    local = step.now.tzinfo  # the site's offset, as every record's time carries it
    record = materials_record(get_materials(conn, record_id), local)
    message = {
        "op": "out",
        "at": record["at"],
        "change": "redated",
        "previous_at": local_iso(before["at"], local),
        "record": record,
    }
    enqueue(conn, "materials", message, step.now)


def _undo_rounds(conn: sqlite3.Connection, rounds: Sequence[StaleRound], at: datetime) -> list[list[str]]:
    """The patrol rounds first judged on the old clock: judged by a clock that was wrong, against
    taps read at its times (a round walked on time before NTP came could be late on it), so they
    are taken off the record, their alarms cleared, here and upstream. The patrol check judges
    those due while the box was up again on the true clock (_judged_again), with the taps at their
    true times; those due while it was off it does not judge (nobody could tap; a night's outage is
    not every round of it missed, the outage is what the centre sees). Returns them (route, due)."""
    for r in rounds:
        conn.execute("DELETE FROM patrol_rounds WHERE route = ? AND due_at = ?", (r.route, r.due_at))
        for kind in PATROL_ALARMS:
            end_alarm(conn, kind, r.source, at)
    return [[r.route, r.due_at] for r in rounds]


def _judged_again(rounds: Sequence[StaleRound], booted: datetime) -> tuple[StaleRound, ...]:
    """The rounds judged on the old clock whose deadline is not before `booted` (the box's true
    boot, less the restart grace): open while the box was up, in this run of the service or an
    earlier one of the boot, they are judged again on the true clock."""
    return tuple(r for r in rounds if (deadline := from_db(r.deadline)) is not None and deadline >= booted)


def _what_moves(
    pass_hours: timedelta, boot: Boot
) -> tuple[Callable[[sqlite3.Connection, First, Step], int], ...]:
    """Everything of this boot that is dated on the clock, in the order it is moved."""
    return (
        partial(_alarms, older_open=boot.older_open),
        partial(_stays, older=boot.older_stays),
        partial(_passes, pass_hours=pass_hours),
        _materials,
        _sessions,
        _device_returns,
        partial(_gateway_down, boot_id=boot.id),
    )


def _gateway_down(conn: sqlite3.Connection, first: First, step: Step, boot_id: str) -> int:
    """The stretches the gateway was down that this boot's starts kept on the old clock (gateway/
    store/gateway_down.py): each one's end (the start), and its beginning where that is of this
    boot too, on the old clock with its end (the service restarted before NTP came: the heartbeat,
    or the start less the monotonic time since it); and this boot's heartbeat, with when heartbeats
    began where this boot's start began them. Left, the power cut before the boot was none in the
    report (fake-hwclock's boot time reads before the last heartbeat), a restart on the old clock
    was days, or the days the box was off before the first start after the upgrade read as days it
    ran through (Review 65U). A beginning counted back from a start on the new clock stays, as its
    end does, however long before the step it reads."""
    rows = conn.execute(
        "SELECT id, from_at, to_at, from_boot FROM gateway_down WHERE id >= ?", (first["gateway_down"],)
    ).fetchall()
    moved = 0
    for down_id, from_at, to_at, from_boot in rows:
        stored = [from_at, to_at]
        end = from_db(to_at)
        with_end = from_boot == boot_id and end is not None and step.wrote(end)
        new = _moved(stored, step, partial(_wrote_column, (with_end, True)))
        if new != stored:
            conn.execute("UPDATE gateway_down SET from_at = ?, to_at = ? WHERE id = ?", (*new, down_id))
            moved += 1
    row = conn.execute("SELECT began FROM gateway_heartbeat WHERE boot = ?", (boot_id,)).fetchone()
    began = None if row is None else from_db(row[0])
    if began is not None and step.of_boot(began):
        conn.execute(
            "UPDATE gateway_heartbeat SET began = ? WHERE boot = ?", (to_db(began + step.by), boot_id)
        )
    return moved + _move_rows(conn, "gateway_heartbeat", "boot = ?", (boot_id,), ("at",), step)


def _device_returns(conn: sqlite3.Connection, first: First, step: Step) -> int:
    """When the devices whose fault waits to clear came back (store/device_returns.py), if since
    the box booted on the old clock: read on the new one, a wait of minutes would be days, and the
    fault cleared at once as of a time before it was raised. No id: taken as this boot's by time."""
    return _move_rows(conn, "device_returns", "back_at >= ?", (to_db(step.booted),), ("back_at",), step)


def _sessions(conn: sqlite3.Connection, first: First, step: Step) -> int:
    """Guards' logins since the box booted on the old clock: their start and their end with it
    (`http.session_hours` after it), so that NTP's step does not log a guard out. Sessions have no
    id: those dated since the boot on the old clock are taken as this boot's."""
    rows = conn.execute(
        "SELECT token_hash, created_at, expires_at FROM sessions WHERE created_at >= ?", (to_db(step.booted),)
    ).fetchall()
    moved = 0
    for token, *stored in rows:
        created, expires = (from_db(t) for t in stored)
        if created is not None and expires is not None and step.of_boot(created):
            later = (to_db(created + step.by), to_db(expires + step.by))
            conn.execute(
                "UPDATE sessions SET created_at = ?, expires_at = ? WHERE token_hash = ?", (*later, token)
            )
            moved += 1
    return moved


def _move_rows(
    conn: sqlite3.Connection,
    table: str,
    where: str,
    args: tuple[object, ...],
    columns: tuple[str, ...],
    step: Step,
    told: Told | None = None,
) -> int:
    """Move the times of `table`'s rows (`where`) that were written on the old clock by the step;
    those written since the clock was set right stay as they are. `told` tells upstream of each
    row moved. Returns how many rows changed."""
    changed = 0
    rows = conn.execute(f"SELECT rowid, {', '.join(columns)} FROM {table} WHERE {where}", args)
    for rowid, *stored in rows.fetchall():
        new = _moved(stored, step)
        if new != stored:
            changed += 1
            sets = ", ".join(f"{column} = ?" for column in columns)
            conn.execute(f"UPDATE {table} SET {sets} WHERE rowid = ?", (*new, rowid))
            if told is not None:
                told(conn, rowid, dict(zip(columns, stored, strict=True)), step)
    return changed


def _moved(
    stored: list[str | None],
    step: Step,
    also: Callable[[int, datetime], bool] = lambda column, at: True,
) -> list[str | None]:
    """Stored times, those written on the old clock (and for which `also(column, time)` holds)
    moved by the step; the others, and NULLs, as they are."""
    times = [from_db(t) for t in stored]
    return [
        to_db(at + step.by) if at is not None and step.wrote(at) and also(i, at) else t
        for i, (at, t) in enumerate(zip(times, stored, strict=True))
    ]
