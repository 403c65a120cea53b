"""`gateway import`: CSV files of residents, vehicles, cards and slots, checked whole before any write.

Every row of every file is checked first, against the files and the store; one bad row anywhere and
nothing is written. Rows are upserted by their natural key (resident ref, plate, card number,
zone + slot number). A column the file leaves out keeps what the store has; an empty cell clears it
(see README, "CSV files"). Writing is csv_steps.py's: in short steps, so that lanes never wait long.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.core.card_forms import TenDigits
from gateway.store.card_pairs import (
    cards_in_two_forms,
    same_card_problem,
    same_card_warning,
    stored_card_holders,
)
from gateway.store.csv_file import BadEncoding, CsvFile, EncodingRefused, Unreadable, read_csv
from gateway.store.csv_open import NotOpened, not_opened
from gateway.store.csv_rows import (
    KINDS,
    PARSERS,
    CardRow,
    ResidentRow,
    RowError,
    SlotRow,
    VehicleRow,
    column_problems,
    kind_of,
    lost_in_gbk,
    whole_number,
)


@dataclass(frozen=True, slots=True)
class FileRead:
    """One file's rows in the batch: its kind, its optional columns (only those are written over the
    store's values) and how many rows it gave, which follow the kind's rows from earlier files."""

    path: Path
    kind: str
    given: frozenset[str]
    count: int


@dataclass
class Batch:
    residents: list[ResidentRow] = field(default_factory=list)
    vehicles: list[VehicleRow] = field(default_factory=list)
    cards: list[CardRow] = field(default_factory=list)
    slots: list[SlotRow] = field(default_factory=list)
    # (kind, key) -> (index in `read`, line): where a row came from, named in a problem.
    where: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    read: list[FileRead] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    # The digits of the site's card numbers where its readers give them all so (csv_rows.card_digits).
    card_digits: int | None = None

    def counts(self) -> dict[str, int]:
        return {k: len(getattr(self, k)) for k in KINDS}

    def at(self, kind: str, key: str) -> str:
        """file:line of a row."""
        index, line = self.where[(kind, key)]
        return f"{self.read[index].path}:{line}"

    def given(self, kind: str, key: str) -> frozenset[str]:
        """The optional columns of the file a row came from."""
        return self.read[self.where[(kind, key)][0]].given


def read_files(
    paths: list[Path], tz: ZoneInfo, card_digits: int | None = None, encoding: str | None = None
) -> tuple[Batch, list[str]]:
    """The files' rows and their problems, each read in `encoding` (csv_file.ENCODINGS; None: told
    from the file). EncodingRefused where a file's encoding is wrong or in doubt: the file's
    problem, not its rows', said with the other files' problems; InputUnreadable where a file
    cannot be opened."""
    batch, problems = Batch(files=[p.name for p in paths], card_digits=card_digits), []
    refused: list[BadEncoding] = []
    unopened: list[NotOpened] = []
    for path in paths:
        try:
            table = read_csv(path, encoding)
        except NotOpened as exc:
            unopened.append(exc)
        except BadEncoding as exc:
            refused.append(exc)
        except Unreadable as exc:
            problems.append(str(exc))
        else:
            problems += _read_file(path, table, tz, batch)
    if unopened:  # said first: the other files' rows may name what is in these
        raise not_opened(unopened, "nothing was imported")
    if refused:
        raise EncodingRefused(refused, problems)
    return batch, problems


def _read_file(path: Path, table: CsvFile, tz: ZoneInfo, batch: Batch) -> list[str]:
    if table.stopped is None:
        return _read_rows(path, table, tz, batch)
    # The rows before the stop are read, so that a repeat of one in a later file names this file.
    before = _read_rows(path, table, tz, batch) if table.header else []
    return [*before, str(table.stopped)]


def _read_rows(path: Path, table: CsvFile, tz: ZoneInfo, batch: Batch) -> list[str]:
    header = table.header
    kind = kind_of(header)
    if kind is None:
        expected = "; ".join(f"{k}: {','.join(sorted(r))}" for k, (r, _) in KINDS.items())
        return [f"{path}:1: header {header} names no known file kind (required columns: {expected})"]
    if problems := column_problems(header, kind, table.unused):
        return [f"{path}:1: {problem}" for problem in problems]
    index, given = len(batch.read), frozenset(header) & KINDS[kind][1]
    batch.read.append(FileRead(path, kind, given, 0))  # its rows' `where` name it from here on
    records: list[Any] = getattr(batch, kind)
    before = len(records)
    problems = _parse_rows(path, table, tz, batch, index)
    batch.read[index] = FileRead(path, kind, given, len(records) - before)
    return problems


def _parse_rows(path: Path, table: CsvFile, tz: ZoneInfo, batch: Batch, index: int) -> list[str]:
    kind, header = batch.read[index].kind, table.header
    parse, records, where, width = PARSERS[kind], getattr(batch, kind), batch.where, len(header)
    problems = []
    for line, fields in table.rows:  # blank rows left out (csv_file.blank)
        if len(fields) > width:
            problems.append(f"{path}:{line}: more fields than the header has columns")
            continue
        try:
            row = dict(zip(header, fields, strict=False))  # a short row: cells left empty
            if table.lossy:
                lost_in_gbk(row, table.gbk)
            record: Any = parse(row, tz)
            if kind == "cards" and batch.card_digits is not None:
                whole_number(record.card, batch.card_digits)
        except RowError as exc:
            problems.append(f"{path}:{line}: {exc.column}: {exc}")
            continue
        key = record_key(kind, record)
        seen = where.get((kind, key))
        if seen is not None:
            first = batch.read[seen[0]].path if seen[0] != index else None  # None: this file
            again = f"line {seen[1]}" if first is None else f"{first}:{seen[1]}"
            problems.append(f"{path}:{line}: {key} repeats {again}")
            continue
        where[(kind, key)] = (index, line)
        records.append(record)
    return problems


def record_key(kind: str, record: Any) -> str:
    """A row's natural key: resident ref, plate, card number, zone/number."""
    if kind == "residents":
        return str(record.ref)
    if kind == "vehicles":
        return str(record.plate)
    if kind == "cards":
        return str(record.card)
    return f"{record.zone}/{record.number}"


def check_references(conn: sqlite3.Connection, batch: Batch, zones: set[str]) -> list[str]:
    """Every resident, plate and zone a row names exists in the files or already in the store, and
    a card opens the barrier only for a car of its own resident (as the API has it), a card in the
    store too once the batch gives its car to another resident."""
    refs = {r.ref for r in batch.residents} | {row[0] for row in conn.execute("SELECT ref FROM residents")}
    owner = vehicle_owners(conn)
    owner.update({v.plate: v.resident_ref for v in batch.vehicles})
    problems = []

    at = batch.at

    def need(kind: str, key: str, column: str, value: str | None, known: Any, what: str) -> None:
        if value is not None and value not in known:
            problems.append(f"{at(kind, key)}: {column}: no {what} {value!r} in the files or the store")

    for v in batch.vehicles:
        need("vehicles", v.plate, "resident_ref", v.resident_ref, refs, "resident")
    car_of_card = dict(
        conn.execute(
            "SELECT c.value, v.plate FROM credentials c JOIN vehicles v ON v.id = c.vehicle_id "
            "WHERE c.kind = 'card'"
        )
    )
    for c in batch.cards:
        need("cards", c.card, "resident_ref", c.resident_ref, refs, "resident")
        need("cards", c.card, "plate", c.plate, owner, "vehicle")
        linked = c.plate if "plate" in batch.given("cards", c.card) else car_of_card.get(c.card)
        not_its_own = card_car_problem(linked, c.resident_ref, owner)
        if not_its_own:
            column = "plate" if linked == c.plate else "resident_ref"
            problems.append(f"{at('cards', c.card)}: {column}: {not_its_own}")
    incoming = {v.plate: v.resident_ref for v in batch.vehicles}
    for card, plate, why in cards_left_on_moved_cars(conn, incoming, {c.card for c in batch.cards}):
        problems.append(f"{at('vehicles', plate)}: resident_ref: card {card}: {why}")
    for s in batch.slots:
        key = f"{s.zone}/{s.number}"
        need("slots", key, "zone", s.zone, zones, "zone in the site config with id")
        need("slots", key, "resident_ref", s.resident_ref, refs, "resident")
        for p in s.plates:
            need("slots", key, "plates", p, owner, "vehicle")
    return problems


def cards_given_twice(
    conn: sqlite3.Connection, batch: Batch, ten_digits: TenDigits
) -> tuple[list[str], list[str]]:
    """(problems, warnings) of the batch's cards that are a stored card or another of its cards
    in another form (card_pairs.py): refused where the two are two residents' (a CSV import
    deletes no card: the old number goes on its resident's page), said where they are one's."""
    listed = {c.card: c.resident_ref for c in batch.cards}
    problems, warnings = [], []
    for same in cards_in_two_forms(listed, stored_card_holders(conn), ten_digits):
        if same.holder != same.other_holder:
            why = same_card_problem(same, "on its resident's page first")
            problems.append(f"{batch.at('cards', same.card)}: card: {why}")
        else:
            warnings.append(same_card_warning(same))
    return problems, warnings


def vehicle_owners(conn: sqlite3.Connection) -> dict[str, str]:
    """plate -> its resident's ref, for the vehicles in the store."""
    return dict(
        conn.execute("SELECT v.plate, r.ref FROM vehicles v JOIN residents r ON r.id = v.resident_id")
    )


_ASK_PER_PLATE_UP_TO = 1000  # vehicles in a batch


def cards_left_on_moved_cars(
    conn: sqlite3.Connection, incoming: dict[str, str], handled: set[str]
) -> list[tuple[str, str, str]]:
    """(card, plate, why) for each card in the store tied to a car that `incoming` (plate ->
    resident ref, the batch's vehicles) gives to another resident, where the batch neither gives
    that card again nor deletes it (`handled`): left as it is, it would open the barrier for
    another resident's car. A small batch asks per plate, so it reads little of a large store; a
    large one (an import of the whole register) reads the stored cards tied to cars once."""
    tied = (
        "SELECT c.value, v.plate, r.ref FROM vehicles v JOIN credentials c ON c.vehicle_id = v.id "
        "JOIN residents r ON r.id = c.resident_id WHERE c.kind = 'card'"
    )
    if len(incoming) > _ASK_PER_PLATE_UP_TO:
        rows = [row for row in conn.execute(tied) if row[1] in incoming]
    else:
        rows = [row for plate in incoming for row in conn.execute(f"{tied} AND v.plate = ?", (plate,))]
    found = []
    for card, plate, ref in rows:
        why = None if card in handled else card_car_problem(plate, ref, incoming)
        if why:
            found.append((card, plate, f"{why}; move the card or clear its plate in the same change"))
    return found


def card_car_problem(plate: str | None, resident_ref: str, owners: dict[str, str]) -> str | None:
    """Why a card of `resident_ref` may not be tied to `plate`, or None: a card opens the barrier
    only for a car of its own resident (the rule of a CSV import and of the central server's
    directory alike). `owners`: plate -> resident ref."""
    if plate is None or plate not in owners or owners[plate] == resident_ref:
        return None
    return (
        f"{plate} is {owners[plate]}'s vehicle, not {resident_ref}'s: a card opens the barrier only "
        "for its own resident's car"
    )
