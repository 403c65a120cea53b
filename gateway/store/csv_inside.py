"""`gateway import-inside`: the CSV of cars already inside, read whole into rows before any write.

Columns: plate (required; 无牌车 for a car with no plate, given a ticket as it is recorded),
entered_at, vehicle_class, zone (optional; docs/parking.md, Cars already inside). Read as `gateway
import` reads its files (gateway/store/csv_file.py: in the --encoding given, else UTF-8 with Excel's
BOM, else UTF-8 or GBK; its cleared rows and columns left out), its dates by the same rules
(gateway/timefmt.py). Each problem names the file and line, and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from gateway.core.tickets import says_no_plate
from gateway.parking.inside import CarInside, entered_at_of, not_a_ticket
from gateway.store.csv_file import BadEncoding, CsvFile, EncodingRefused, Unreadable, read_csv
from gateway.store.csv_open import NotOpened, not_opened
from gateway.store.csv_rows import RowError, plate_lost_in_gbk, plate_value, unknown_columns
from gateway.store.parking import ParkingError

REQUIRED = ("plate",)
OPTIONAL = ("entered_at", "vehicle_class", "zone")


@dataclass(frozen=True, slots=True)
class InsideRow:
    line: int
    car: CarInside


# A problem: the line it is on (0: the file's), and `file:line: column: what is wrong; what to do`.
Problem = tuple[int, str]


def read_inside(
    path: Path, tz: ZoneInfo, encoding: str | None = None
) -> tuple[list[InsideRow], list[Problem]]:
    """The file's good rows, and its problems: the rows are written only where there are none.
    A file that cannot be read as a whole (its header) gives no rows. Read in `encoding`
    (csv_file.ENCODINGS; None: told from the file); EncodingRefused where it is wrong or in doubt;
    InputUnreadable where it cannot be opened."""
    try:
        table = read_csv(path, encoding)
    except NotOpened as exc:
        raise not_opened([exc], "nothing was recorded") from exc
    except BadEncoding as exc:
        raise EncodingRefused([exc], [], "nothing was recorded") from None
    except Unreadable as exc:
        return [], [(exc.line, str(exc))]
    if table.stopped:
        return [], [(table.stopped.line, str(table.stopped))]
    rows: list[InsideRow] = []
    return rows, _rows(path, table, tz, rows)


def _rows(path: Path, table: CsvFile, tz: ZoneInfo, rows: list[InsideRow]) -> list[Problem]:
    header = table.header
    problems = [(1, f"{path}:1: {p}") for p in _header_problems(header, table.unused)]
    if problems:
        return problems
    seen: dict[str, int] = {}
    for line, fields in table.rows:  # blank rows left out (csv_file.blank)
        if len(fields) > len(header):
            problems.append((line, f"{path}:{line}: more fields than the header has columns"))
            continue
        cells = {k: v.strip() for k, v in zip(header, fields, strict=False)}  # a short row: cells left empty
        try:
            if table.gbk:  # a '?' Excel's "CSV" wrote for the dot of 京A•12345
                plate_lost_in_gbk(cells)
            car = _car(cells, tz)
        except RowError as exc:
            problems.append((line, f"{path}:{line}: {exc.column}: {exc}"))
            continue
        if car.no_plate:  # each is a car of its own, given a ticket of its own
            rows.append(InsideRow(line, car))
            continue
        if car.plate in seen:
            repeat = (
                f"{car.plate} repeats line {seen[car.plate]}; a car is inside once: delete one of the two"
            )
            problems.append((line, f"{path}:{line}: plate: {repeat}"))
            continue
        seen[car.plate] = line
        rows.append(InsideRow(line, car))
    return problems


def _car(cells: dict[str, str], tz: ZoneInfo) -> CarInside:
    text = cells.get("plate", "")
    no_plate = says_no_plate(text)
    plate = "" if no_plate else _plate(text)
    try:
        entered = entered_at_of(cells.get("entered_at"), tz)
    except ParkingError as exc:
        raise RowError("entered_at", exc.message.removeprefix("entered_at: ")) from None  # it says the forms
    vclass = cells.get("vehicle_class", "").lower() or None
    return CarInside(plate, entered, vclass, cells.get("zone") or None, no_plate)


def _plate(text: str) -> str:
    """A plate, as `gateway import` reads one; a ticket refused as the admin API refuses it (told
    it is no Chinese licence plate, the admin was not told how to record a car with no plate)."""
    try:
        not_a_ticket(text)
    except ParkingError as exc:
        raise RowError("plate", f"{exc.message}; fix: {exc.fix}") from None
    return plate_value(text)


def _header_problems(header: list[str], unused: frozenset[int]) -> list[str]:
    known = [*REQUIRED, *OPTIONAL]
    problems = []
    for column in REQUIRED:
        if column not in header:
            problems.append(
                f"no {column!r} column: the header is {header}; a file of cars inside has "
                f"{','.join(REQUIRED)} and may have {','.join(OPTIONAL)}"
            )
    for number, column in enumerate(header, 1):
        if column in known and header.index(column) != number - 1:
            problems.append(f"column {number} {column!r} is there twice: delete one")
    return problems + unknown_columns(header, [*REQUIRED], [*OPTIONAL], "a file of cars inside", unused)
