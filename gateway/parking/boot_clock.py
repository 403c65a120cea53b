"""The wall clock this boot's rows are dated on, and its steps: a Pi without a real-time clock boots
with fake-hwclock's stale time and NTP steps it later.

The operations thread follows the clock on each tick; a step moves the gateway's start with it.
The stale boot clock being set is re-dated (gateway/store/redate.py), with the snapshot files
written on the old clock, and the reports kept that counted its rows there are marked, in the same
transaction, to be rebuilt (gateway/store/report_rebuilds.py); any other step is a running clock's
(a bad time source, an installer's typo, or its correction), whose rows were dated right and stay,
and which the operations thread raises an alarm for (sets_boot_clock tells them apart). This
boot's first rows, and the clock they are dated on, are kept in BOOT_MARKER across restarts of the
service within one boot, so that a run killed before its re-dating was done leaves it to the next;
so are the older alarms open and cars inside as it booted, the patrol rounds judged while its clock
may have been stale (and, once it is set, those to judge again), and the pause after a running
clock's step (when it began and until when it lasts), and when the step that set the clock came
and whether its nudge was taken (a restart just after NTP set it still takes the nudge, and never
a later one). A running clock's step is kept with its clock_stepped alarm still to raise, in the
one write that keeps the pause (and the new clock): kept before it, a cut or a failed raise (a full
disk) left the next start no step to see and nothing to alarm. The alarm leaves the file once
raised, and a start raises those it finds, of this boot or the one before.

A boot clock set far past the newest time the database knew before the boot (far_past: NTP's bad
first answer, 2035 for 2025, or one that came before the service started) is re-dated all the
same, but alarmed and paused as a running clock's step is (Operations._far_set): that time is kept
in the marker (Boot.known_before) until it is told, so a restart within the boot tells it once.
That time is the last heartbeat alone where there is one: a car let in while the clock read 2035
leaves its record dated so after the clock is set right, and the next boot on the same bad answer
was not far past it (Review 67 I1). A reboot during the pause of a clock far ahead (this one, or a
running clock's step far ahead) judges its boot by the time known before that clock (Boot.far_from,
kept in the marker across the reboot until the pause is over), not by the heartbeats written on it:
the clock still ahead at that reboot is alarmed and paused again.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import astuple, dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from gateway.alarm_texts import AlarmText, from_stored
from gateway.parking import retention as plan
from gateway.store.database import open_read_only
from gateway.store.outbox import streams
from gateway.store.redate import (
    BOOT_TABLES,
    PATROL_ALARMS,
    REDATED,
    Boot,
    ClockState,
    StaleRound,
    StayTimes,
    Step,
    redate,
    redated,
)
from gateway.timefmt import from_db, later, to_db

log = logging.getLogger(__name__)

CLOCK_STEP = timedelta(minutes=2)  # wall time gone this much further than monotonic time: a step
# NTP (or a GPS) sets a stale boot clock within this of the kernel's boot: the monotonic clock
# counts from the boot on Linux. A forward step later than this is a running clock's.
BOOT_CLOCK_WINDOW = timedelta(hours=24)
# After the first step set the boot clock, a second one this small is the finer source's
# correction (a rough time source, then NTP), re-dated too; a larger one is a running clock's.
BOOT_CLOCK_NUDGE = timedelta(hours=1)
# ... if it comes this soon after the first (monotonic time): NTP settles within minutes of its
# first answer (chrony steps on its first three updates, a minute apart at first; timesyncd polls
# from 32 seconds). A step later than this is a running clock's, whose rows were dated right.
BOOT_CLOCK_SETTLE = timedelta(minutes=10)
# The boot, on the clock it runs on, this far past the newest time the database knew before it (its
# last heartbeat): the clock is far ahead (a bad NTP server's answer, 2035 for 2025), or the box
# was off that long. Either way retention would delete, and reports count, by it at once: the
# gateway alarms clock_stepped and pauses them as after a running clock's step
# (gateway/parking/operations.py CLOCK_CONFIRM), and a clock set right within that time has deleted
# and reported nothing on a wrong one. Longer than any outage a box is kept through (a month).
BOOT_CLOCK_FAR = timedelta(days=30)


def sets_boot_clock(boot: Boot, step: Step, since_boot: float) -> bool:
    """Whether a step sets the stale clock the box booted on (its rows are re-dated), rather than
    steps a running clock (its rows were dated right and stay): forward, within BOOT_CLOCK_WINDOW
    of the boot (`since_boot`, monotonic seconds), the first of the boot or a nudge just after it.
    A clock set back, a glitch and its correction, a drift set right a week on, a small step hours
    after NTP set the clock: none are."""
    if step.by <= timedelta(0) or since_boot > BOOT_CLOCK_WINDOW.total_seconds():
        return False
    return boot.clock_state == "stale" or (boot.clock_state == "set" and _nudges(boot, step, since_boot))


def far_past(known_before: float | None, booted: float) -> bool:
    """Whether the boot, `booted` on the clock it runs on (epoch seconds, the wall clock less the
    monotonic one), is more than BOOT_CLOCK_FAR past `known_before`, the newest time the database
    knew before it. The boot's time, not now's: a box up for months on a clock set right is not."""
    return known_before is not None and booted - known_before > BOOT_CLOCK_FAR.total_seconds()


def _nudges(boot: Boot, step: Step, since_boot: float) -> bool:
    """Whether a forward step is the one nudge after the step that set the clock: the first after
    it, within BOOT_CLOCK_SETTLE of it and at most BOOT_CLOCK_NUDGE. A clock an older version set
    (upgraded between the step and NTP's nudge) is known by its re-dating's audit row (_set_when);
    one whose re-dating the file did not keep (a kill between) takes none."""
    if boot.clock_set_at is None or boot.nudged or step.by > BOOT_CLOCK_NUDGE:
        return False
    return since_boot - boot.clock_set_at <= BOOT_CLOCK_SETTLE.total_seconds()


@dataclass(frozen=True, slots=True)
class StepAlarm:
    """A running clock's step still to alarm (clock_stepped), raised as of when it was seen: the
    pause it began is read back from the alarm's time (gateway/parking/faults.py untrusted_spans),
    so a raise that failed and is tried again later (a full disk, a restart) is not dated then."""

    text: AlarmText
    seen: datetime


# Named when it kept only the boot's first alarm; the name stays so that the marker an older
# version wrote within this boot is still read (its rows are still to be re-dated).
BOOT_MARKER = "boot-alarms.json"


# A patrol round on record (its route and due_at as stored) as the boot clock keeps it while it may
# be stale, for the rounds an older version's marker does not name (None: its route is gone from
# the config). The operations thread's, which knows the routes and the site's zone.
RoundOnRecord = Callable[[str, str], StaleRound | None]


def _no_routes(route: str, due_at: str) -> StaleRound | None:
    return None


def first_of_boot(
    data_dir: Path, db_path: Path, on_record: RoundOnRecord = _no_routes
) -> tuple[Boot, tuple[StepAlarm, ...]]:
    """This boot's first rows (Boot), and the older alarms still open and cars inside as it booted,
    kept across restarts of the service within one boot by the kernel's boot id in BOOT_MARKER.
    What a marker of this boot that an older version wrote lacks is found in the store (the service
    upgraded on the stale boot clock, before NTP set it): its rows are still to be re-dated. And the
    clock steps still to alarm, whichever boot kept them: a step is no less owed its alarm after a
    reboot.

    The marker names the database it describes by its outbox stream: one naming a stream this
    database never ran was written for another database in this boot (a new box's first start on a
    fresh gateway.db, the old box's copy put in its place after it), and the copy's own rows would
    be taken for this boot's and re-dated when NTP sets the clock (a car parked for days charged
    from the stale boot). Its boot's rows are then found anew, as on a new boot. One of the
    database's own streams is kept: an upgrade's copy put back with its marker (README, going
    back) starts a stream of its own, after the one its marker names. A marker an older version
    wrote names none: taken as this database's, as before."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    ran = _streams_of(db_path)
    database = ran[-1] if ran else None
    kept_ids: dict[str, int] = {}
    older_open: frozenset[int] | None = None
    older_stays: dict[int, StayTimes] | None = None
    stale_rounds: tuple[StaleRound, ...] | None = ()
    judge_again: tuple[StaleRound, ...] = ()
    clock = None
    state: ClockState = "stale"
    trusted_from = 0.0
    paused_since = None
    clock_set_at = None
    nudged = False
    set_unkept = False  # set, by a version that kept no clock_set_at
    same = False  # the marker is this boot's: what it knew before the boot is kept there
    known_before = None
    far_from = None  # this boot's pause of a clock far ahead (kept by a restart)
    carried = None  # the boot before's, not over as it ended: this boot is judged by it
    alarms: tuple[StepAlarm, ...] = ()
    try:
        kept = json.loads((data_dir / BOOT_MARKER).read_text())
        alarms = _kept_alarms(kept)  # the box's clock stepped, whichever database was in
        other = kept.get("database") is not None and kept.get("database") not in ran
        if not other:
            carried = _kept_time(kept, "far_from")
        if other and boot and kept.get("boot") == boot:
            log.warning(
                "%s describes another database (stream %s, which this one never ran: a copy put in "
                "its place in this boot): this boot's rows in it are found anew",
                BOOT_MARKER,
                kept.get("database"),
            )
        if boot and kept.get("boot") == boot and not other:
            clock = None if kept.get("clock") is None else float(kept["clock"])
            kept_ids = _kept_ids(kept)
            older_open = _kept_open(kept)
            older_stays = _kept_stays(kept)
            state = kept.get("clock_state") if kept.get("clock_state") in ("set", "running") else "stale"
            stale_rounds = _kept_rounds(kept, "stale_rounds")
            if stale_rounds is None and state != "stale":
                stale_rounds = ()  # the clock was set, or ran right: nothing judged on it to undo
            judge_again = _kept_rounds(kept, "judge_again") or ()
            trusted_from = float(kept.get("trusted_from", 0.0))
            paused_since = None if kept.get("paused_since") is None else float(kept["paused_since"])
            clock_set_at = None if kept.get("clock_set_at") is None else float(kept["clock_set_at"])
            nudged = kept.get("nudged") is True
            same = True
            known_before = _kept_time(kept, "known_before")
            far_from, carried = carried, None
            set_unkept = state == "set" and "clock_set_at" not in kept
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    found = Boot(
        boot,
        kept_ids,
        clock,
        clock_state=state,
        older_open=older_open or frozenset(),
        trusted_from=trusted_from,
        paused_since=paused_since,
        older_stays=older_stays or {},
        stale_rounds=stale_rounds or (),
        judge_again=judge_again,
        clock_set_at=clock_set_at,
        nudged=nudged,
        database=database,
        known_before=known_before,
        far_from=far_from,
    )
    if set_unkept:
        found = _set_when(db_path, found)
    known = older_open is not None and older_stays is not None and stale_rounds is not None
    if set(kept_ids) >= set(BOOT_TABLES) and known:
        return found, alarms
    # A table the marker does not name (a new boot, or one an older version kept): from here on,
    # or from the boot's first row its audit trail finds; so are the older alarms open.
    with closing(open_read_only(db_path, 10)) as conn:
        ids = {table: kept_ids.get(table) or _first_row(conn, table, kept_ids) for table in BOOT_TABLES}
        if not same:
            newest = _newest_known(conn)
            before = newest if carried is None or newest is None else min(newest, carried)
            found = replace(found, known_before=before)
        if older_open is None:
            # A marker of this boot an older version wrote (upgraded before NTP set the clock):
            # the older alarms cleared since the boot, on its clock, were open as it booted too.
            since = clock if kept_ids and clock is not None else None
            older_open = _open_before(conn, ids["alarms"], since)
        if older_stays is None:
            # Kept by an older version in this boot (upgraded before NTP set the clock): a slot it
            # handed on since, at an exit dated since the boot on its clock, is this boot's
            # handover (docs/parking.md, Repairs): the re-dating moves it, as it does one this
            # version writes, and the second car pays to its real handover, not days short.
            since = clock if kept_ids and clock is not None else None
            older_stays = _inside_before(conn, ids["stays"], since)
        if stale_rounds is None:
            # Kept by an older version in this boot, on a clock that may still be the stale one:
            # the rounds it judged so are those its patrol alarms name.
            stale_rounds = _rounds_alarmed(conn, ids["alarms"], on_record)
    first = replace(
        found, first=ids, older_open=older_open, older_stays=older_stays, stale_rounds=stale_rounds
    )
    keep_boot(data_dir, first, alarms)
    return first, alarms


def _set_when(db_path: Path, boot: Boot) -> Boot:
    """The boot whose clock an older version set, which kept neither when (monotonic) nor whether
    its nudge was taken: found by the boot's re-datings (audit, `gateway clock.redate boot:<id>`).
    The first set the clock: its mark was written at the step's time (`at`, on the new clock) and
    names when the box booted on that clock (`to`), so it was seen `at - to` into the boot (the
    monotonic time now less how long ago the wall clock says it was, had no step come since). A
    later one was its nudge (8a3aa59 re-dated any step of up to an hour after it): none is taken
    again. Upgraded between the rough step and NTP's nudge, the nudge still re-dates the boot's
    rows (README), as it does on a box never upgraded."""
    with closing(open_read_only(db_path, 10)) as conn:
        marks = conn.execute(
            "SELECT at, detail FROM audit WHERE id >= ? AND action = ? AND target = ? ORDER BY id",
            (boot.first.get("audit", 0), REDATED, f"boot:{boot.id}"),
        ).fetchall()
    if not marks:
        return boot
    at, detail = marks[0]
    try:
        seen = from_db(at)
        to = float(json.loads(detail)["to"])
    except (ValueError, KeyError, TypeError):
        return boot  # a mark cut short (audit details are kept to 500 characters): no nudge
    if seen is None:
        return boot
    return replace(boot, clock_set_at=seen.timestamp() - to, nudged=len(marks) > 1)


# How versions before the one-list re-dating named the boot's first rows, kept through an upgrade
# within the boot (the service restarted on the stale clock: its rows are still to be re-dated).
_OLDER_MARKS = {"alarms": "first_alarm", "stays": "first_stay"}


def _kept_time(kept: dict[str, Any], key: str) -> float | None:
    """A time the marker keeps (epoch seconds), or None."""
    value = kept.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _kept_ids(kept: dict[str, Any]) -> dict[str, int]:
    named = kept.get("first")
    ids = {t: int(v) for t, v in named.items() if t in BOOT_TABLES} if isinstance(named, dict) else {}
    older = {t: int(kept[k]) for t, k in _OLDER_MARKS.items() if k in kept}
    return older | ids


def _kept_open(kept: dict[str, Any]) -> frozenset[int] | None:
    named = kept.get("older_open")
    return frozenset(int(v) for v in named) if isinstance(named, list) else None


def _kept_stays(kept: dict[str, Any]) -> dict[int, StayTimes] | None:
    named = kept.get("older_stays")
    if not isinstance(named, dict):
        return None
    return {int(stay_id): (billed, handed) for stay_id, (billed, handed) in named.items()}


def _kept_rounds(kept: dict[str, Any], key: str) -> tuple[StaleRound, ...] | None:
    named = kept.get(key)
    return tuple(StaleRound(*fields) for fields in named) if isinstance(named, list) else None


def _kept_alarms(kept: dict[str, Any]) -> tuple[StepAlarm, ...]:
    """The step alarms kept; one that cannot be read is left (the rest of the marker still is)."""
    named = kept.get("clock_alarms")
    alarms = []
    for alarm in named if isinstance(named, list) else ():
        try:
            text, seen = from_stored(alarm["text"]), datetime.fromisoformat(alarm["seen"])
        except (KeyError, TypeError, ValueError):
            continue
        if text is not None:
            alarms.append(StepAlarm(text, seen))
    return tuple(alarms)


# The audit action written with each row of a boot table that older markers did not name, in the
# row's own transaction and at its time, by its actor (gateway/store/materials.py, payments.py).
_AUDITED_AS = {"materials_out": "materials.out", "payments": "payment.take"}


def _first_row(conn: sqlite3.Connection, table: str, kept_ids: dict[str, int]) -> int:
    """The first row of the boot in `table`, which the marker does not name: on a new boot the next
    one written. Kept by an older version in this boot (it names the boot's first audit row), the
    first of those the boot's audit trail records writing (materials carried out on the stale
    clock before the upgrade: re-dated with the boot's other rows when NTP sets it)."""
    action = _AUDITED_AS.get(table)
    if action is None or "audit" not in kept_ids:
        return _next_id(conn, table)
    (first,) = conn.execute(
        f"SELECT min(t.id) FROM audit a JOIN {table} t ON t.at = a.at AND t.actor = a.actor "
        "WHERE a.id >= ? AND a.action = ?",
        (kept_ids["audit"], action),
    ).fetchone()
    return int(first) if first is not None else _next_id(conn, table)


def _rounds_alarmed(
    conn: sqlite3.Connection, first_alarm: int, on_record: RoundOnRecord
) -> tuple[StaleRound, ...]:
    """The patrol rounds first judged since the boot (by an older version, which kept no list of
    them): those on record whose alarms (patrol_late, patrol_missed) the boot raised and no earlier
    boot had (a round judged overdue before the power cut was judged on a true clock)."""
    kinds = ",".join("?" * len(PATROL_ALARMS))
    alarmed = conn.execute(
        f"SELECT source FROM alarms WHERE kind IN ({kinds}) GROUP BY source HAVING min(id) >= ?",
        (*PATROL_ALARMS, first_alarm),
    )
    sources = {source for (source,) in alarmed}
    routes = json.dumps(sorted({source.rsplit("@", 1)[0] for source in sources}))
    rows = conn.execute(
        "SELECT route, due_at FROM patrol_rounds WHERE route IN (SELECT value FROM json_each(?))", (routes,)
    )
    rounds = (on_record(route, due_at) for route, due_at in rows)
    return tuple(r for r in rounds if r is not None and r.source in sources)


# The stays of earlier boots inside now (and, with :since, those that left since then), with their
# billing stop and handover, and whether the slot was handed to the car at an exit since then: the
# exit of a stay of its slot, at the time of the handover (gateway/store/slot_handover.py handover).
_INSIDE_BEFORE = """
SELECT s.id, s.billed_until, s.handed_over_at, EXISTS (
    SELECT 1 FROM slot_vehicles sv JOIN stays t ON t.slot_id = sv.slot_id AND t.exited_at = s.handed_over_at
    WHERE sv.vehicle_id = s.vehicle_id AND t.id != s.id AND t.exited_at >= :since)
FROM stays s WHERE s.id < :first AND (s.exited_at IS NULL OR s.exited_at >= :since)
"""


def _inside_before(
    conn: sqlite3.Connection, first_stay: int, since: float | None = None
) -> dict[int, StayTimes]:
    """The cars of earlier boots inside now, with their billing stop and handover as they are: what
    this boot writes onto them is told apart by them (gateway/store/redate.py, _older_stays). With
    `since`, the boot's time on its own clock (a marker of this boot an older version wrote, which
    kept none of this), the cars that left since then were inside as it booted too (their exits
    are this boot's, _handed_on_before_boot), and a slot handed to a car at such an exit was not
    yet: the car is taken as it was before (no handover, and the billing stop with it where the
    handover made it), so that the handover moves. fake-hwclock's boot clock may read before an
    exit made in the last hour before the power cut; such a handover moves too."""
    cutoff = None if since is None else to_db(datetime.fromtimestamp(since, UTC))
    rows = conn.execute(_INSIDE_BEFORE, {"first": first_stay, "since": cutoff})
    return {
        stay_id: _before_handover(billed, handed) if handed_since else (billed, handed)
        for stay_id, billed, handed, handed_since in rows
    }


def _before_handover(billed: str | None, handed: str | None) -> StayTimes:
    """A stay's billing stop and handover as they were before its slot was handed to it: billing
    stopped by the handover (the same moment) was not stopped yet, one stopped before (a renewal)
    was."""
    return (None if billed == handed else billed, None)


def _open_before(conn: sqlite3.Connection, first_alarm: int, since: float | None = None) -> frozenset[int]:
    """The alarms of earlier boots open now (and, with `since`, the boot's time on its own clock,
    those cleared since): a clearing of one is this boot's (gateway/store/redate.py), whatever time
    the stale boot clock gave it."""
    cleared_since = None if since is None else to_db(datetime.fromtimestamp(since, UTC))
    rows = conn.execute(
        "SELECT id FROM alarms WHERE id < ? AND (cleared_at IS NULL OR cleared_at >= ?)",
        (first_alarm, cleared_since),
    )
    return frozenset(alarm_id for (alarm_id,) in rows)


def keep_boot(data_dir: Path, boot: Boot, alarms: Sequence[StepAlarm] = ()) -> None:
    marker = data_dir / BOOT_MARKER
    fields = {
        "boot": boot.id,
        "first": boot.first,
        "older_open": sorted(boot.older_open),
        "clock": boot.clock,
        "clock_state": boot.clock_state,
        "trusted_from": boot.trusted_from,
        "paused_since": boot.paused_since,
        "older_stays": {str(stay_id): list(times) for stay_id, times in boot.older_stays.items()},
        "stale_rounds": [list(astuple(r)) for r in boot.stale_rounds],
        "judge_again": [list(astuple(r)) for r in boot.judge_again],
        "clock_set_at": boot.clock_set_at,
        "nudged": boot.nudged,
        "database": boot.database,
        "known_before": boot.known_before,
        "far_from": boot.far_from,
        "clock_alarms": [{"text": a.text.stored(), "seen": a.seen.isoformat()} for a in alarms],
    }
    try:
        written = marker.with_suffix(".tmp")  # replaced whole: a kill mid-write keeps the last one
        written.write_text(json.dumps(fields))
        os.replace(written, marker)
    except OSError:
        log.warning("cannot write %s: rows re-dated after a clock step are this run's only", marker)


def _streams_of(db_path: Path) -> tuple[str, ...]:
    """The outbox streams the database has run, its own now last (gateway/runtime/outbox_stream.py:
    the gateway settles it before its operations read the marker; a copy put back starts one)."""
    with closing(open_read_only(db_path, 10)) as conn:
        return tuple(stream for _, stream in streams(conn))


def _newest_known(conn: sqlite3.Connection) -> float | None:
    """The newest time the database knew as this boot began (epoch seconds; None: a new one): its
    last heartbeat, or, on a database with none (a version before heartbeats), its newest access
    record. The heartbeat alone where there is one: rewritten each minute, it is right again once
    a clock far ahead is set right, while the cars let in on that clock keep its dates. Read
    before this boot writes either."""
    (newest,) = conn.execute(
        "SELECT coalesce((SELECT at FROM gateway_heartbeat WHERE id = 1), (SELECT max(at) FROM access_log))"
    ).fetchone()
    at = from_db(newest)
    return None if at is None else at.timestamp()


def _next_id(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])


class BootClock:
    def __init__(
        self,
        data_dir: Path,
        db_path: Path,
        started_at: datetime,
        monotonic: Callable[[], float],
        on_record: RoundOnRecord = _no_routes,
    ):
        self.data_dir = data_dir
        self.db_path = db_path
        self.snapshots_dir = data_dir / "snapshots"
        self._monotonic = monotonic
        # The start on the clock as it is now: moved with every step of the clock that follow() sees.
        self.running_since = started_at
        self._seen = (started_at, monotonic())  # the last wall and monotonic times follow() saw
        self.boot, alarms = first_of_boot(data_dir, db_path, on_record)
        # Running clocks' steps still to alarm, oldest first (alarm_raised takes them off).
        self.alarms: list[StepAlarm] = list(alarms)
        # Steps of the clock still to re-date, in order: retried until they are done.
        self._steps: list[Step] = []

    def follow(self, now: datetime, mono: float) -> Step | None:
        """The wall clock stepped: move the start with it, so that the rounds due while the gateway
        was off stay unjudged. NTP setting the stale boot clock (a Pi without a real-time clock
        boots with fake-hwclock's time) re-dates what this boot wrote on the old clock
        (gateway/store/redate.py: a camera recorded offline as it booted, the cars let in then, a
        visitor registered, a round walked, a guard's login), so that ages, deadlines, fees and
        passes are true. Returns a running clock's step (not re-dated), for the caller to alarm."""
        wall, at = self._seen
        step = Step(wall.timestamp() - at, now.timestamp() - mono, now)
        self._seen = (now, mono)
        if abs(step.by) <= CLOCK_STEP:
            return None
        log.info(
            "wall clock stepped by %s: the gateway has run since %s", step.by, self.running_since + step.by
        )
        self.running_since += step.by
        return self._judge(step, mono)

    def _judge(self, step: Step, since_boot: float) -> Step | None:
        """Keep a step of the boot clock to re-date, and when it set the clock (or that it was the
        nudge after); return a running clock's."""
        if sets_boot_clock(self.boot, step, since_boot):
            if self.boot.clock_state == "stale":
                self.boot = replace(self.boot, clock_state="set", clock_set_at=since_boot)
            else:
                self.boot = replace(self.boot, nudged=True)
            self._steps.append(step)
            return None
        self.boot = replace(self.boot, clock_state="running")
        return step

    def resume(self, now: datetime) -> Step | None:
        """A step of the wall clock since the last run of this boot kept its clock (the run was
        killed before its next tick saw the step, or before its re-dating was done): this run
        re-dates the boot's rows if it set the boot clock, or returns a running clock's step. Its
        own start is on the clock as it is now, so it stays."""
        mono = self._monotonic()
        self._seen = (now, mono)
        with closing(open_read_only(self.db_path, 10)) as conn:
            self.boot = redated(conn, self.boot)
        running = None
        if self.boot.clock is not None:
            step = Step(self.boot.clock, now.timestamp() - mono, now)
            if abs(step.by) > CLOCK_STEP:
                log.info("wall clock stepped by %s since the last run of this boot kept it", step.by)
                running = self._judge(step, mono)
        if running is None:
            # A running clock's new clock is kept with its alarm and pause (distrust), or, a step
            # too small to alarm, at the first tick (redate): kept before, a cut between left the
            # next start no step to see.
            self._keep_clock()
        return running

    def far_set(self, now: datetime, mono: float) -> datetime | None:
        """The newest time the database knew before this boot, if the clock the boot runs on is
        far past it (far_past): set so by the step that set the boot clock, once its rows are
        re-dated (NTP's bad answer a minute after the boot), or so as the boot's first start ran
        (NTP answered before the service started). None once told (distrust), after a running
        clock's step (its own alarm), while a step waits to be re-dated, or when it is not."""
        known = self.boot.known_before
        if self._steps or self.boot.clock_state == "running" or not far_past(known, now.timestamp() - mono):
            return None
        return datetime.fromtimestamp(known, UTC).astimezone(now.tzinfo) if known is not None else None

    def distrust(self, stepped: float, until: float, alarm: StepAlarm, far_from: float | None = None) -> None:
        """The wall clock, stepped at `stepped`, is not to be trusted until `until` (monotonic),
        across restarts of the service within the boot; the step's `alarm` is kept to raise, with
        the pause and the new clock in one write. A step during the pause (its correction) extends
        it, and the rounds to judge after it still begin at the first step. The boot's clock is
        judged then: what the database knew before the boot is not looked at again (far_set), so
        that a restart of the service within the boot does not alarm it twice. `far_from`: the
        clock is far ahead of that time (epoch seconds), which a reboot before the pause is over
        judges its boot by (the earliest such, for a pause two of them began)."""
        paused_since = stepped if self.boot.paused_since is None else self.boot.paused_since
        kept = self.boot.far_from
        far = kept if far_from is None else far_from if kept is None else min(kept, far_from)
        self.boot = replace(
            self._with_clock(),
            trusted_from=until,
            paused_since=paused_since,
            known_before=None,
            far_from=far,
        )
        self.alarms.append(alarm)
        self._keep()

    def alarm_raised(self, alarm_id: int) -> None:
        """The oldest step alarm is raised (committed, as `alarm_id`): no start raises it again. Its
        time is the step's, on a clock known right then (an earlier boot's, if that one kept it
        unraised), not this boot's stale one: a re-dating leaves it, as it does an older alarm open
        as the box booted (older_open), and moves only a clearing this boot writes."""
        del self.alarms[0]
        self.boot = replace(self.boot, older_open=self.boot.older_open | {alarm_id})
        self._keep()

    def paused_at(self, now: datetime) -> datetime | None:
        """When the pause of the rounds began, on the wall clock as it is now: the clock's reading
        before its first step, once it is set right. Counted back on the monotonic clock, so that a
        clock left ten years ahead does not look back across the years it skipped."""
        if self.boot.paused_since is None:
            return None
        return later(now, -timedelta(seconds=self._monotonic() - self.boot.paused_since))

    def caught_up(self) -> None:
        """The rounds since the pause began are judged: the usual look-back does again."""
        if self.boot.paused_since is not None:
            self.boot = replace(self.boot, paused_since=None)
            self._keep()

    def trusted(self, mono: float) -> bool:
        return mono >= self.boot.trusted_from

    def pause_over(self, mono: float) -> None:
        """The pause of a clock far ahead is over (the gateway trusts the clock as it is): a later
        boot is judged by the heartbeats again, not by the time known before that clock."""
        if self.boot.far_from is not None and self.trusted(mono):
            self.boot = replace(self.boot, far_from=None)
            self._keep()

    def may_be_stale(self, mono: float) -> bool:
        """Whether the wall clock may still be the stale one the box booted on: no step has set it
        or been a running clock's, and one could still set it (within BOOT_CLOCK_WINDOW of the
        boot). fake-hwclock saves the time once an hour, so that clock can read before the last
        things written before the power cut: true times, not ones a running clock wrote ahead."""
        return self.boot.clock_state == "stale" and mono <= BOOT_CLOCK_WINDOW.total_seconds()

    def judging(self, rounds: Sequence[StaleRound], mono: float) -> None:
        """Patrol rounds about to be judged for the first time: kept, while the clock may be the
        stale one the box booted on, for the step that sets it to undo those due while the box was
        off (gateway/store/redate.py, _undo_rounds). Kept before they are written: one written and
        not kept (a kill between) would stay judged on a wrong clock."""
        if rounds and self.may_be_stale(mono):
            self.boot = replace(self.boot, stale_rounds=(*self.boot.stale_rounds, *rounds))
            self._keep()

    def judged_again(self) -> None:
        """The rounds left to judge again after the clock was set are judged (recorded, or found on
        record final): no longer looked for."""
        if self.boot.judge_again:
            self.boot = replace(self.boot, judge_again=())
            self._keep()

    def redate(
        self,
        run: Callable[[Callable[[sqlite3.Connection], Boot]], Boot],
        pass_hours: timedelta,
        restart_grace: timedelta,
    ) -> tuple[Step, ...]:
        """The steps seen, all in one transaction with their mark (the operations' "redate" step:
        retried at the next look until it is done), then the snapshot files written on the old
        clock. `run` runs on the decision worker. The rounds judged on the old clock are unjudged,
        and those whose deadline passed less than `restart_grace` before the box booted, or after
        (on the new clock), left to judge again (judge_again). The box's boot, not this run's
        start: a round missed while the box was up, before a restart of the service, was open then.
        Returns the steps re-dated (none: nothing moved)."""
        steps: tuple[Step, ...] = ()
        if self._steps:
            steps = tuple(self._steps)
            rounds_before = steps[-1].booted_now - restart_grace
            self.boot = run(
                partial(
                    redate, boot=self.boot, steps=steps, pass_hours=pass_hours, rounds_before=rounds_before
                )
            )
            del self._steps[: len(steps)]
            self._keep()  # a kill before this: the next run reads the mark
            for step in steps:  # at most once: a kill just before leaves them to be deleted sooner
                plan.redate_files(plan.snapshot_files(self.snapshots_dir), step.of_boot, step.by)
        self._keep_clock()
        return steps

    def _keep_clock(self) -> None:
        """Keep the clock the boot's rows are dated on, once every step is re-dated (a running
        clock's step moves it too: its rows stay as they are); written when it moved (a step), not
        every tick."""
        boot = self._with_clock()
        if boot != self.boot:
            self.boot = boot
            self._keep()

    def _with_clock(self) -> Boot:
        """The boot on the clock seen last, once every step is re-dated (less than a second off:
        as it is)."""
        wall, mono = self._seen
        clock = wall.timestamp() - mono
        if self._steps or (self.boot.clock is not None and abs(clock - self.boot.clock) < 1):
            return self.boot
        return replace(self.boot, clock=clock)

    def _keep(self) -> None:
        keep_boot(self.data_dir, self.boot, self.alarms)
