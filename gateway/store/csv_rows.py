"""Validating CSV rows of residents, vehicles, cards and slots into typed records.

Each parser is a pure function of one row; it returns a record or raises RowError with the column.
The text rules (TEXT_RULES) are the admin API's too. A cell is read as it was given to
spreadsheet.as_cell (from_cell), so that whatever is stored, `export` writes and `import` takes back.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from gateway.config.devices import SerialReaderDevice
from gateway.config.models import SiteConfig
from gateway.config.parking import CARD_FORM_READERS
from gateway.core.card_forms import never_read
from gateway.core.credentials import BadCredential, canonical
from gateway.core.windows import DIFFERENT_END_OR_EMPTY, Window, hours_text
from gateway.quoting import quoted, requoted
from gateway.store.csv_file import SAVE_AS_UTF8
from gateway.store.spreadsheet import from_cell
from gateway.timefmt import FORMS, gives_offset, parse_end, parse_local, to_db, typed_day
from gateway.typed import typed
from plates.grammar import (
    ARMY_SEPARATOR,
    MAX_SERIAL_LETTERS,
    as_written,
    is_plate,
    normalize,
    over_letter_cap,
    province_left_out,
    serial_as_digits,
)

KINDS: dict[str, tuple[set[str], set[str]]] = {
    # kind: (required columns, optional columns), in the order an import writes them: a row names
    # only rows of the kinds before its own (a car its resident, a slot its cars).
    "residents": (
        {"ref", "building", "unit", "name"},
        {"room", "phone", "phone_masked", "valid_from", "valid_to", "blocked"},
    ),
    "vehicles": (
        {"plate", "resident_ref"},
        {"class", "monthly_until", "valid_from", "valid_to", "blocked"},
    ),
    "cards": ({"card", "resident_ref"}, {"plate", "valid_from", "valid_to", "hours", "blocked"}),
    "slots": ({"zone", "number"}, {"resident_ref", "plates"}),
}
_TRUE = {"1", "yes", "y", "true", "是"}
_FALSE = {"", "0", "no", "n", "false", "否"}
_CLASSES = {"car", "motorcycle", "bicycle"}
# docs/hardware.md: em4100_number = "decimal" gives the card's low 32 bits as 10 digits, zeros first.
EM4100_DECIMAL_DIGITS = 10
# What mask_phone writes: the first three and last four digits, or stars and at most four digits.
_MASKED_PHONE = re.compile(r"\d{3}\*{4}\d{4}|\*+\d{0,4}")
# The register's free-text columns: (required, longest). The admin API applies them too
# (gateway/api/registry.py): a resident it took with a blank building made an export no import took.
TEXT_RULES: dict[str, tuple[bool, int]] = {
    "ref": (True, 40),
    "building": (True, 20),
    "unit": (True, 20),
    "room": (False, 20),
    "name": (True, 40),
    "zone": (True, 40),
    "number": (True, 20),
}


class RowError(ValueError):
    # What a page words the refusal with besides its code (ApiError's data), where it has words.
    data: dict[str, str] | None = None

    def __init__(self, column: str, message: str):
        self.column = column
        super().__init__(message)


def kind_of(header: list[str]) -> str | None:
    """Which kind of file a header names: of the kinds whose required columns are all there, the
    one it has fewest other columns for (column_problems names those: a misspelt or extra one)."""
    columns = set(header)
    kinds = [kind for kind in ("cards", "vehicles", "slots", "residents") if KINDS[kind][0] <= columns]
    return min(kinds, key=lambda kind: len(columns - KINDS[kind][0] - KINDS[kind][1]), default=None)


def column_problems(header: list[str], kind: str, unused: frozenset[int] = frozenset()) -> list[str]:
    """What is wrong with each column of the header that a file of this kind does not have."""
    required, optional = KINDS[kind]
    return unknown_columns(header, sorted(required), sorted(optional), f"a {kind} file", unused)


def unknown_columns(
    header: list[str],
    required: list[str],
    optional: list[str],
    what: str,
    unused: frozenset[int] = frozenset(),
) -> list[str]:
    """Each column of the header that `what` (a cards file, a file of cars inside) does not have,
    with the column it may have been meant as; `unused` (0-based): columns with no name that hold
    nothing, which are none (csv_file.unused_columns)."""
    known = [*required, *optional]
    problems = []
    for number, column in enumerate(header, 1):
        if column in known or number - 1 in unused:
            continue
        columns = f"({what} has {','.join(required)} and may have {','.join(optional)})"
        if not column:
            problems.append(
                f"column {number} has no name in line 1 but holds values: name it in line 1 or delete "
                f"the column {columns}"
            )
            continue
        guess = difflib.get_close_matches(column, known, n=1)
        fix = f"did you mean {guess[0]!r}?" if guess else "delete it or rename it"
        problems.append(f"column {number} {quoted(column)} is not a column of {what}: {fix} {columns}")
    return problems


# The columns of names typed in a register, where a '?' in a file Excel may have saved as "CSV" is
# a character the save lost: Excel writes one for each character GBK lacks (䶮, 㛃, Ł), which names have.
_TYPED_NAMES = (*TEXT_RULES, "resident_ref")


def lost_in_gbk(row: dict[str, str], read_as_gbk: bool) -> None:
    """RowError for a '?' in a name of a row of a file that may be Excel's "CSV" (no byte-order
    mark, read as GBK or all ASCII, not given as UTF-8: csv_file.CsvText.lossy; Łukasz is saved as
    '?ukasz'): it would overwrite the name the store has (an export saved back by Excel) or store a
    new one wrong. A '?' in another file is taken: UTF-8 holds every character. One in a plate of
    a file read as GBK is such a character too (plate_lost_in_gbk)."""
    if read_as_gbk:
        plate_lost_in_gbk(row)
    for column in _TYPED_NAMES:
        value = row.get(column) or ""
        if "?" in value:
            raise RowError(
                column,
                f"{quoted(value.strip())} has a '?', what Excel writes for a character GBK lacks (such "
                f'as 䶮 or Ł) when it saves "CSV": {_lost_fix(read_as_gbk)}',
            )


# The columns of plates, where a '?' in a file read as GBK is the dot of 京A•12345 Excel's "CSV" lost.
_PLATE_COLUMNS = ("plate", "plates")


def plate_lost_in_gbk(row: dict[str, str]) -> None:
    """RowError for a '?' in a plate of a row of a file read as GBK (csv_file.CsvText.gbk: no
    byte-order mark): Excel writes one when it saves "CSV" for a character GBK lacks, the dot • of
    京A•12345. Not of a file read as UTF-8 (CSV UTF-8, `export`'s) nor the centre's entries, whose
    '?' was typed: there it is said to be no part of a plate (_not_a_plate)."""
    for column in _PLATE_COLUMNS:
        value = (row.get(column) or "").strip()
        if "?" in value:
            raise RowError(
                column,
                f"{quoted(value)} has a '?', what Excel writes when it saves \"CSV\" for a character "
                f"GBK lacks (the dot • of 京A•12345); this file was read as GBK: {SAVE_AS_UTF8}, or "
                "leave the dot out",
            )


def _lost_fix(read_as_gbk: bool) -> str:
    put_back = f"put the character back (`export` again for the register's own) and {SAVE_AS_UTF8}"
    if read_as_gbk:  # UTF-8 would garble it: a '?' meant is taken from a file saved as CSV UTF-8
        return f"this file was read as GBK; {put_back} (a '?' in a file saved so is taken)"
    return (
        f"this file, all ASCII without a byte-order mark, may be such a save; {put_back}; if the '?' is "
        "meant, import the file with --encoding utf-8"
    )


@dataclass(frozen=True, slots=True)
class ResidentRow:
    ref: str
    building: str
    unit: str
    room: str
    name: str
    phone: str | None  # clear, only until it is masked and hashed on the way in
    valid_from: str | None
    valid_to: str | None
    blocked: bool
    # An export's masked phone (138****5678), read back when the row has no clear phone: a new box
    # rebuilt from an export shows guards the same masked numbers (it cannot match them by hash).
    phone_masked: str | None = None


@dataclass(frozen=True, slots=True)
class VehicleRow:
    plate: str
    resident_ref: str
    vehicle_class: str
    monthly_until: str | None
    valid_from: str | None
    valid_to: str | None
    blocked: bool
    # The plate the central server knew the car by before it re-registered it as `plate` (its
    # entry's `previous_plate`: gateway/sync/entries.py); a CSV row has none.
    previous_plate: str | None = None


@dataclass(frozen=True, slots=True)
class CardRow:
    card: str
    resident_ref: str
    plate: str | None
    valid_from: str | None
    valid_to: str | None
    hours: str
    blocked: bool


@dataclass(frozen=True, slots=True)
class SlotRow:
    zone: str
    number: str
    resident_ref: str | None
    plates: tuple[str, ...]


def text_value(column: str, text: str) -> str:
    """`text` by the rule of a free-text column (TEXT_RULES): stripped; RowError if it is required
    and blank, or too long."""
    return _ruled({column: text}, column)


def _ruled(row: dict[str, str], column: str) -> str:
    required, limit = TEXT_RULES[column]
    return _text(row, column, required=required, limit=limit)


def _text(row: dict[str, str], column: str, *, required: bool = False, limit: int = 100) -> str:
    value = (row.get(column) or "").strip()
    if required and not value:
        raise RowError(column, "is empty")
    if len(value) > limit:
        raise RowError(column, f"is longer than {limit} characters")
    return value


def _flag(row: dict[str, str], column: str) -> bool:
    value = (row.get(column) or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise RowError(column, f"{quoted(value)} is not yes/no (use 1 or 0)")


def _when(
    row: dict[str, str], column: str, tz: ZoneInfo, *, end: bool = False, open_end: bool = False
) -> str | None:
    """A date cell as stored; `end`: a bare date is the whole day; `open_end` (a validity's end, not
    a paid-up monthly_until, where none means not monthly): 9999-12-31, an old system's "no end"
    (永久有效), is no end, as an empty cell."""
    value = (row.get(column) or "").strip()
    if not value:
        return None
    try:
        return _stored_time(value, tz, end, open_end)
    except ValueError as exc:  # gateway.timefmt quotes the text whole
        raise RowError(column, requoted(str(exc), value)) from None


@lru_cache(maxsize=4096)
def _stored_time(value: str, tz: ZoneInfo, end: bool, open_end: bool) -> str | None:
    """_when's date, once for each text: a file's rows share a few dates (a month's end), and the
    step to the site's zone costs more than the rest of a row's reading (a ValueError is not kept)."""
    if open_end:
        at = parse_end(value, tz)
        return None if at is None else to_db(at)
    return to_db(parse_local(value, tz, end_of_day=end))


def _period(row: dict[str, str], tz: ZoneInfo) -> tuple[str | None, str | None]:
    start = _when(row, "valid_from", tz)
    end = _when(row, "valid_to", tz, end=True, open_end=True)
    if start and end and end <= start:
        raise RowError("valid_to", "is before valid_from")
    return start, end


def plate_value(text: str, column: str = "plate") -> str:
    """A plate a person typed or imported, as the store keeps it: RowError saying what to fix, and
    ProvinceLeftOut for a green plate without its province that would be taken for an army plate
    (grammar.province_left_out: ED12345 for 苏ED12345; the army's is written ED-12345)."""
    plate = stored_plate(text, column)
    if province_left_out(text):
        raise ProvinceLeftOut(column, text, plate)
    return plate


def stored_plate(text: str, column: str = "plate") -> str:
    """A plate that names one the store holds, as it holds it (a delete's key, a car's previous
    plate, a record's own plate sent back by a page): plate_value's check without the province's,
    so an army plate stored as ED12345 is named so."""
    plate = normalize(text)
    if not plate:
        raise RowError(column, "is empty")
    if is_plate(plate):
        return plate
    raise RowError(column, _not_a_plate(text, plate, column))


class ProvinceLeftOut(RowError):
    """A green new-energy plate typed or imported without its province (grammar.province_left_out).
    `plate`: as the store would keep it (ED12345); `data`: what the guard page words it with
    (err.invalid_plate.data: the plate and the army's spelling)."""

    def __init__(self, column: str, text: str, plate: str):
        self.plate = plate
        self.data = {"plate": plate, "army": as_written(plate)}
        self.fix = (
            f"type the province on the plate first (e.g. 苏{plate}), or the army plate as {as_written(plate)}"
        )
        super().__init__(
            column,
            f"{quoted(text)} reads as a green new-energy plate without its province (such as "
            f"苏{plate}): type the province on the plate first; an army plate is written with "
            f"'{ARMY_SEPARATOR}' after its two letters: {as_written(plate)}",
        )


# Two plates typed in one cell or field, between them what a person puts between words: spaces, a
# slash (full-width ／ is one after NFKC) or a backslash.
_TWO_PLATES = re.compile(r"[\s/\\]+")


def _not_a_plate(text: str, plate: str, column: str) -> str:
    """Why `text` (normalized: `plate`) is no plate, with what to fix where the mistake is one
    people make: the letter O or I for 0 or 1 (the guard page's err.invalid_plate says it too), a '?'
    (no part of a plate), two plates in one cell."""
    said = quoted(text)
    if over_letter_cap(plate):
        return (
            f"{said} has more than {MAX_SERIAL_LETTERS} letters after the office letter, which no "
            "plate has: check it against the car"
        )
    digits = serial_as_digits(text)
    if is_plate(digits):
        return (
            f"{said} has the letter O or I (or 〇) in its number, which no plate's number holds: "
            f"with the digits 0 and 1 it is {digits}; check it against the car"
        )
    if "?" in text:  # Excel's lost dot is said of a file read as GBK only (plate_lost_in_gbk)
        return f"{said} has a '?', which is no part of a plate: check it against the car"
    pieces = [normalize(piece) for piece in _TWO_PLATES.split(typed(text)) if piece]
    if len(pieces) > 1 and all(is_plate(piece) for piece in pieces):
        apart = (
            f"separate them with ';' ({';'.join(pieces)})"
            if column == "plates"
            else "give each car its own row"
        )
        return f"{said} is {len(pieces)} plates in one cell: {apart}"
    return f"{said} is not a Chinese licence plate (e.g. 皖A12345, 粤BD12345)"


def card_value(text: str, digits: int | None = None) -> str:
    """A card number as stored; `digits` (card_digits): the length of an all-digit number the
    site's readers give, a shorter one is refused (whole_number)."""
    try:
        card = canonical("card", text)
    except BadCredential as exc:  # gateway.core.credentials quotes the number whole
        raise RowError("card", requoted(str(exc), text)) from None
    if digits is not None:
        whole_number(card, digits)
    return card


def card_digits(cfg: SiteConfig) -> int | None:
    """EM4100_DECIMAL_DIGITS where every card reader of the site is an EM4100 reader (hex or
    decimal) or a Wiegand converter: each gives a card in a card form only, 10 digits with their
    leading zeros or facility:card, and finds a card registered in any of them (docs/hardware.md,
    *Card numbers: one card, every reader*), so that a number of no such form is no card any of
    them finds (whole_number). Else None: a line reader (or a simulated one) gives numbers of its
    own. Patrol checkpoints and QR scanners aside."""
    readers = [
        d
        for d in cfg.devices
        if d.kind == "reader"
        and not (isinstance(d, SerialReaderDevice) and (d.format == "qr" or d.role == "patrol"))
    ]
    forms = [d for d in readers if isinstance(d, SerialReaderDevice) and d.format in CARD_FORM_READERS]
    return EM4100_DECIMAL_DIGITS if readers and len(forms) == len(readers) else None


def whole_number(card: str, digits: int) -> None:
    """RowError for a card number no EM4100 reader or Wiegand converter gives, where `digits`
    (card_digits) says they are the site's card readers (card_forms.never_read, the words
    `[patrol] guard_cards` are refused in): one Excel saved without its leading zeros (0372653390
    as 372653390, the hex 0016363D4E as 16363D4E: short_number), or one of no card form ("G0001").
    Taken, its resident was refused at every reader (Review 66 I2)."""
    short_number(card, digits)
    wrong = never_read(card)
    if wrong is not None:
        what, fix = wrong
        raise RowError("card", f"{quoted(card)} {what}: {_NO_READER_HERE}; {fix}")


def short_number(card: str, digits: int) -> None:
    """RowError for a card number of fewer hex digits than `digits` (card_digits): Excel saves a
    column of numbers without their leading zeros (0372653390 -> 372653390), about one card in four,
    and the reader's number would never match it. Not padded here: the installer checks the column
    (a number typed short by hand is no card either)."""
    wrong = never_read(card) if len(card) < digits and _HEX_DIGITS.fullmatch(card) else None
    if wrong is not None:
        what, fix = wrong
        raise RowError(
            "card", f"{quoted(card)} {what}: {_NO_READER_HERE}; format the card column as text and {fix}"
        )


_HEX_DIGITS = re.compile(r"[0-9A-F]+")
_NO_READER_HERE = "no card reader of this site (EM4100 readers, Wiegand converters) would find it"


def parse_resident(row: dict[str, str], tz: ZoneInfo) -> ResidentRow:
    start, end = _period(row, tz)
    phone = _text(row, "phone", limit=20) if "phone" in row else None
    if phone and len(re.sub(r"\D", "", phone)) < 7:
        raise RowError("phone", "is not a phone number (the value is not repeated here)")
    shown = _text(row, "phone_masked", limit=20) if "phone_masked" in row else None
    if shown and not _MASKED_PHONE.fullmatch(shown):
        raise RowError(
            "phone_masked",
            "is not a masked number such as 138****5678 (the value is not repeated here: a clear number "
            "goes in the phone column)",
        )
    return ResidentRow(
        ref=_ruled(row, "ref"),
        building=_ruled(row, "building"),
        unit=_ruled(row, "unit"),
        room=_ruled(row, "room"),
        name=_ruled(row, "name"),
        phone=phone,
        valid_from=start,
        valid_to=end,
        blocked=_flag(row, "blocked"),
        phone_masked=shown,
    )


# How a parser reads a plate: plate_value for one a person typed into a file (ED12345 refused as a
# green plate without its province), stored_plate for the centre's register (sync/entries.py), which
# names the cars as the gateway sent them up, an army car's ED12345 included.
PlateReading = Callable[[str, str], str]


def parse_vehicle(row: dict[str, str], tz: ZoneInfo, read_plate: PlateReading = plate_value) -> VehicleRow:
    vclass = _text(row, "class").lower() or "car"
    if vclass not in _CLASSES:
        raise RowError("class", f"{quoted(vclass)} is not one of car, motorcycle, bicycle")
    start, end = _period(row, tz)
    return VehicleRow(
        plate=read_plate(_text(row, "plate", required=True), "plate"),
        resident_ref=_text(row, "resident_ref", required=True, limit=40),
        vehicle_class=vclass,
        monthly_until=_when(row, "monthly_until", tz, end=True),
        valid_from=start,
        valid_to=end,
        blocked=_flag(row, "blocked"),
    )


def hours_value(windows: list[str]) -> str:
    """A card's hours as stored: each HH:MM-HH:MM window stripped (a blank one left out), typed
    full-width or with a Chinese colon as its ASCII self (hours_text), joined by ','; RowError
    naming the first that is not a window."""
    hours = [h for h in map(hours_text, windows) if h]
    for h in hours:
        try:
            Window.parse(h, fix=DIFFERENT_END_OR_EMPTY)
        except ValueError as exc:  # gateway.core.windows quotes the window whole
            raise RowError("hours", requoted(str(exc), h)) from None
    return ",".join(hours)


def parse_card(row: dict[str, str], tz: ZoneInfo, read_plate: PlateReading = plate_value) -> CardRow:
    hours = hours_value(_text(row, "hours").split(";"))
    plate = _text(row, "plate")
    start, end = _period(row, tz)
    return CardRow(
        card=card_value(_text(row, "card", required=True)),
        resident_ref=_text(row, "resident_ref", required=True, limit=40),
        plate=read_plate(plate, "plate") if plate else None,
        valid_from=start,
        valid_to=end,
        hours=hours,
        blocked=_flag(row, "blocked"),
    )


# Between a slot's plates (一位多车): ';' as the README says, or as a Chinese keyboard types it in
# Excel (；，、), a plain ',', or a line break within the cell (Excel's Alt+Enter: each plate on a
# line of its own); no plate holds any of them.
_PLATES_BETWEEN = re.compile(r"[;；,，、\r\n]")


def parse_slot(row: dict[str, str], tz: ZoneInfo, read_plate: PlateReading = plate_value) -> SlotRow:
    del tz
    listed = _PLATES_BETWEEN.split(_text(row, "plates", limit=200))
    plates = tuple(read_plate(p, "plates") for p in listed if p.strip())
    return SlotRow(
        zone=_ruled(row, "zone"),
        number=_ruled(row, "number"),
        resident_ref=_text(row, "resident_ref", limit=40) or None,
        plates=plates,
    )


# The date columns of a CSV file (_when), the site's time (README): a cell gives no offset.
_DATES = ("valid_from", "valid_to", "monthly_until")
# Those that end a validity, where Excel's 2026/12/31 0:00 is the day typed (timefmt.typed_day).
_ENDS = ("valid_to", "monthly_until")
# A number as Excel and WPS show it in scientific form, and save it as "CSV": in a General column too
# narrow for 13800138000 (1.38001E+10), and at 12 digits or more in any width (8613800138000 as
# 8.6138E+12, a resident number 202401010001 as 2.02401E+11), the digits past those shown lost.
_SCIENTIFIC = re.compile(r"\d(?:\.\d+)?E[+-]\d{2,}", re.ASCII)
# The columns of numbers a register may hold so, each with whether its value is repeated in a message.
_WHOLE_NUMBERS = {"phone": False, "ref": True, "resident_ref": True}


def _cells(parse: Callable[[dict[str, str], ZoneInfo], Any]) -> Callable[[dict[str, str], ZoneInfo], Any]:
    """A parser of a CSV file's rows, which reads each cell back as the export wrote it, its dates
    in the site's time. Not the central server's entries (gateway/sync/entries.py): JSON holds no
    spreadsheet prefix, and its ISO 8601 date-times may give their offset (docs/mqtt.md)."""

    def parse_cells(row: dict[str, str], tz: ZoneInfo) -> Any:
        for column, repeated in _WHOLE_NUMBERS.items():  # the cell as given: '1E-1201 is text
            _not_scientific(row, column, repeated)
        cells = {column: from_cell(text) for column, text in row.items()}
        for column in _DATES:
            _site_time(cells, column)
        for column in _ENDS:
            day = typed_day(cells.get(column) or "")
            if day is not None:  # the whole day, as that date typed alone (README)
                cells[column] = day
        return parse(cells, tz)

    return parse_cells


def _not_scientific(row: dict[str, str], column: str, repeated: bool) -> None:
    """RowError for a phone or resident ref Excel saved in its scientific form (_SCIENTIFIC): taken,
    the phone was masked and hashed from other digits (the booth's search never found the resident)
    and the ref was one no other file gives, as a card in that form is no card (card_value). A cell
    marked as text ('2.02401E+11: the export writes a ref of the register so, as Excel keeps it) is
    no number Excel shortened, and is taken as it is: an export imports back."""
    text = (row.get(column) or "").strip()  # the raw cell, its leading apostrophe still on
    if text and _SCIENTIFIC.fullmatch(text):
        what = f"{quoted(text)} is" if repeated else "is"  # a phone is never repeated in a message
        raise RowError(
            column,
            f"{what} a number in Excel's scientific form (such as 1.23457E+11), its last digits lost "
            f"when it was saved: format the {column} column as text in Excel, give the numbers in full "
            "(from the original workbook or system: this file no longer has them) and save again",
        )


def _site_time(row: dict[str, str], column: str) -> None:
    """RowError for a date cell with an offset: the installer types the site's time, and the two
    digits after one are as likely a day's working hours ("2026-03-01 08:00-18", "08:00-12") as an
    offset; `export` writes none."""
    text = (row.get(column) or "").strip()
    if text and gives_offset(text):  # most cells are empty: no need to match them
        raise RowError(
            column,
            f"{quoted(text)} is not a date: a CSV date is the site's time, without an offset "
            f"(Z, +08:00, -12); write {FORMS}",
        )


PARSERS = {
    "residents": _cells(parse_resident),
    "vehicles": _cells(parse_vehicle),
    "cards": _cells(parse_card),
    "slots": _cells(parse_slot),
}
