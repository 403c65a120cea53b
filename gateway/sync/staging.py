"""Staging a snapshot or delta: every entry checked and written to a database file of its own.

Nothing here touches the live tables. A snapshot whose entries or references are wrong anywhere is
rejected whole; one that passes is staged as rows the apply steps copy in (apply.py). Staging is
the CPU-heavy part (JSON, plates, dates), so a large snapshot is staged by a child process
(`python -m gateway.sync.staging`): the decision worker then never waits for this one's Python.

The staging file sits next to the gateway database; it is the copy a restart finishes an
interrupted apply from, and no more: a delta's raw body and a snapshot's raw parts (clear phone and
ID numbers in them) go as soon as they are staged or refused, and the staged rows (names, masked
numbers and their hashes) as soon as the apply is over, so that nothing here outlives the live
rows' retention. Deleted rows are overwritten on disk (secure_delete) and the WAL is cut back after
each of these, so the numbers are not left in free pages either.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.config import SiteConfig
from gateway.core.card_forms import Form, TenDigits, agreed_bits, card_id, numbers_agreeing
from gateway.privacy import Secrets, mask_phone
from gateway.quoting import quoted
from gateway.store.card_forms import register_ten_digits, registered_cards_named
from gateway.store.card_pairs import cards_in_two_forms, same_card_problem, stored_card_holders
from gateway.store.csv_import import card_car_problem, cards_left_on_moved_cars, vehicle_owners
from gateway.store.csv_rows import (
    CardRow,
    ResidentRow,
    RowError,
    SlotRow,
    VehicleRow,
    card_digits,
    short_number,
)
from gateway.store.database import open_read_only, transaction
from gateway.store.private_sqlite import cut_wal, zero_deleted
from gateway.sync.entries import (
    EntryError,
    NeverRead,
    PassRow,
    describe,
    masked_phone,
    parse_entry,
    parse_key,
    row_key,
)
from gateway.sync.errors import DownlinkRejected
from gateway.sync.messages import parse_delta, parse_snapshot_part

STAGING_NAME = "sync-staging.db"
MAX_PROBLEMS = 50
# Deletes run in this order, so that nothing is deleted while something still points at it.
DELETE_ORDER = ("pass", "slot", "card", "vehicle", "resident")

SCHEMA = """
CREATE TABLE IF NOT EXISTS parts (
    version INTEGER NOT NULL, part INTEGER NOT NULL, parts INTEGER NOT NULL, total INTEGER NOT NULL,
    kind TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY (version, part));
CREATE TABLE IF NOT EXISTS deltas (version INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS meta (
    id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER, kind TEXT, base INTEGER,
    status TEXT, step_rows INTEGER, counts TEXT, problems TEXT, code TEXT, told TEXT);
CREATE TABLE IF NOT EXISTS s_residents (
    n INTEGER PRIMARY KEY, ref TEXT, building TEXT, unit TEXT, room TEXT, name TEXT,
    phone_masked TEXT, phone_hash TEXT, phone_given INTEGER, valid_from TEXT, valid_to TEXT,
    blocked INTEGER);
CREATE TABLE IF NOT EXISTS s_vehicles (
    n INTEGER PRIMARY KEY, plate TEXT, resident_ref TEXT, class TEXT, monthly_until TEXT,
    valid_from TEXT, valid_to TEXT, blocked INTEGER, previous_plate TEXT);
CREATE TABLE IF NOT EXISTS s_cards (
    n INTEGER PRIMARY KEY, card TEXT, resident_ref TEXT, plate TEXT, valid_from TEXT, valid_to TEXT,
    hours TEXT, blocked INTEGER);
CREATE TABLE IF NOT EXISTS s_slots (
    n INTEGER PRIMARY KEY, zone TEXT, number TEXT, resident_ref TEXT);
-- A slot's entry looked up by its number (gateway/sync/apply.py _CARS_GOING), as its deletion.
CREATE INDEX IF NOT EXISTS s_slots_number ON s_slots(zone, number);
CREATE TABLE IF NOT EXISTS s_slot_plates (slot_n INTEGER, plate TEXT);
CREATE INDEX IF NOT EXISTS s_slot_plates_slot ON s_slot_plates(slot_n);
CREATE TABLE IF NOT EXISTS s_passes (
    n INTEGER PRIMARY KEY, ref TEXT, kind TEXT, name TEXT, phone_masked TEXT, phone_hash TEXT,
    id_masked TEXT, id_hash TEXT, host_building TEXT, host_unit TEXT, company TEXT,
    destination TEXT, reason TEXT, passengers INTEGER, plate TEXT, valid_from TEXT, valid_to TEXT,
    hours TEXT, registered_fields TEXT, blocked INTEGER, vehicle_class TEXT, id_kind TEXT);
CREATE TABLE IF NOT EXISTS s_pass_credentials (pass_n INTEGER, kind TEXT, value TEXT);
CREATE INDEX IF NOT EXISTS s_pass_credentials_pass ON s_pass_credentials(pass_n);
CREATE TABLE IF NOT EXISTS s_deletes (n INTEGER PRIMARY KEY, kind TEXT, k1 TEXT, k2 TEXT);
CREATE INDEX IF NOT EXISTS s_deletes_key ON s_deletes(kind, k1, k2);
"""
# Columns added since the first staging files: (table, column, type). A staging file from before
# them may hold an apply a restart finishes.
ADDED_COLUMNS = (
    ("s_passes", "vehicle_class", "TEXT"),
    ("meta", "code", "TEXT"),
    ("s_passes", "id_kind", "TEXT"),
    ("s_vehicles", "previous_plate", "TEXT"),
    ("meta", "told", "TEXT"),
)
TABLES = (
    "s_residents",
    "s_vehicles",
    "s_cards",
    "s_slots",
    "s_slot_plates",
    "s_passes",
    "s_pass_credentials",
    "s_deletes",
)


@dataclass(frozen=True, slots=True)
class StageJob:
    staging: Path
    main_db: Path
    data_dir: Path
    timezone: str
    zones: tuple[str, ...]
    step_rows: int
    kind: str  # snapshot or delta
    version: int
    # The digits of the site's card numbers where its readers give them all so (card_digits): a
    # shorter one is refused as `gateway import` refuses it, or the resident is refused at the door.
    card_digits: int | None = None
    # How the register's 10-digit cards read (card_forms.register_ten_digits): a card is refused
    # given to two residents in two forms (card_pairs.py).
    ten_digits: TenDigits = "decimal"


def site_job(cfg: SiteConfig, data_dir: Path, main_db: Path, kind: str, version: int) -> StageJob:
    """Staging `version` at this site: its time zone, its parking zones, its card readers' digits."""
    return StageJob(
        data_dir / STAGING_NAME,
        main_db,
        data_dir,
        cfg.site.timezone,
        tuple(z.id for z in cfg.zones),
        cfg.mqtt.apply_step_rows,
        kind,
        version,
        card_digits(cfg),
        register_ten_digits(cfg),
    )


@dataclass
class Staged:
    residents: list[ResidentRow] = field(default_factory=list)
    vehicles: list[VehicleRow] = field(default_factory=list)
    cards: list[CardRow] = field(default_factory=list)
    slots: list[SlotRow] = field(default_factory=list)
    passes: list[PassRow] = field(default_factory=list)
    deletes: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    base: int | None = None
    # The entries that leave `blocked` out, by (kind, key): the block stored stays (apply.py).
    block_unsaid: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    # Resident entries whose phone came masked (entries.masked_phone), staged without it.
    masked_phones: int = 0
    # A delta's deletes naming what the store does not hold (_not_held): applied, and counted.
    deletes_not_held: int = 0
    # A delta's card deletes struck off in another form than sent, and the residents' cards
    # agreeing with a delete's number only partly, left held, of a delete that struck nothing off
    # (not_held_cards) or something (still_held) (_card_deletes): named in the sync_applied record
    # and the audit row (apply.py _finish), for the centre to see which card went or may be meant.
    held_as: list[dict[str, Any]] = field(default_factory=list)
    not_held_cards: list[dict[str, Any]] = field(default_factory=list)
    still_held: list[dict[str, Any]] = field(default_factory=list)
    # Card entries of a number no reader of the site gives that the gateway held for that resident
    # already (entries.NeverRead): taken, not refusing the whole snapshot, and named.
    never_read: list[dict[str, Any]] = field(default_factory=list)

    def add(self, kind: str, row: Any) -> None:
        getattr(self, {"pass": "passes"}.get(kind, kind + "s")).append(row)

    def block(self, kind: str, key: str, blocked: bool) -> int | None:
        """An entry's block as staged: NULL where the entry says nothing of it."""
        return None if (kind, (key,)) in self.block_unsaid else int(blocked)

    def counts(self) -> dict[str, int]:
        """The rows of each kind; and `masked_phones` where an entry's phone was not taken, and
        `deletes_not_held` where a delta's deletes named what the store does not hold, so that the
        sync_applied record and the audit row say so (a phone left unmatched, a delete that struck
        nothing off, is silent)."""
        counts = {
            "residents": len(self.residents),
            "vehicles": len(self.vehicles),
            "cards": len(self.cards),
            "slots": len(self.slots),
            "passes": len(self.passes),
            "deletes": len(self.deletes),
        }
        if self.masked_phones:
            counts["masked_phones"] = self.masked_phones
        if self.deletes_not_held:
            counts["deletes_not_held"] = self.deletes_not_held
        return counts

    def told(self) -> dict[str, list[dict[str, Any]]]:
        """What the sync_applied record says of the card deletes besides the counts: `held_as`
        (the cards struck off in another form than sent), `not_held` (the cards a delete that
        struck nothing off may mean) and `still_held` (those a delete that struck a card off may
        mean too, left held), each only where there are any; and `never_read`, the card entries
        of a number no reader of the site gives taken as held already (a snapshot's or a delta's)."""
        told = {
            "held_as": self.held_as,
            "not_held": self.not_held_cards,
            "still_held": self.still_held,
            "never_read": self.never_read,
        }
        return {key: value for key, value in told.items() if value}


def open_staging(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    zero_deleted(conn)
    conn.executescript(SCHEMA)
    for table, column, kind in ADDED_COLUMNS:
        if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    return conn


def save_part(conn: sqlite3.Connection, version: int, part: int, parts: int, total: int, body: bytes) -> bool:
    """Keep one received part; True once every part of that version is here.

    Parts of a newer snapshot replace those of an older one; a late part of an older one is
    dropped. A part split otherwise (other `parts` or `total`) than those kept of its version is
    the start of that snapshot sent again: the kept ones, from the first sending, are dropped.
    """
    newest = conn.execute("SELECT max(version) FROM parts").fetchone()[0]
    if newest is not None and newest > version:
        return False
    with transaction(conn):
        conn.execute(
            "DELETE FROM parts WHERE version != ? OR parts != ? OR total != ?", (version, parts, total)
        )
        conn.execute(
            "INSERT OR REPLACE INTO parts VALUES (?, ?, ?, ?, ?, ?)",
            (version, part, parts, total, "snapshot", body),
        )
    have = conn.execute(
        "SELECT count(*) FROM parts WHERE version = ? AND parts = ?", (version, parts)
    ).fetchone()[0]
    return bool(have == parts)


def whole_parts(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """(version, total) of the newest snapshot whose parts are all kept, if any."""
    row = conn.execute(
        "SELECT version, total, parts, count(*) FROM parts GROUP BY version, parts, total "
        "ORDER BY version DESC LIMIT 1"
    ).fetchone()
    return (int(row[0]), int(row[1])) if row is not None and row[3] == row[2] else None


def drop_parts(conn: sqlite3.Connection, version: int | None = None) -> list[int]:
    """Drop the raw parts of snapshots up to `version` (of every snapshot when None); the
    versions that had parts here."""
    rows = conn.execute(
        "DELETE FROM parts WHERE ? IS NULL OR version <= ? RETURNING version", (version, version)
    ).fetchall()
    cut_wal(conn)
    return sorted({v for (v,) in rows})


def clear_staged(conn: sqlite3.Connection) -> None:
    """Empty what an apply is over with: the delta's raw body and the staged rows. The meta row
    says 'done', so that no restart takes up an apply whose rows are gone."""
    with transaction(conn):
        conn.execute("DELETE FROM deltas")
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")
        conn.execute("UPDATE meta SET status = 'done' WHERE status = 'staged'")
    cut_wal(conn)


def save_delta(conn: sqlite3.Connection, version: int, body: bytes) -> None:
    with transaction(conn):
        conn.execute("DELETE FROM deltas")
        conn.execute("INSERT INTO deltas VALUES (?, ?)", (version, body))


def read_meta(conn: sqlite3.Connection) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT version, kind, base, status, step_rows, counts, problems, code, told FROM meta WHERE id = 1"
    ).fetchone()
    if row is None:
        return None
    version, kind, base, status, step_rows, counts, problems, code, told = row
    return {
        "version": version,
        "kind": kind,
        "base": base,
        "status": status,
        "step_rows": step_rows,
        "counts": json.loads(counts or "{}"),
        "problems": json.loads(problems or "[]"),
        "code": code,  # the error reply's code when rejected
        "told": json.loads(told or "{}"),  # Staged.told
    }


def stage(job: StageJob) -> dict[str, Any]:
    """Check and stage the received parts of job.version; the result is also left in `meta`."""
    conn = open_staging(job.staging)
    main = open_read_only(job.main_db, 30)
    try:
        problems: list[str] = []
        code = "invalid"
        try:
            staged = _read(conn, main, job, problems)
        except DownlinkRejected as exc:  # incomplete: the parts do not add up
            staged, problems, code = Staged(), [str(exc)], exc.code
        if not problems:
            problems = _check_references(staged, main, job, snapshot=job.kind == "snapshot")
        if not problems and job.kind == "snapshot":
            staged.deletes = _removed(staged, main)
        elif not problems:
            staged.deletes_not_held = _not_held(staged.deletes, main)
        _write(conn, job, staged, problems, code)
        meta = read_meta(conn)
        assert meta is not None
        return meta
    finally:
        main.close()
        conn.close()


def _read(conn: sqlite3.Connection, main: sqlite3.Connection, job: StageJob, problems: list[str]) -> Staged:
    if job.kind == "snapshot":
        sql = "SELECT body FROM parts WHERE version = ? AND kind = 'snapshot' ORDER BY part"
    else:
        sql = "SELECT body FROM deltas WHERE version = ?"
    bodies = [b for (b,) in conn.execute(sql, (job.version,))]
    if not bodies:
        raise DownlinkRejected("incomplete", f"{job.kind} {job.version} is not in the staging file")
    tz = ZoneInfo(job.timezone)
    secrets = Secrets.load_or_create(job.data_dir)
    staged = Staged()
    if job.kind == "snapshot":
        entries: list[Any] = []
        total = None
        for body in bodies:
            part = parse_snapshot_part(body)
            entries += part.entries
            total = part.total
        if total != len(entries):
            raise DownlinkRejected(
                "incomplete",
                f"snapshot {job.version} says {total} entries, its parts hold {len(entries)}",
                version=job.version,
            )
        deletes: list[Any] = []
    else:
        delta = parse_delta(bodies[0])
        entries, deletes, staged.base = delta.upsert, delta.delete, delta.base
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    for i, entry in enumerate(entries):
        try:
            kind, row = parse_entry(entry, tz, secrets, job.card_digits)
        except NeverRead as exc:
            if not _held_by(main, exc.row):
                _problem(problems, f"{describe(entry, i)}: {exc}")
                continue
            kind, row = "card", exc.row
            staged.never_read.append({"card": exc.row.card, "resident": exc.row.resident_ref})
        except EntryError as exc:
            _problem(problems, f"{describe(entry, i)}: {exc}")
            continue
        key = (kind, row_key(kind, row))
        if key in seen:
            _problem(problems, f"{describe(entry, i)}: repeats entry {seen[key]}")
            continue
        seen[key] = i
        if "blocked" not in entry:
            staged.block_unsaid.add(key)
        if kind == "resident" and masked_phone(entry):
            staged.masked_phones += 1
        staged.add(kind, _plate_both_ways(row) if isinstance(row, PassRow) else row)
    forms = cache(lambda: _held_forms(main, job.ten_digits))  # read at the first card not held as sent
    deleted = _deleted(deletes)
    for i, entry in enumerate(deletes):
        try:
            what, named = parse_key(entry)
            keys: list[tuple[str, ...]] = [named]
            if what == "card":
                keys = [(v,) for v in _card_deletes(main, named[0], job, forms, deleted, staged)]
        except EntryError as exc:
            _problem(problems, f"delete {i}: {exc}")
            continue
        for kind_key in {(what, named), *((what, k) for k in keys)} & seen.keys():
            _problem(problems, f"delete {i}: {kind_key[0]} {'/'.join(kind_key[1])} is also upserted")
        staged.deletes += [(what, k) for k in keys]
    return staged


_HELD_BY = """SELECT 1 FROM credentials c JOIN residents r ON r.id = c.resident_id
    WHERE c.kind = 'card' AND c.value = ? AND r.ref = ?"""


def _held_by(main: sqlite3.Connection, row: CardRow) -> bool:
    """Whether the gateway holds this card, as numbered, for this resident already: a number of no
    card form taken again (Staged.never_read), where a new one, or one moved to another resident,
    is refused."""
    return main.execute(_HELD_BY, (row.card, row.resident_ref)).fetchone() is not None


def _deleted(deletes: list[Any]) -> dict[str, set[str]]:
    """The keys a delta's deletes name, by kind (a bad one is said where the delete is read)."""
    keys: dict[str, set[str]] = defaultdict(set)
    for entry in deletes:
        try:
            what, named = parse_key(entry)
        except EntryError:
            continue
        keys[what].add(named[0])
    return keys


# A card delete strikes off a resident's card: a card a pass holds stays with it (apply.py _DELETES).
_PASS_CARD = "SELECT 1 FROM credentials WHERE kind = 'card' AND pass_id IS NOT NULL AND value = ?"
_CARDS_HELD = """SELECT c.value, c.resident_id, r.ref FROM credentials c
    LEFT JOIN residents r ON r.id = c.resident_id
    WHERE c.kind = 'card' AND c.pass_id IS NULL AND c.value IN ({})"""

# A resident's card held: value -> (resident id, ref).
_Held = dict[str, tuple[int | None, str | None]]


@dataclass(frozen=True, slots=True)
class _Agreeing:
    """The residents' cards held in another form than a card delete's number that agree with it
    on every bit both carry, by what the number says of them."""

    same: _Held  # the same bits written another way: certainly its card
    fewer: _Held  # fewer bits (054:15694 for 0389430606): any card ending in them
    more: _Held  # more bits (0372653390 for 054:15694): one of the cards the number may be


def _card_deletes(
    main: sqlite3.Connection,
    number: str,
    job: StageJob,
    forms: Callable[[], set[Form]],
    deleted: dict[str, set[str]],
    staged: Staged,
) -> list[str]:
    """The store's cards a delta's card delete strikes off (docs/mqtt.md, Delta): the number as a
    resident's card is held (372653390, taken before the digit rule, too), and the residents' cards
    that are the number written another way carrying the same bits (05686:15694 for 0372653390;
    372653390 held without the leading zero at a site of 10-digit numbers), named in
    `staged.held_as`, also where a pass holds the number (its card stays with it). Residents' cards
    agreeing with it only partly (one carries fewer bits: 054:15694, the Wiegand 26 number, for
    0372653390, or the other way) are struck off by no guess and refuse nothing: named, for the
    centre to follow up, in `staged.not_held_cards` where the delete struck nothing off (counted:
    _not_held), else in `staged.still_held`. Until Review 63vb a number held exactly struck off that
    form only (R1's 054:15694 of the lost card kept opening, unnamed), a pass holding the number
    hid a resident's card in another form carrying the same bits, and a number carrying more bits
    than a held card (a replaced form's delete sent again) refused the whole delta.

    EntryError where the same bits are held as two residents' cards in other forms (which is lost
    it cannot say), or where the number is short and is no card held (Excel dropped its zeros:
    csv_rows.short_number)."""
    exact = main.execute(_HELD["card"], (number,)).fetchone() is not None
    agreeing = _cards_agreeing(main, number, job, forms())
    same = agreeing.same
    if len({resident for resident, _ in same.values()}) > 1:
        named = ", ".join(f"{value} of {ref or 'no resident'}" for value, (_, ref) in sorted(same.items()))
        raise EntryError(
            f"card: {number} is, read another way, more than one resident's card ({named}): which "
            "is lost it cannot say; delete the lost one by the number the gateway holds"
        )
    partly = {
        value: (resident, ref)
        for value, (resident, ref) in {**agreeing.fewer, **agreeing.more}.items()
        if value not in deleted["card"] and ref not in deleted["resident"]
    }
    if same:
        staged.held_as.append({"card": number, "struck_off": _named(same)})
    if partly:
        told = staged.still_held if exact or same else staged.not_held_cards
        told.append({"card": number, "may_be": _named(partly)})
    if same:
        return [number, *sorted(same)] if exact else sorted(same)
    if exact or partly or main.execute(_PASS_CARD, (number,)).fetchone() is not None:
        return [number]
    if job.card_digits is not None:
        try:
            # A delete of a number of no card form held nowhere strikes nothing off and harms
            # nothing (applied, counted deletes_not_held); a short one may be a held card's.
            short_number(number, job.card_digits)
        except RowError as exc:
            raise EntryError(f"card: {exc}") from None
    return [number]


def _named(held: _Held) -> list[dict[str, str | None]]:
    return [{"card": value, "resident": ref} for value, (_, ref) in sorted(held.items())]


def _cards_agreeing(main: sqlite3.Connection, number: str, job: StageJob, forms: set[Form]) -> _Agreeing:
    """The residents' cards held in another form than `number` that agree with it: those a reader
    giving `number` finds (card_forms.registered_cards_named), every one agreeing with it where the
    numbers agreeing can be listed; and `number` without its leading zeros where the site's numbers
    have `card_digits` (the same number). `forms`: those the store's cards are in (a Wiegand 26
    number is 256 printed ones, 65,536 hex ones: listed only where held)."""
    read = card_id(number, job.ten_digits)
    names: list[str] = []
    if read is not None:
        listed = numbers_agreeing(read, forms)
        names += registered_cards_named(main, number, job.ten_digits) if listed is None else listed
    short: set[str] = set()
    if job.card_digits is not None and number.isdigit() and len(number) == job.card_digits:
        zeros = len(number) - len(number.lstrip("0"))
        short = {number[k:] for k in range(1, min(zeros, len(number) - 1) + 1)}
    names = [n for n in dict.fromkeys([*names, *short]) if n != number]
    agreeing = _Agreeing({}, {}, {})
    for i in range(0, len(names), 500):
        chunk = names[i : i + 500]
        for value, resident, ref in main.execute(_CARDS_HELD.format(",".join("?" * len(chunk))), chunk):
            card = card_id(value, job.ten_digits)
            if value in short:
                agreeing.same[value] = (resident, ref)
            elif read is not None and card is not None and agreed_bits(read, card):
                if card.bits == read.bits:
                    agreeing.same[value] = (resident, ref)
                elif card.bits < read.bits:
                    agreeing.fewer[value] = (resident, ref)
                else:
                    agreeing.more[value] = (resident, ref)
    return agreeing


def _plate_both_ways(row: PassRow) -> PassRow:
    """A pass's plate given one way only, as its `plate` or among its `credentials` ("either
    alone", docs/mqtt.md), is stored both ways, as the booth stores a pass's plate: passes.plate
    says what vehicle the pass is for (its class at the lanes, the plate a returning visitor is
    found with, which pass a plate comes on) and the plate credential lets that plate in."""
    plates = [value for kind, value in row.credentials if kind == "plate"]
    if row.plate is None and plates:
        return replace(row, plate=plates[0])  # parse_entry let through one plate at most
    if row.plate is not None and not plates:
        return replace(row, credentials=(*row.credentials, ("plate", row.plate)))
    return row


def _problem(problems: list[str], text: str) -> None:
    if len(problems) < MAX_PROBLEMS:
        problems.append(text)
    elif len(problems) == MAX_PROBLEMS:
        problems.append("... and more")


def _check_references(staged: Staged, main: sqlite3.Connection, job: StageJob, snapshot: bool) -> list[str]:
    """Every resident, plate and zone an entry names is in it (snapshot) or in it and the store,
    and a card opens the barrier only for its own resident's car (as a CSV import has it), a card
    in the store too once a delta gives its car to another resident."""
    deleted = defaultdict(set)
    for kind, key in staged.deletes:
        deleted[kind].add(key[0])
    refs = {r.ref for r in staged.residents}
    plates = {v.plate for v in staged.vehicles}
    held: dict[str, str] = {} if snapshot else vehicle_owners(main)
    # A resident deleted takes the cars still theirs with them (vehicles.resident_id ON DELETE
    # CASCADE): those the change does not hand to someone else are gone as if deleted by name.
    deleted["vehicle"] |= {p for p, ref in held.items() if ref in deleted["resident"]} - plates
    problems: list[str] = []
    # A car re-registered under a new plate is not under its old one any more (a pass may take it).
    moved = _re_registrations(staged, main, snapshot, problems)
    car_owner = {p: ref for p, ref in held.items() if p not in deleted["vehicle"] and p not in moved}
    car_owner.update({v.plate: v.resident_ref for v in staged.vehicles})

    def known(kind: str, value: str, local: set[str], sql: str) -> bool:
        if value in local:
            return True
        if snapshot or value in deleted[kind]:
            return False
        return main.execute(sql, (value,)).fetchone() is not None

    def resident(value: str | None, where: str) -> None:
        if value is not None and not known("resident", value, refs, "SELECT 1 FROM residents WHERE ref = ?"):
            _problem(problems, f"{where}: no resident {quoted(value)}")

    def plate(value: str | None, where: str) -> None:
        if value in moved:
            _problem(
                problems,
                f"{where}: vehicle {value} is re-registered as {moved[value]} (previous_plate): "
                f"name {moved[value]}",
            )
        elif value is not None and not known(
            "vehicle", value, plates, "SELECT 1 FROM vehicles WHERE plate = ?"
        ):
            _problem(problems, f"{where}: no vehicle {quoted(value)}")

    for v in staged.vehicles:
        resident(v.resident_ref, f"vehicle {v.plate}")
    for c in staged.cards:
        resident(c.resident_ref, f"card {c.card}")
        plate(c.plate, f"card {c.card}")
        not_its_own = card_car_problem(c.plate, c.resident_ref, car_owner)
        if not_its_own:
            _problem(problems, f"card {c.card}: {not_its_own}")
    if not snapshot:  # a snapshot lists every card it keeps: none is left behind
        # A car re-registered keeps its cards: they must be its resident's (the entry's) too.
        incoming = {v.plate: v.resident_ref for v in staged.vehicles}
        incoming |= {v.previous_plate: v.resident_ref for v in staged.vehicles if v.previous_plate}
        handled = {c.card for c in staged.cards} | deleted["card"] | _cards_of(main, deleted["resident"])
        for number, _, why in cards_left_on_moved_cars(main, incoming, handled):
            _problem(problems, f"card {number}: {why}")
    # A snapshot lists every card it keeps; a delta keeps the store's it does not delete.
    kept = {} if snapshot else stored_card_holders(main)
    for number in deleted["card"] | _cards_of(main, deleted["resident"]):
        kept.pop(number, None)
    for same in cards_in_two_forms({c.card: c.resident_ref for c in staged.cards}, kept, job.ten_digits):
        if same.holder != same.other_holder:
            _problem(problems, f"card {same.card}: {same_card_problem(same, 'in the same change')}")
    for s in staged.slots:
        if s.zone not in job.zones:
            _problem(
                problems,
                f"slot {s.zone}/{s.number}: no zone {quoted(s.zone)} in the site config "
                f"(zones: {list(job.zones)})",
            )
        resident(s.resident_ref, f"slot {s.zone}/{s.number}")
        for p in s.plates:
            plate(p, f"slot {s.zone}/{s.number}")
    # One card or plate belongs to one holder: the store's UNIQUE (kind, value) would otherwise
    # let the later entry take it silently.
    owners: dict[tuple[str, str], str] = {("card", c.card): f"card {c.card}" for c in staged.cards}
    owners.update({("plate", v.plate): f"vehicle {v.plate}" for v in staged.vehicles})
    for pass_row in staged.passes:
        for cred in pass_row.credentials:
            if cred in owners:
                _problem(problems, f"pass {pass_row.ref}: {cred[0]} {cred[1]} is also {owners[cred]}")
            owners[cred] = f"pass {pass_row.ref}"
            # A resident's car in the store, not deleted by this change: the pass would take its
            # plate, and the car would come in as a visitor, then be refused once the pass ended.
            kind, value = cred
            if kind == "plate" and value in car_owner and value not in plates:
                _problem(
                    problems,
                    f"pass {pass_row.ref}: plate {value} is resident {car_owner[value]}'s car: give the "
                    "pass the visitor's own plate, or delete that vehicle in the same change",
                )
    return problems


def _re_registrations(
    staged: Staged, main: sqlite3.Connection, snapshot: bool, problems: list[str]
) -> dict[str, str]:
    """previous plate -> plate, for the cars the change re-registers under a new plate (a vehicle
    entry's `previous_plate`: store/registry_vehicles.py re_registered), each checked. A previous
    plate is one car's, and not also an entry of its own. In a delta, it is a car in the store that
    the delta does not also delete (deleted, the car's stay under it would stay open for good), and
    the new plate is no other car's or resident's (the store's UNIQUE plate: the car would not be
    moved; a pass's is judged as the delta is applied: _plate_holder); a
    snapshot, which says what the register is, takes it where the store still has the old plate
    and the new one is free, and otherwise as an entry without it (the snapshot sent again once the
    car was moved, or a step of it redone after a restart)."""
    moved: dict[str, str] = {}
    plates = {v.plate for v in staged.vehicles}
    deleted = {key[0] for kind, key in staged.deletes if kind == "vehicle"}
    for v in staged.vehicles:
        old = v.previous_plate
        if old is None:
            continue
        where = f"vehicle {v.plate}: previous_plate {old}"
        if old in moved:
            _problem(problems, f"{where} is also the previous plate of vehicle {moved[old]}: one car has one")
            continue
        moved[old] = v.plate
        if old in plates:
            _problem(problems, f"{where} is also an entry of its own: send the car under {v.plate} alone")
        if snapshot:
            continue
        if old in deleted:
            _problem(
                problems,
                f"{where} is also deleted by this change: leave the delete out (the car keeps its "
                f"stay, payments, cards and slot under {v.plate})",
            )
        elif main.execute("SELECT 1 FROM vehicles WHERE plate = ?", (old,)).fetchone() is None:
            _problem(problems, f"{where}: no vehicle {old} in the gateway's register to re-register")
        holder = _plate_holder(main, v.plate)
        if holder is not None:
            _problem(
                problems,
                f"vehicle {v.plate}: {v.plate} is {holder}'s plate already; a car re-registered "
                "takes a plate nobody holds: delete that registration in an earlier delta",
            )
    return moved


def _plate_holder(main: sqlite3.Connection, plate: str) -> str | None:
    """Who holds `plate` in the store (a resident's car), as the guard would name them. A pass's
    plate is judged when the delta is applied (re_registered), by the door's rule at the gateway's
    time, which staging has not: one over or checked out lets it go (the new car let in as a
    visitor last week), one still in use refuses the delta then. Refused here, the delta could not
    be sent at all: the centre cannot delete a pass registered at the booth."""
    sql = (
        "SELECT 'resident ' || r.ref FROM credentials c JOIN residents r ON r.id = c.resident_id "
        "WHERE c.kind = 'plate' AND c.value = ?"
    )
    row = (
        main.execute(sql, (plate,)).fetchone()
        or main.execute("SELECT 'a vehicle' FROM vehicles WHERE plate = ?", (plate,)).fetchone()
    )
    return None if row is None else str(row[0])


def _cards_of(main: sqlite3.Connection, refs: set[str]) -> set[str]:
    """The stored cards of these residents: a delta that deletes a resident deletes their cards
    with them (credentials.resident_id ON DELETE CASCADE), so none is left on a car they sold."""
    sql = (
        "SELECT c.value FROM credentials c JOIN residents r ON r.id = c.resident_id "
        "WHERE c.kind = 'card' AND r.ref = ?"
    )
    return {card for ref in refs for (card,) in main.execute(sql, (ref,))}


def _held_forms(main: sqlite3.Connection, ten_digits: TenDigits) -> set[Form]:
    """The forms the store's residents' cards are in (card_forms.RegisteredCards._held_forms)."""
    sql = "SELECT value FROM credentials WHERE kind = 'card' AND pass_id IS NULL"
    return {card.form for (value,) in main.execute(sql) if (card := card_id(value, ten_digits)) is not None}


# Whether the store holds what a delete names (apply.py _DELETES: a card or plate a pass holds is
# the pass's, and no card or vehicle delete strikes it off).
_HELD = {
    "resident": "SELECT 1 FROM residents WHERE ref = ?",
    "vehicle": "SELECT 1 FROM vehicles WHERE plate = ?",
    "card": "SELECT 1 FROM credentials WHERE kind = 'card' AND pass_id IS NULL AND value = ?",
    "slot": "SELECT 1 FROM slots WHERE zone = ? AND number = ?",
    "pass": "SELECT 1 FROM passes WHERE ref = ?",
}


def _not_held(deletes: list[tuple[str, tuple[str, ...]]], main: sqlite3.Connection) -> int:
    """How many of a delta's deletes name what the store does not hold. Not refused: the same delete
    sent again (after a snapshot that left it out already) is no fault. Counted, so that a centre
    whose key was wrong (a card in another form than the one it sent, a ref misspelt) sees that it
    struck nothing off."""
    return sum(main.execute(_HELD[kind], key).fetchone() is None for kind, key in deletes)


def _removed(staged: Staged, main: sqlite3.Connection) -> list[tuple[str, tuple[str, ...]]]:
    """What the store holds from the centre and the snapshot no longer lists.

    Passes registered at the booth (no central ref) are not the centre's to remove.
    """

    def minus(sql: str, keep: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
        wanted = set(keep)
        return sorted(tuple(r) for r in main.execute(sql) if tuple(r) not in wanted)

    out: list[tuple[str, tuple[str, ...]]] = []
    out += [
        ("pass", k)
        for k in minus("SELECT ref FROM passes WHERE ref IS NOT NULL", ((p.ref,) for p in staged.passes))
    ]
    out += [
        ("slot", k)
        for k in minus("SELECT zone, number FROM slots", ((s.zone, s.number) for s in staged.slots))
    ]
    out += [
        ("card", k)
        for k in minus(
            "SELECT value FROM credentials WHERE kind = 'card' AND resident_id IS NOT NULL",
            ((c.card,) for c in staged.cards),
        )
    ]
    out += [
        ("vehicle", k) for k in minus("SELECT plate FROM vehicles", ((v.plate,) for v in staged.vehicles))
    ]
    out += [("resident", k) for k in minus("SELECT ref FROM residents", ((r.ref,) for r in staged.residents))]
    return out


def _write(conn: sqlite3.Connection, job: StageJob, staged: Staged, problems: list[str], code: str) -> None:
    with transaction(conn):
        for table in TABLES:
            conn.execute(f"DELETE FROM {table}")
        if not problems:
            _insert(conn, staged, Secrets.load_or_create(job.data_dir))
        conn.execute(
            "INSERT OR REPLACE INTO meta "
            "(id, version, kind, base, status, step_rows, counts, problems, code, told)"
            " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job.version,
                job.kind,
                staged.base,
                "rejected" if problems else "staged",
                job.step_rows,
                json.dumps(staged.counts()),
                json.dumps(problems, ensure_ascii=False),
                code if problems else None,
                json.dumps(staged.told(), ensure_ascii=False),
            ),
        )


def _insert(conn: sqlite3.Connection, staged: Staged, secrets: Secrets) -> None:
    conn.executemany(
        "INSERT INTO s_residents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                n,
                r.ref,
                r.building,
                r.unit,
                r.room,
                r.name,
                mask_phone(r.phone) if r.phone else "",
                secrets.digest("phone", r.phone) if r.phone else "",
                int(r.phone is not None),
                r.valid_from,
                r.valid_to,
                staged.block("resident", r.ref, r.blocked),
            )
            for n, r in enumerate(staged.residents)
        ),
    )
    conn.executemany(
        "INSERT INTO s_vehicles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                n,
                v.plate,
                v.resident_ref,
                v.vehicle_class,
                v.monthly_until,
                v.valid_from,
                v.valid_to,
                staged.block("vehicle", v.plate, v.blocked),
                v.previous_plate,
            )
            for n, v in enumerate(staged.vehicles)
        ),
    )
    conn.executemany(
        "INSERT INTO s_cards VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                n,
                c.card,
                c.resident_ref,
                c.plate,
                c.valid_from,
                c.valid_to,
                c.hours,
                staged.block("card", c.card, c.blocked),
            )
            for n, c in enumerate(staged.cards)
        ),
    )
    conn.executemany(
        "INSERT INTO s_slots VALUES (?, ?, ?, ?)",
        ((n, s.zone, s.number, s.resident_ref) for n, s in enumerate(staged.slots)),
    )
    conn.executemany(
        "INSERT INTO s_slot_plates VALUES (?, ?)",
        ((n, p) for n, s in enumerate(staged.slots) for p in s.plates),
    )
    conn.executemany(
        "INSERT INTO s_passes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                n,
                p.ref,
                p.kind,
                p.name,
                p.phone_masked,
                p.phone_hash,
                p.id_masked,
                p.id_hash,
                p.host_building,
                p.host_unit,
                p.company,
                p.destination,
                p.reason,
                p.passengers,
                p.plate,
                p.valid_from,
                p.valid_to,
                p.hours,
                p.registered_fields,
                int(p.blocked),
                p.vehicle_class,
                p.id_kind,
            )
            for n, p in enumerate(staged.passes)
        ),
    )
    conn.executemany(
        "INSERT INTO s_pass_credentials VALUES (?, ?, ?)",
        ((n, kind, value) for n, p in enumerate(staged.passes) for kind, value in p.credentials),
    )
    ordered = sorted(staged.deletes, key=lambda d: DELETE_ORDER.index(d[0]))
    conn.executemany(
        "INSERT INTO s_deletes VALUES (?, ?, ?, ?)",
        ((n, kind, key[0], key[1] if len(key) > 1 else None) for n, (kind, key) in enumerate(ordered)),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="stage a received snapshot or delta (run by the gateway)")
    p.add_argument("job", help="the StageJob as JSON")
    args = p.parse_args(argv)
    raw = json.loads(args.job)
    job = StageJob(
        **{
            **raw,
            "staging": Path(raw["staging"]),
            "main_db": Path(raw["main_db"]),
            "data_dir": Path(raw["data_dir"]),
            "zones": tuple(raw["zones"]),
        }
    )
    meta = stage(job)
    print(json.dumps({"status": meta["status"], "counts": meta["counts"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
