"""Writing a checked CSV import into the live store in short steps, so that no lane waits behind it.

A lane's decision writes in one short transaction; an import of 100,000 rows in one transaction held
the write lock for seconds, and past the 10 s busy timeout a card at the gate failed as
storage_failed. So the checked rows go first to a staging file next to the database (csv_staging.py).
It is attached to the store's connection, and each step is a few SQL statements that write a range
of its rows (upserts by key, references looked up in the store), followed by a pause in which a
waiting lane takes the lock. Steps are sized to take about STEP_S each.

All or nothing: nothing is written until every row of every file passed (csv_import.py). Once the
first step is in, the import is carried to its end: the staging file keeps the checked rows until
the last step is in, and if a step fails (disk full, power cut, the process killed) the next
`gateway import` finishes it (roll forward, as the MQTT snapshots do). Each step records how far the
import got in its own transaction (table import_steps, as sync_state.applying_done is for a
snapshot), and the next run goes on after it: nothing already in is written again, as that would
undo the changes made since (a card deleted or blocked at the booth after the cut was back, open,
when the next run wrote the import again from its first row). The staging file says whether its
steps keep that record (Staged.steps_kept): for one that does, no record means nothing of it is in.
One that a release before schema 70 left unfinished has none: the first run after the upgrade
writes it again from its first row (every write is an upsert by key, so a row written twice stores
the same thing), and one cut again goes on after what the runs since recorded, but that release's
rows may go further (give_up). Once the last step is in (its audit row says so) nothing of the
import is written again. While the steps run a lane sees each resident, car, card and slot either
as it was or as the files have it; a slot's cars, given by a slots file's `plates`, are gone over
twice (_slots, then _slot_cars_unlisted), so that a car the files move from one slot to another is
on its old slot, its new one or both between two steps, never on none.

The one import not carried to its end is one that other writers overtook: each step checks its
rows' references again (csv_recheck.py), and a row naming what was deleted or given to another
resident since can never be written as checked. The import stops there, naming those rows, and is
given up (Stopped.unwritable): kept, it failed at the same row every run and no import could run.
The rows it did write are in the store, so a given-up import writes the audit row and upstream record
the last step would have (give_up), saying how far it got and why it stopped.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gateway.store.audit import audit
from gateway.store.csv_recheck import no_longer_fit
from gateway.store.csv_records import told_upstream
from gateway.store.csv_staging import Run, Staged
from gateway.store.database import transaction
from gateway.store.flags_sql import has_flag_sql
from gateway.store.outbox import enqueue
from gateway.store.parking import (
    HELD_BESIDE,
    SET_ASIDE,
    WANTED_BY_ITS_OLD_CAR,
    off_slots_not_theirs,
    parked_as_listed,
)
from gateway.store.registry import onto_free_slots, onto_slots_of_registered, record_block
from gateway.store.renewals import renewed_while_parked

STEP_ROWS = 500  # the first step; later ones are sized to take about STEP_S
STEP_S = 0.02  # a lane waits about one step: 20 ms is nothing at a gate; 15 ms left the import target thin
MIN_STEP_ROWS = 50
MAX_STEP_ROWS = 20_000
# The gap after each step. A lane asks for the write lock every millisecond (begin_immediate), so
# a few ms let every waiting lane in before the next step.
PAUSE_S = 0.003
# The steps' pages are copied from the WAL into the database file this often, in a gap (a passive
# checkpoint holds no lock a lane needs), rather than by SQLite in a step's commit.
CHECKPOINT_S = 0.25
# SQLite's page cache while the steps run, in KiB (its default, 2 MiB, came back after). Each step
# looks up and writes keys spread over the store's indexes (a resident's phone hash, a car's
# plate): with the default, the bench's import read 2.2 GB of pages again from the files, 0.3 GB
# now. Taken as it is used (the bench's import grew by 44 MB), by the import's connection only.
CACHE_KIB = 65_536


@dataclass(frozen=True, slots=True)
class Part:
    """Rows first..last of one run, written in one step; who the import's audit rows name, and when;
    the zones the site config has; the import's id and the bytes a record of its rows may take
    upstream (csv_records.py); `tell_all`: every row goes up, changed or not (Staged.told)."""

    run: Run
    first: int
    last: int
    at: datetime
    actor: str
    zones: frozenset[str]
    import_id: str
    room: int
    tell_all: bool = False

    @property
    def span(self) -> tuple[int, int]:
        return self.first, self.last


class Stopped(Exception):
    """A step failed; the first `done` rows of the files are in (0: nothing of the import is),
    `began` of them by the runs before this one, as import_steps recorded them (in a file staged by a
    release before schema 70, that release's runs, which recorded nothing, may have written more).
    `unwritable`: why rows of that step can never be written as they stand (the store changed
    since they were checked); empty where running it again may finish it (a busy or full disk)."""

    def __init__(self, done: int, cause: Exception, unwritable: list[str] | None = None, began: int = 0):
        self.done = done
        self.cause = cause
        self.unwritable = unwritable or []
        self.began = began
        super().__init__(str(cause))


class _Overtaken(Exception):
    """Rows of a step name what other writers deleted or moved since the import was checked."""

    def __init__(self, unwritable: list[str]):
        self.unwritable = unwritable
        super().__init__("; ".join(unwritable))


def apply_steps(
    conn: sqlite3.Connection,
    staged: Staged,
    zones: frozenset[str],
    room: int,
    now: Callable[[], datetime],
    pause: Callable[[], None] | None = None,
) -> None:
    """Write the staged rows in steps of about STEP_S each, from the step after the last one in
    (import_steps), the audit row and the upstream record with the last; `zones`: the site
    config's; `room`: the bytes a record of rows may take. Steps before the last commit without
    waiting for the disk (as snapshot steps do); the last one waits, and with it all before it.
    Raises Stopped."""
    level = int(conn.execute("PRAGMA synchronous").fetchone()[0])
    try:
        after = _steps_in(conn, staged.meta["import_id"])
        conn.execute("ATTACH DATABASE ? AS st", (str(staged.path),))
    except sqlite3.Error as exc:
        raise Stopped(0, exc) from exc
    autocheckpoint = int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
    conn.execute("PRAGMA wal_autocheckpoint=0")
    cache = int(conn.execute("PRAGMA cache_size").fetchone()[0])
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    began = done = min(after, staged.total)
    sizer, checkpointed = _Sizer(), time.monotonic()
    try:
        for spans, reached, is_last in _steps(staged, sizer, after):
            conn.execute(f"PRAGMA synchronous={level if is_last else 1}")
            step_began = time.perf_counter()
            try:
                at = now()
                meta = staged.meta
                parts = [
                    Part(run, first, last, at, meta["actor"], zones, meta["import_id"], room, not staged.told)
                    for run, first, last in spans
                ]
                _step(conn, parts, staged.meta, None if is_last else reached, at)
            except _Overtaken as exc:
                raise Stopped(done, exc, exc.unwritable, began) from exc
            except sqlite3.IntegrityError as exc:
                # One the recheck does not foresee fails as surely again on the same rows and store.
                # (A first step's failure leaves nothing in: the import is dropped whatever failed.)
                rows = ", ".join(f"{p.run.kind} rows {p.first}-{p.last}" for p in parts)
                raise Stopped(done, exc, [f"{rows}: {exc}"] if done else None, began) from exc
            except sqlite3.Error as exc:
                raise Stopped(done, exc, began=began) from exc
            done += _rows_of_the_files(parts)
            if is_last:
                return
            sizer.took(time.perf_counter() - step_began)
            gap_began = time.perf_counter()
            if time.monotonic() - checkpointed >= CHECKPOINT_S:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                checkpointed = time.monotonic()
            if pause is not None:
                pause()
            else:
                time.sleep(max(0.0, PAUSE_S - (time.perf_counter() - gap_began)))
    finally:
        conn.execute(f"PRAGMA synchronous={level}")
        conn.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
        conn.execute(f"PRAGMA cache_size={cache}")
        conn.execute("DETACH DATABASE st")


class _Sizer:
    """How many rows the next step takes: as many as took about STEP_S in the last one."""

    def __init__(self) -> None:
        self.rows = STEP_ROWS

    def took(self, seconds: float) -> None:
        wanted = int(self.rows * STEP_S / max(seconds, 1e-4))
        self.rows = min(MAX_STEP_ROWS, max(MIN_STEP_ROWS, wanted))


# A slots file's cars are given in two passes over its rows, as the central server's snapshot's are
# (gateway/sync/apply.py): each row's step adds the cars it lists to its slot (_slots), and once
# every row is in, steps of their own take off each slot the cars it no longer lists (runs of this
# kind, over the same rows). A car the files move from a slot to one further down was taken off the
# first in one step and added to the second in a later one: refused no_slot (or let in paying) in
# between, though it had a slot before and after. On both for a moment, it parks free on one.
SLOT_CARS_UNLISTED = "slot_cars_unlisted"


def _passes(staged: Staged) -> list[Run]:
    """The runs in the order they are written: every row of the files, then the rows of the slots
    files that give `plates` once more (SLOT_CARS_UNLISTED)."""
    again = [
        Run(SLOT_CARS_UNLISTED, run.given, run.first, run.last)
        for run in staged.runs
        if run.kind == "slots" and "plates" in run.given
    ]
    return staged.runs + again


def _steps(
    staged: Staged, sizer: _Sizer, after: int = 0
) -> Iterator[tuple[list[tuple[Run, int, int]], int, bool]]:
    """Each step's parts (run, first row, last row), sizer.rows rows in all (a row gone over twice
    counts twice), its last position in the order written (_passes: every row of the files, then
    the slots' second pass), and whether it is the last; from position `after` on (those up to it
    are in). An import of no rows is one step with no parts (its audit record)."""
    placed, end = [], 0  # each run with how far its rows are from their place in the order written
    for run in _passes(staged):
        placed.append((run, end + 1 - run.first))
        end += run.last - run.first + 1
    first = after + 1
    while True:
        last = min(end, first + sizer.rows - 1)
        spans = [
            (r, max(first - shift, r.first), min(last - shift, r.last))
            for r, shift in placed
            if r.first + shift <= last and r.last + shift >= first
        ]
        yield spans, last, last >= end
        if last >= end:
            return
        first = last + 1


def _rows_of_the_files(parts: list[Part]) -> int:
    """How many rows of the files the parts write (not counting the slots' second pass)."""
    return sum(p.last - p.first + 1 for p in parts if p.run.kind != SLOT_CARS_UNLISTED)


def _step(
    conn: sqlite3.Connection, parts: list[Part], meta: dict[str, Any], reached: int | None, at: datetime
) -> None:
    """`reached`: the step's last position, kept with its rows (import_steps); None: it is the
    import's last step, which writes its audit row and upstream record. Raises _Overtaken,
    sqlite3.Error."""
    with transaction(conn):
        for part in parts:  # each asked after the parts before it are in: a card may name their car
            # (It asks nothing of the slots' second pass: that names nothing the first did not.)
            unwritable = no_longer_fit(conn, part.run.kind, part.run.given, part.span)
            if unwritable:
                raise _Overtaken(unwritable)
            with told_upstream(conn, part):  # each row it adds or changes (csv_records.py)
                WRITERS[part.run.kind](conn, part)
        if reached is None:
            _finish(conn, meta, at)
        else:
            conn.execute(_STEPS_IN, (meta["import_id"], reached))


_STEPS_IN = """INSERT INTO import_steps (id, import_id, done) VALUES (1, ?, ?)
    ON CONFLICT (id) DO UPDATE SET import_id = excluded.import_id, done = excluded.done"""


def _steps_in(conn: sqlite3.Connection, import_id: str) -> int:
    """The last position of the import's steps that is in the store (0: none, or unknown)."""
    found = conn.execute("SELECT done FROM import_steps WHERE import_id = ?", (import_id,)).fetchone()
    return int(found[0]) if found else 0


def finished(conn: sqlite3.Connection, import_id: str) -> bool:
    """The last step is in already, or the import was given up (give_up): an earlier run committed
    its audit row but stopped before removing the staging file (which must then not be written
    again)."""
    found = conn.execute(
        "SELECT 1 FROM audit WHERE action = 'registry.import' AND detail LIKE ?", (f'%"{import_id}"%',)
    ).fetchone()
    return found is not None


def give_up(conn: sqlite3.Connection, staged: Staged, stop: Stopped, at: datetime, resumed: bool) -> None:
    """The registry.import audit row and upstream record of an import given up part way
    (stop.unwritable), in one transaction: its first stop.done rows are in the store, and the office
    and the centre are told who wrote them, how many of each kind, what was left out and why. The
    slots among them are as the files have them: the cars they no longer list are taken off them
    with it (the second pass the import did not get to, _slot_cars_unlisted).
    `resumed`: finishing one that an earlier run left unfinished. Staged by a release before schema
    70 (not staged.steps_kept), whose runs kept no record of how far they got, some of those left
    out may be in too, whatever the runs since the upgrade recorded (stop.began): that release's
    rows may go further. So each slots row after them whose slot has what the row's first pass
    writes (its cars and owner, _first_pass_found) is taken as written, and its slot made as the
    files have it too: left, it listed its old cars and the file's, two households' cars on one
    slot for good. A row whose first pass is not in is left as it was: its old cars taken off
    without the file's put on, a car the file moves to a slot further down was on none. Staged
    since, nothing after them is in (one cut inside its first step has nothing in at all): taken as
    written, a slot the file names lost a car put on it at the booth, by a row never written.
    Raises sqlite3.Error."""
    written = Counter({kind: 0 for kind in staged.meta["counts"]})
    left_out = written.copy()
    for run in staged.runs:
        written[run.kind] += max(0, min(run.last, stop.done) - run.first + 1)
        left_out[run.kind] += max(0, run.last - max(run.first, stop.done + 1) + 1)
    stopped = {
        "written": dict(written),
        "left_out": dict(left_out),
        "reason": _why_given_up(stop),
        "resumed": resumed,
    }
    conn.execute("ATTACH DATABASE ? AS st", (str(staged.path),))
    try:
        with transaction(conn):
            for run in _passes(staged):
                if run.kind != SLOT_CARS_UNLISTED:
                    continue
                if run.first <= stop.done:
                    span = {"lo": run.first, "hi": min(run.last, stop.done)}
                    _take_off_unlisted(conn, at, _IN_SPAN, span)
                found = [] if staged.steps_kept else _first_pass_found(conn, run, stop.done)
                if found:
                    _take_off_unlisted(conn, at, _IN_LIST, {"rows": json.dumps(found)})
            _finish(conn, staged.meta, at, stopped)
    finally:
        conn.execute("DETACH DATABASE st")


def _why_given_up(stop: Stopped) -> str:
    # Only a count of the rows that no longer fit: they name card numbers, which the audit trail
    # shows masked only (the error printed to the office names them in full).
    if isinstance(stop.cause, _Overtaken):
        return f"the store changed while it ran: {len(stop.unwritable)} row(s) no longer fit it"
    return f"a step could not be written: {stop.cause}"


def _finish(
    conn: sqlite3.Connection, meta: dict[str, Any], at: datetime, stopped: dict[str, Any] | None = None
) -> None:
    """The import's audit row and upstream record; `stopped`: how far one given up got (give_up)."""
    files = ",".join(meta["files"])
    summary: dict[str, Any] = {"counts": meta["counts"]} | ({"stopped": stopped} if stopped else {})
    detail = json.dumps({"import": meta["import_id"], **summary})
    audit(conn, at, str(meta["actor"]), "registry.import", files[:200], detail)
    conn.execute("DELETE FROM import_steps WHERE import_id = ?", (meta["import_id"],))
    payload = {"op": "import", "entity": "batch", "id": meta["import_id"], **summary}
    enqueue(conn, "registry", {**payload, "at": at.isoformat()}, at)


def _set(part: Part, always: list[str], optional: list[str], written_as: dict[str, str] | None = None) -> str:
    """The upsert's SET: the columns every file has, and the optional ones this run's files have
    (`written_as`: an optional file column stored in another column, e.g. a card's plate)."""
    written_as = written_as or {}
    given = [c for c in optional if c in part.run.given]
    return ", ".join(f"{c} = excluded.{c}" for c in always + [written_as.get(c, c) for c in given])


def _residents(conn: sqlite3.Connection, part: Part) -> None:
    if "blocked" in part.run.given:
        _audit_blocks(
            conn,
            part,
            "resident",
            """SELECT x.ref, x.blocked FROM st.residents x JOIN residents r ON r.ref = x.ref
               WHERE x.n BETWEEN ? AND ? AND r.blocked != x.blocked""",
        )
    optional = ["room", "valid_from", "valid_to", "blocked"]
    # A phone the file leaves out ('keep') stays; an export's masked number ('masked') keeps the
    # stored hash only when it is the stored number.
    conn.execute(
        f"""INSERT INTO residents (ref, building, unit, room, name, phone_masked, phone_hash,
                                   valid_from, valid_to, blocked)
           SELECT x.ref, x.building, x.unit, x.room, x.name,
                  CASE x.pmode WHEN 'keep' THEN coalesce(r.phone_masked, '') ELSE x.phone_masked END,
                  CASE x.pmode WHEN 'keep' THEN coalesce(r.phone_hash, '')
                      WHEN 'masked' THEN CASE WHEN x.phone_masked = r.phone_masked
                                              THEN r.phone_hash ELSE '' END
                      ELSE x.phone_hash END,
                  x.valid_from, x.valid_to, x.blocked
           FROM st.residents x LEFT JOIN residents r ON r.ref = x.ref
           WHERE x.n BETWEEN ? AND ?
           ON CONFLICT (ref) DO UPDATE SET {_set(part, ["building", "unit", "name"], optional)},
               phone_masked = excluded.phone_masked, phone_hash = excluded.phone_hash""",
        part.span,
    )
    if "valid_from" in part.run.given or "valid_to" in part.run.given:
        # A lease renewed: a slot that passed over a car of the household while it had lapsed is
        # handed to it now.
        onto_slots_of_registered(
            conn,
            part.at,
            """SELECT v.id FROM st.residents x JOIN residents r ON r.ref = x.ref
               JOIN vehicles v ON v.resident_id = r.id WHERE x.n BETWEEN :lo AND :hi""",
            {"lo": part.first, "hi": part.last},
        )


def _vehicles(conn: sqlite3.Connection, part: Part) -> None:
    optional = ["class", "monthly_until"]
    conn.execute(
        f"""INSERT INTO vehicles (plate, class, resident_id, monthly_until)
           SELECT x.plate, x.class, (SELECT id FROM residents WHERE ref = x.resident_ref), x.monthly_until
           FROM st.vehicles x WHERE x.n BETWEEN ? AND ?
           ON CONFLICT (plate) DO UPDATE SET {_set(part, ["resident_id"], optional)}""",
        part.span,
    )
    # A plate that came on a visitor pass is the resident's car's now, as the admin API's "add
    # vehicle" makes it: a new credential, not the pass's with its window (the car was refused as
    # expired once the pass ended) and its block.
    conn.execute(
        """DELETE FROM credentials WHERE kind = 'plate' AND pass_id IS NOT NULL
           AND value IN (SELECT plate FROM st.vehicles WHERE n BETWEEN ? AND ?)""",
        part.span,
    )
    _credentials(conn, part, "plate", "st.vehicles", "x.plate", "''")
    # A renewal of a car parked paying since its period ran out (after its plate: a car deleted
    # and added again has its stay follow the plate to it).
    cars = "SELECT v.id FROM st.vehicles x JOIN vehicles v ON v.plate = x.plate WHERE x.n BETWEEN :lo AND :hi"
    renewed_while_parked(conn, part.at, cars, {"lo": part.first, "hi": part.last})
    # A car registered again: a slot of its that passed it over while it had lapsed is handed now.
    onto_slots_of_registered(conn, part.at, cars, {"lo": part.first, "hi": part.last})


def _cards(conn: sqlite3.Connection, part: Part) -> None:
    _credentials(conn, part, "card", "st.cards", "x.card", "x.hours")


def _credentials(conn: sqlite3.Connection, part: Part, kind: str, table: str, value: str, hours: str) -> None:
    if "blocked" in part.run.given:
        _audit_blocks(
            conn,
            part,
            kind,
            # CROSS JOIN keeps the step's rows first (as csv_records.py's reads): left to itself,
            # SQLite read every card in the store for each step, by the staging file's index on
            # card numbers: the cards of the benchmark's register (90,000 cards) took 20 s of CPU
            # to write, 0.3 s now. In card order, as that plan gave them (their audit rows' order).
            f"""SELECT {value}, x.blocked FROM {table} x
                CROSS JOIN credentials c ON c.kind = '{kind}' AND c.value = {value}
                WHERE x.n BETWEEN ? AND ? AND c.blocked != x.blocked{_IN_CARD_ORDER[kind]}""",
        )
    optional = ["valid_from", "valid_to", "hours", "blocked"] + (["plate"] if kind == "card" else [])
    # A plate is its car's (a card is tied to one only by its file's `plate` column).
    always = ["resident_id"] + (["vehicle_id"] if kind == "plate" else [])
    conn.execute(
        f"""INSERT INTO credentials (kind, value, resident_id, vehicle_id, valid_from, valid_to,
                                    hours, blocked)
           SELECT '{kind}', {value}, (SELECT id FROM residents WHERE ref = x.resident_ref),
                  (SELECT id FROM vehicles WHERE plate = x.plate), x.valid_from, x.valid_to,
                  {hours}, x.blocked
           FROM {table} x WHERE x.n BETWEEN ? AND ?
           ON CONFLICT (kind, value) DO UPDATE SET pass_id = NULL,
               {_set(part, always, optional, {"plate": "vehicle_id"})}""",
        part.span,
    )


_IN_CARD_ORDER = {"card": " ORDER BY x.card", "plate": ""}


def _audit_blocks(conn: sqlite3.Connection, part: Part, what: str, changed: str) -> None:
    """A block the import sets or lifts (a lost card unblocked by a list) is on record one by one.
    `changed` selects (value, blocked as the file has it) where the store has it otherwise."""
    for value, blocked in conn.execute(changed, part.span).fetchall():
        record_block(conn, part.at, part.actor, what, value, bool(blocked), "by gateway import")


# The rows `{rows}` of the staging file (SQL on x.n): those of a span, or of a list.
_IN_SPAN = "x.n BETWEEN :lo AND :hi"
_IN_LIST = "x.n IN (SELECT value FROM json_each(:rows))"
_SLOTS_OF_ROWS = """SELECT s.id FROM st.slots x JOIN slots s ON s.zone = x.zone AND s.number = x.number
    WHERE {rows}"""


def _slots(conn: sqlite3.Connection, part: Part) -> None:
    _move_out_of_zones_gone(conn, part)
    keeps_owner = "resident_ref" not in part.run.given
    owner = "DO NOTHING" if keeps_owner else "DO UPDATE SET resident_id = excluded.resident_id"
    conn.execute(
        f"""INSERT INTO slots (zone, number, resident_id)
           SELECT x.zone, x.number, (SELECT id FROM residents WHERE ref = x.resident_ref)
           FROM st.slots x WHERE x.n BETWEEN ? AND ?
           ON CONFLICT (zone, number) {owner}""",
        part.span,
    )
    if "plates" in part.run.given:  # else the slots' cars stay as they are
        # Those it no longer lists are taken off once every row is in (_slot_cars_unlisted).
        conn.execute(
            """INSERT OR IGNORE INTO slot_vehicles (slot_id, vehicle_id)
               SELECT s.id, v.id FROM st.slot_plates p
               JOIN st.slots x ON x.n = p.n
               JOIN slots s ON s.zone = x.zone AND s.number = x.number
               JOIN vehicles v ON v.plate = p.plate
               WHERE p.n BETWEEN ? AND ?""",
            part.span,
        )
    # The cars parked are placed as the files have them (a car parked on a slot its row no longer
    # lists moves off it now, and the slot's other cars it no longer lists with it: its second cars
    # are not free on it meanwhile). A car of a slot free now that is parked in the shared spaces
    # moves onto it, as at a handover: one of a slot moved here that came in without it since the
    # rename (the lane's zone had no slot of its), or one the slot lists again.
    going = _cars_going(conn, part) if "plates" in part.run.given else []
    with parked_as_listed(conn, part.at, going, _MOVING_IN):
        onto_free_slots(conn, part.at, _SLOTS_TO_HAND, {"lo": part.first, "hi": part.last})


# The first pass's `going` (gateway.store.parking.parked_as_listed), as a snapshot's
# (gateway/sync/apply.py _CARS_GOING): the (slot, car) pairs that the files take off (of cars
# inside, or on a slot a car is parked on: SET_ASIDE), among the slots whose cars the span's rows
# may move: the span's own (the cars their rows no longer list), and those (`near`) that a car
# parked on one of them, or parked elsewhere and listed by a row of the span, is parked on or
# listed by, or that a car held on its old slot (HELD_BESIDE) is parked on or listed by, where a
# row of a slots file giving `plates` (anywhere in the files) does not list the car.
_CARS_OF_THE_SPAN = """SELECT v.id FROM st.slot_plates p JOIN vehicles v ON v.plate = p.plate
    WHERE p.n BETWEEN :lo AND :hi"""
# Whether the files take the car of the slot_vehicles row `{row}` off its slot `sl`: a row of a
# slots file giving `plates` (anywhere in the files) does not list it.
_TAKEN_OFF = f"""EXISTS (
        SELECT 1 FROM st.slots o JOIN st.runs r ON o.n BETWEEN r.first AND r.last
        WHERE o.zone = sl.zone AND o.number = sl.number
          AND r.kind = 'slots' AND {has_flag_sql("r.given", "plates")}
          AND NOT EXISTS (SELECT 1 FROM st.slot_plates q JOIN vehicles w ON w.plate = q.plate
              WHERE q.n = o.n AND w.id = {{row}}.vehicle_id))"""
_CARS_GOING = f"""WITH span AS ({_SLOTS_OF_ROWS.format(rows=_IN_SPAN)}),
    moving AS (
        SELECT t.vehicle_id, t.slot_id FROM stays t
        WHERE t.exited_at IS NULL AND t.slot_id IN (SELECT id FROM span)
        UNION
        SELECT t.vehicle_id, t.slot_id FROM st.slots x
        JOIN st.slot_plates p ON p.n = x.n JOIN vehicles v ON v.plate = p.plate
        JOIN stays t ON t.vehicle_id = v.id AND t.exited_at IS NULL AND t.slot_id IS NOT NULL
        WHERE x.n BETWEEN :lo AND :hi
        UNION
        {HELD_BESIDE.format(cars=_CARS_OF_THE_SPAN)}),
    near AS (
        SELECT slot_id FROM moving
        UNION SELECT sv.slot_id FROM slot_vehicles sv JOIN moving m ON m.vehicle_id = sv.vehicle_id
        EXCEPT SELECT id FROM span)
    SELECT sv.slot_id, sv.vehicle_id FROM st.slots x
    JOIN slots sl ON sl.zone = x.zone AND sl.number = x.number
    JOIN slot_vehicles sv ON sv.slot_id = sl.id
    WHERE x.n BETWEEN :lo AND :hi AND {SET_ASIDE} AND NOT EXISTS (
        SELECT 1 FROM st.slot_plates p JOIN vehicles v ON v.plate = p.plate
        WHERE p.n = x.n AND v.id = sv.vehicle_id)
    UNION
    SELECT sv.slot_id, sv.vehicle_id FROM near JOIN slots sl ON sl.id = near.slot_id
    JOIN slot_vehicles sv ON sv.slot_id = sl.id
    WHERE {SET_ASIDE} AND {_TAKEN_OFF.format(row="sv")}"""


# The slots the first pass hands to a car of theirs waiting in the shared spaces (onto_free_slots),
# as a snapshot's (gateway/sync/apply.py _SLOTS_TO_HAND): the span's own and those its cars leave,
# but not one a car outside that the files take off it still needs (WANTED_BY_ITS_OLD_CAR): handed
# in the step that writes that car's new slot, or in the second pass (_take_off_unlisted).
# Whether the files give the car of the slot_vehicles row `n` a slot of n's zone that does not list
# it yet (a row further on), as a snapshot's (gateway/sync/apply.py _MOVING_IN).
_MOVING_IN = """EXISTS (SELECT 1 FROM st.slot_plates q JOIN vehicles x ON x.plate = q.plate
        JOIN st.slots o ON o.n = q.n JOIN slots z ON z.id = n.slot_id
        WHERE x.id = n.vehicle_id AND o.zone = z.zone AND NOT EXISTS (
            SELECT 1 FROM slots ws JOIN slot_vehicles w ON w.slot_id = ws.id
            WHERE ws.zone = o.zone AND ws.number = o.number AND w.vehicle_id = x.id))"""
_SLOTS_TO_HAND = f"""SELECT sl.id FROM slots sl
    WHERE sl.id IN ({_SLOTS_OF_ROWS.format(rows=_IN_SPAN)}
        UNION SELECT sv.slot_id FROM slot_vehicles sv WHERE sv.vehicle_id IN ({_CARS_OF_THE_SPAN}))
      AND NOT {WANTED_BY_ITS_OLD_CAR.format(taken_off=_TAKEN_OFF.format(row="n"), moving_in=_MOVING_IN)}"""


def _cars_going(conn: sqlite3.Connection, part: Part) -> list[tuple[int, int]]:
    return conn.execute(_CARS_GOING, {"lo": part.first, "hi": part.last}).fetchall()


_UNLISTED = """DELETE FROM slot_vehicles WHERE (slot_id, vehicle_id) IN (
    SELECT sv.slot_id, sv.vehicle_id FROM st.slots x
    JOIN slots s ON s.zone = x.zone AND s.number = x.number
    JOIN slot_vehicles sv ON sv.slot_id = s.id
    WHERE {rows} AND NOT EXISTS (
        SELECT 1 FROM st.slot_plates p JOIN vehicles v ON v.plate = p.plate
        WHERE p.n = x.n AND v.id = sv.vehicle_id))"""


def _slot_cars_unlisted(conn: sqlite3.Connection, part: Part) -> None:
    """The second pass over a slots file's rows (SLOT_CARS_UNLISTED): each slot's cars that its row
    no longer lists are taken off it."""
    _take_off_unlisted(conn, part.at, _IN_SPAN, {"lo": part.first, "hi": part.last})


def _take_off_unlisted(conn: sqlite3.Connection, at: datetime, rows: str, params: dict[str, Any]) -> None:
    conn.execute(_UNLISTED.format(rows=rows), params)
    # A car parked on one of them that it no longer lists moves off it: onto another slot that
    # lists it where one is free (the car the file moved), or into the shared spaces.
    off_slots_not_theirs(conn, at, _SLOTS_OF_ROWS.format(rows=rows), params)
    # A slot held for a car the files take off it (_SLOTS_TO_HAND) is handed now that it is off.
    onto_free_slots(conn, at, _SLOTS_OF_ROWS.format(rows=rows), params)


# Of rows :lo to :hi of a slots file giving `plates`, those whose slot has what the row's first pass
# writes (_slots): each car it lists that the store has (one at least), and its owner where the
# file gives one ({owner}).
_FIRST_PASS_IN = """SELECT x.n FROM st.slots x JOIN slots s ON s.zone = x.zone AND s.number = x.number
    WHERE x.n BETWEEN :lo AND :hi {owner}
      AND EXISTS (SELECT 1 FROM st.slot_plates p JOIN vehicles v ON v.plate = p.plate WHERE p.n = x.n)
      AND NOT EXISTS (SELECT 1 FROM st.slot_plates p JOIN vehicles v ON v.plate = p.plate
          WHERE p.n = x.n AND NOT EXISTS (
              SELECT 1 FROM slot_vehicles sv WHERE sv.slot_id = s.id AND sv.vehicle_id = v.id))"""
_OWNER_IN = "AND s.resident_id IS (SELECT id FROM residents WHERE ref = x.resident_ref)"


def _first_pass_found(conn: sqlite3.Connection, run: Run, after: int) -> list[int]:
    """The rows of `run` (SLOT_CARS_UNLISTED) after row `after` whose first pass is in the store:
    written by a release before schema 70, which may have got further than the runs since."""
    owner = _OWNER_IN if "resident_ref" in run.given else ""
    rows = {"lo": max(run.first, after + 1), "hi": run.last}
    return [n for (n,) in conn.execute(_FIRST_PASS_IN.format(owner=owner), rows)]


# The slots of the span's rows that are not in the store yet, with each slot of the same number in
# a zone the site config no longer has (`gone`, JSON): (row, zone, that slot's id and zone, whether
# the row names that slot's owner: {owner}).
_SAME_NUMBER_IN_ZONES_GONE = """SELECT x.n, x.zone, s.id, s.zone, {owner} FROM st.slots x
    JOIN slots s ON s.number = x.number AND s.zone IN (SELECT value FROM json_each(?))
    WHERE x.n BETWEEN ? AND ?
      AND NOT EXISTS (SELECT 1 FROM slots t WHERE t.zone = x.zone AND t.number = x.number)
    ORDER BY x.n"""
_SAME_OWNER = "(SELECT id FROM residents WHERE ref = x.resident_ref) IS s.resident_id"
# How many slots the store has in a zone, and how many of them the import names.
_IN_ZONE = "SELECT count(*) FROM slots WHERE zone = ?"
_IN_ZONE_IMPORTED = """SELECT count(*) FROM st.slots x JOIN slots s ON s.zone = x.zone AND s.number = x.number
    WHERE x.zone = ?"""
_ONE_MORE_IN_ZONE = """INSERT INTO zone_slots (zone, fixed) VALUES (?, 1)
    ON CONFLICT (zone) DO UPDATE SET fixed = fixed + 1"""


def _move_out_of_zones_gone(conn: sqlite3.Connection, part: Part) -> None:
    """A zone renamed in site.toml leaves its slots in the old zone, where no lane looks for them;
    the fix the start's ERROR gives is to import them again in a configured zone. A row whose slot
    is not in the store, with the same number as one slot in zones the config lacks, is that slot
    where it plainly gives it again: its zone holds no slot but the import's (the zone the gone one
    became), and its `resident_ref`, where the file has one, is the slot's owner. That slot is
    moved, keeping its id (its history, its cars, a car parked on it), not added beside it, which
    left the old one behind and the ERROR for ever. A new slot numbered the same way in another
    zone (another resident's, or one more of a zone with slots) is added, and the old one waits
    for its own row: matched by number alone, it went to that zone and owner with the car parked
    on it. A number found in two zones gone, or one slot given by two rows, is not guessed at.
    Moved once, a slot is in the store as the row has it: a step written again (roll forward)
    moves nothing twice."""
    gone = [
        zone
        for zone, fixed in conn.execute("SELECT zone, fixed FROM zone_slots")
        if fixed and zone not in part.zones
    ]
    if not gone:
        return
    owner = _SAME_OWNER if "resident_ref" in part.run.given else "1"
    found: dict[int, list[tuple[str, int, str, bool]]] = {}
    for n, zone, slot_id, old, same_owner in conn.execute(
        _SAME_NUMBER_IN_ZONES_GONE.format(owner=owner), (json.dumps(gone), *part.span)
    ):
        found.setdefault(n, []).append((zone, slot_id, old, bool(same_owner)))
    named = [
        (zone, slot_id, old)
        for (zone, slot_id, old, same_owner), *others in found.values()
        if not others and same_owner
    ]
    became = {zone: _holds_only_imported(conn, zone) for zone, _, _ in named}
    plain = [(zone, slot_id, old) for zone, slot_id, old in named if became[zone]]
    claims = Counter(slot_id for _, slot_id, _ in plain)
    for zone, slot_id, old in plain:
        if claims[slot_id] > 1:
            continue
        conn.execute("UPDATE slots SET zone = ? WHERE id = ?", (zone, slot_id))
        # zone_slots is kept by triggers on INSERT and DELETE only (schema.py): a move counts itself.
        conn.execute("UPDATE zone_slots SET fixed = fixed - 1 WHERE zone = ?", (old,))
        conn.execute(_ONE_MORE_IN_ZONE, (zone,))
        # The car parked on it is parked in the zone its slot is in (as if it had always been there).
        conn.execute("UPDATE stays SET zone = ? WHERE exited_at IS NULL AND slot_id = ?", (zone, slot_id))
    _shared_spaces_follow(conn, [(zone, old) for zone, slot_id, old in plain if claims[slot_id] == 1])


def _shared_spaces_follow(conn: sqlite3.Connection, moved: list[tuple[str, str]]) -> None:
    """The cars parked in the shared spaces of a zone the config lacks, once all of its slots are
    moved into one configured zone (a zone renamed: main -> garage), parked in that zone: left
    under the old id they took no space of it, and the entrance let strangers in for spaces they
    held. Not where the old zone's slots went to two zones (split, or merged into others): which
    spaces they hold is not ours to guess; they count again as they leave."""
    into: dict[str, set[str]] = {}
    for zone, old in moved:
        into.setdefault(old, set()).add(zone)
    for old, zones in into.items():
        if len(zones) == 1 and conn.execute("SELECT 1 FROM slots WHERE zone = ?", (old,)).fetchone() is None:
            conn.execute(
                "UPDATE stays SET zone = ? WHERE exited_at IS NULL AND slot_id IS NULL AND zone = ?",
                (zones.pop(), old),
            )


def _holds_only_imported(conn: sqlite3.Connection, zone: str) -> bool:
    """The store has no slot in `zone` that the import does not name (none, or those an earlier
    step moved there)."""
    (held,) = conn.execute(_IN_ZONE, (zone,)).fetchone()
    (imported,) = conn.execute(_IN_ZONE_IMPORTED, (zone,)).fetchone()
    return bool(held == imported)


WRITERS: dict[str, Callable[[sqlite3.Connection, Part], None]] = {
    "residents": _residents,
    "vehicles": _vehicles,
    "cards": _cards,
    "slots": _slots,
    SLOT_CARS_UNLISTED: _slot_cars_unlisted,
}
