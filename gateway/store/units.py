"""A building and unit compared as the same unit however it is written.

The central server sends residents with bare numbers (building "3", unit "2"); the guard pages name
such a unit 3栋2单元, and a guard types it as shown, or a pad gives full-width digits. Compared as
typed, a host unit never matched its residents or its visitor's pass. A flat is the unit and the room
typed after it (7栋4单元1201), the room compared as room_key gives it.
"""

from __future__ import annotations

import functools
import itertools
import re
import sqlite3
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from gateway.core.windows import Validity
from gateway.timefmt import from_db
from gateway.typed import AS_HYPHEN

# Longest first: 号楼 before a shorter word it could end in.
_BUILDING_WORDS = ("号楼", "栋", "幢")
_UNIT_WORDS = ("单元",)
# 1201号 as often as 1201室: either is room 1201 (Review K: 1201号 was refused no_such_room).
_ROOM_WORDS = ("室", "号")
# A building and unit typed whole, each with its word (3栋2单元, 3号楼 2单元): the shortest building
# before its word, so that 3栋2单元 is not read as a building "3栋2" with no word of its own. Then,
# optionally, the room, as an address is said and written (3栋2单元1201, 3栋2单元 1201室): the page
# tells a guard with too many residents listed to type one.
_TYPED_WHOLE = re.compile(
    rf"(?P<building>.+?)(?:{'|'.join(_BUILDING_WORDS)})\s*(?P<unit>.+?)(?:{'|'.join(_UNIT_WORDS)})"
    r"(?:\s*(?P<room>.+))?"
)

# The same flat as couriers, visitors and the property office write it: building, unit and room
# with dashes (3-2-301), or # after the building (3#2-301), 室 after the room allowed. Only with its
# room: 3-2 alone could be anything (a ticket's number is 0303-1). Short parts, so that a phone
# number written with dashes (139-1234-5678) is not read as a flat.
_DASHED = re.compile(
    r"(?P<building>[0-9A-Za-z]{1,4})\s*[-#]\s*(?P<unit>[0-9A-Za-z]{1,3})\s*-\s*"
    rf"(?P<room>[0-9A-Za-z]{{1,6}})\s*(?:{'|'.join(_ROOM_WORDS)})?"
)


def _bare(text: str, words: tuple[str, ...]) -> str:
    # NFKC turns full-width digits and letters (８, Ａ) into ASCII and the ideographic space into a space.
    text = unicodedata.normalize("NFKC", text).strip()
    for word in words:
        if text.endswith(word) and len(text) > len(word):  # a building named only 栋 stays as it is
            return text[: -len(word)].strip()
    return text


def unit_key(building: str, unit: str) -> tuple[str, str]:
    """One normal form of a unit: 8栋 / 1单元, 8 / 1, ８号楼 / 1 单元 are all ("8", "1")."""
    return _bare(building, _BUILDING_WORDS), _bare(unit, _UNIT_WORDS)


def room_key(room: str) -> str:
    """One normal form of a room: 1201, １２０１, 1201室 and 1201号 are all "1201"."""
    return _bare(room, _ROOM_WORDS)


@dataclass(frozen=True, slots=True)
class Flat:
    """A unit a text names whole (as unit_key gives it), and the room typed after it, if any (as
    room_key gives it)."""

    unit: tuple[str, str]
    room: str | None


def parse_flat(text: str) -> Flat | None:
    """The unit a text names whole, and its room if one follows: 7栋4单元 is ("7", "4") with no room;
    7栋4单元1201, 7栋4单元 1201, ７号楼４单元１２０１室 and 7-4-1201 (7#4-1201) are ("7", "4") room
    "1201". None for anything else (a name, a bare 74, a building alone, a unit and room with no
    building, 7-4 with no room): not read as a unit."""
    text = unicodedata.normalize("NFKC", text).translate(AS_HYPHEN).strip()
    found = _TYPED_WHOLE.fullmatch(text) or _DASHED.fullmatch(text)
    if found is None:
        return None
    room = room_key(found["room"]) if found["room"] else None
    return Flat(unit_key(found["building"], found["unit"]), room or None)


def parse_unit(text: str) -> tuple[str, str] | None:
    """The unit a text names whole with no room after it, as unit_key gives it: 7栋4单元 and
    ７号楼 ４单元 are ("7", "4"). None for anything else, a flat with its room too (parse_flat)."""
    flat = parse_flat(text)
    return flat.unit if flat is not None and flat.room is None else None


def same_unit(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return unit_key(*a) == unit_key(*b)


def registered_as(conn: sqlite3.Connection, building: str, unit: str) -> list[tuple[str, str]]:
    """How the register writes the unit (as the centre sent it, 8 / 1, or as typed, 8栋 / 1单元):
    each spelling residents have for it, the one of the longest-registered resident first (it
    changes when that resident is removed: what reads records stored in it compares them as
    unit_key, as the daily report's materials_out does). Empty where nobody lives.
    The units are compared in Python, one row per unit (an estate's few hundred), not per resident."""
    wanted = unit_key(building, unit)
    rows = conn.execute("SELECT building, unit FROM residents GROUP BY building, unit ORDER BY min(id)")
    return [(b, u) for b, u in rows if unit_key(b, u) == wanted]


def as_registered(conn: sqlite3.Connection, building: str, unit: str) -> tuple[str, str]:
    """The unit as the register writes it, so that one unit typed two ways is stored one way while
    its residents stay (the report groups by unit_key all the same): one spelling even where the
    register holds two (residents imported as 3栋 / 2单元, others the centre sent as 3 / 2); as
    given where nobody lives there."""
    spellings = registered_as(conn, building, unit)
    return spellings[0] if spellings else (building, unit)


# A host as guards type it at the booth, read loosely (host_readings): whether a visitor's host is a
# place where someone lives (store/passes.py host_unknown), where refusing a real visitor at the gate
# costs more than a mistyped unit registered, and then which unit that is (host_units), for the
# materials carried out on the pass and for validating its stay, which read it the same way (review
# 64F: taken at the booth, 三栋 / 二单元 was then a unit where nobody lived to both). What is stored
# (a validation, materials) is the register's spelling, compared as unit_key.
_LOOSE_BUILDING_WORDS = ("号楼", "栋", "幢", "号")  # 18号 is villa 18; A座 keeps its 座, as in unit_key
_CN_DIGITS = {c: d for d, c in enumerate("〇一二三四五六七八九")} | {"零": 0, "两": 2}
_CN_NUMBER = re.compile(r"[〇零一二两三四五六七八九十]+")
_LOOSE_WORD = "(?:号楼|栋|幢|座|号)"
# A building and unit typed whole in one field, with their words (A座1单元, 三栋二单元1201) or dashes
# (3-2, 3-2-301, 3#2): a room may follow.
_LOOSE_WHOLE = (
    re.compile(rf"(?P<building>.+?{_LOOSE_WORD})\s*[-#]?\s*(?P<unit>.+?单元)(?:\s*[-#]?\s*(?P<room>.+))?"),
    re.compile(
        r"(?P<building>[^-#\s]{1,6})\s*[-#]\s*(?P<unit>[^-#\s]{1,4})(?:\s*-\s*(?P<room>[^-#\s]{1,6}))?"
    ),
)
# The unit field with the room after it: 2单元1201, 2单元-1201, 2-301 (a dash or the word between).
_UNIT_ROOM = re.compile(r"(?P<unit>[^-#\s]+?)(?:单元\s*[-#]?|\s*[-#])\s*(?P<room>[^-#\s]+)")


def _cn_number(text: str) -> str:
    """一..九十九 as written by hand (三, 十二, 二十, 二十一, 一〇一) in Arabic digits; else as it is."""
    if not _CN_NUMBER.fullmatch(text):
        return text
    if "十" not in text:
        return "".join(str(_CN_DIGITS[c]) for c in text)
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return text
    return str((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0))


def _loose(text: str, words: tuple[str, ...]) -> str:
    bare = _bare(unicodedata.normalize("NFKC", text).translate(AS_HYPHEN).lower(), words)
    return _cn_number(bare.replace(" ", ""))


def loose_key(building: str, unit: str) -> tuple[str, str]:
    """A unit as unit_key gives it, read more loosely: ASCII case folded (b3 is B3), Chinese numerals
    up to 九十九 as digits (三栋 二单元 is 3 / 2), and a building's 号 dropped (villa 18号 is 18)."""
    return _loose(building, _LOOSE_BUILDING_WORDS), _loose(unit, _UNIT_WORDS)


# Cached: a room typed as the unit reads its building's residents, each unit's rooms the same numbers.
@functools.lru_cache(maxsize=4096)
def loose_room(room: str) -> str:
    """A room as room_key gives it, ASCII case folded and Chinese numerals read as digits."""
    return _loose(room, _ROOM_WORDS)


def host_readings(building: str, unit: str) -> set[tuple[str, str]]:
    """Every unit (as loose_key gives it) a host's building and unit fields may name, as guards type
    them: as typed (三栋 / 二单元), the unit field with its room after it (3栋 / 2-301, A座 / 1单元1201),
    or building and unit whole in one field (3-2 / "", "" / A座1单元, 3栋2单元1201)."""
    building = unicodedata.normalize("NFKC", building).translate(AS_HYPHEN).strip()
    unit = unicodedata.normalize("NFKC", unit).translate(AS_HYPHEN).strip()
    found = {loose_key(building, unit)}
    split = _UNIT_ROOM.fullmatch(unit)
    if split is not None:
        found.add(loose_key(building, split["unit"]))
    for text in {f"{building}{unit}", building if not unit else "", unit if not building else ""} - {""}:
        for pattern in _LOOSE_WHOLE:
            whole = pattern.fullmatch(text)
            if whole is not None:
                found.add(loose_key(whole["building"], whole["unit"]))
    return found


# The register's buildings, and one building's units, each read off the index residents_unit
# (building, unit) once per value: a skip scan written out, where GROUP BY or DISTINCT reads every
# resident's entry (review 64Rh: a validation held the decision worker 285 ms on an estate of 30,000
# households, a car at the entrance waiting behind it). An estate's buildings and units, never its
# residents, whose leases are read only in the units a host may name.
_BUILDINGS = """
WITH RECURSIVE b(building) AS (
  SELECT min(building) FROM residents
  UNION ALL SELECT (SELECT min(building) FROM residents WHERE building > b.building) FROM b
  WHERE b.building IS NOT NULL)
SELECT building FROM b WHERE building IS NOT NULL
"""
_UNITS = """
WITH RECURSIVE u(unit) AS (
  SELECT min(unit) FROM residents WHERE building = :building
  UNION ALL SELECT (SELECT min(unit) FROM residents WHERE building = :building AND unit > u.unit) FROM u
  WHERE u.unit IS NOT NULL)
SELECT unit FROM u WHERE unit IS NOT NULL
"""
_RESIDENTS_OF = """
SELECT id, room, valid_from, valid_to FROM residents WHERE building = ? AND unit = ? ORDER BY id
"""


def _living(
    conn: sqlite3.Connection, building: str, unit: str, at: datetime, *, arriving: bool = False
) -> Iterator[tuple[int, str]]:
    """The id and room of each resident of the unit (spelt as the register writes it) who lives
    there at `at`, oldest first: the lease begun and not over, by the rule the lanes read it by
    (Validity: a bare valid_to includes its whole last day). A household whose lease has ended has
    moved out (docs/parking.md): its rows stay in the register, and it is no one's host. With
    `arriving`, one whose lease has not begun yet counts too: its flat is renovated before it moves
    in, and it is told of the debris carried out (review 64Ro)."""
    for rid, room, valid_from, valid_to in conn.execute(_RESIDENTS_OF, (building, unit)):
        if valid_from is valid_to is None:
            yield rid, room
            continue
        lease = Validity(from_db(valid_from), from_db(valid_to))
        if (arriving and not lease.expired(at)) or lease.covers(at):
            yield rid, room


def _lived_in(
    conn: sqlite3.Connection, units: list[tuple[str, str]], at: datetime, arriving: bool
) -> list[tuple[int, str, str]]:
    """Of `units` (as the register writes them), those where someone lives at `at` (_living), each
    with its oldest such resident's id: (id, building, unit)."""
    return [
        (rid, b, u)
        for b, u in units
        for rid, _ in itertools.islice(_living(conn, b, u, at, arriving=arriving), 1)
    ]


def _spelt(found: list[tuple[int, str, str]]) -> list[tuple[str, str]]:
    """Each unit (as unit_key gives it) once, as its oldest resident living there has it written,
    oldest first: (id, building, unit) found in any order."""
    spelt: dict[tuple[str, str], tuple[str, str]] = {}
    for _, b, u in sorted(found):
        spelt.setdefault(unit_key(b, u), (b, u))
    return list(spelt.values())


def host_units(
    conn: sqlite3.Connection,
    building: str,
    unit: str,
    at: datetime,
    *,
    whole_building: bool = True,
    arriving: bool = False,
) -> list[tuple[str, str]]:
    """The units where a resident lives at `at` (_living: not a household moved out) that a host's
    building and unit fields name, each as the register writes it (as_registered), read as guards
    type them (host_readings): the one unit for 8栋 / 1单元, 8 / 1, 三栋 / 二单元, 3栋 / 2-301 or 3-2
    typed whole; for a room in the unit's place (3栋 / 1201) the building's units that hold that
    room, where the register records rooms there. With `whole_building`, every unit of the building
    for a building alone, or for a room where the register records none there. Empty where it names
    no place a resident lives (30栋, 3栋 / 9单元), or nothing. With `arriving`, a household not
    moved in yet lives there too (_living)."""
    if not (building or unit):
        return []
    flat = parse_flat(f"{building}{unit}")
    readings = host_readings(building, unit)
    exact = {unit_key(building, unit)} if building and unit else set()
    whole = {flat.unit} if flat is not None else set()
    # Only the buildings a reading names have their units read (a building or two of an estate's).
    strict = {b for b, _ in exact | whole}
    loose = {b for b, _ in readings}
    named = [
        (b, u)
        for (b,) in conn.execute(_BUILDINGS)
        if unit_key(b, "")[0] in strict or loose_key(b, "")[0] in loose
        for (u,) in conn.execute(_UNITS, {"building": b}).fetchall()
    ]
    # The most exact reading that finds a unit: as the register or the pages write it, a flat
    # typed whole, then as guards type it.
    for found in (exact, whole, {unit_key(b, u) for b, u in named if loose_key(b, u) in readings}):
        living = _lived_in(conn, [(b, u) for b, u in named if unit_key(b, u) in found], at, arriving)
        if living:
            return _spelt(living)
    if not building or unit.strip().endswith("单元"):  # a unit where nobody lives, 3栋 / 9单元
        return []
    wanted = loose_key(building, "")[0]
    there = [(b, u) for b, u in named if loose_key(b, "")[0] == wanted]
    # Rooms are read only for a room typed as the unit: those of the building's residents.
    people = (
        [(rid, b, u, r) for b, u in there for rid, r in _living(conn, b, u, at, arriving=arriving)]
        if unit
        else []
    )
    if any(r for *_, r in people):  # the room typed as the unit, where the register records rooms
        room = loose_room(unit)
        living = [(rid, b, u) for rid, b, u, r in people if r and loose_room(r) == room]
    elif whole_building:
        living = _lived_in(conn, there, at, arriving)
    else:
        return []
    return _spelt(living)


def named_unit(
    conn: sqlite3.Connection, building: str, unit: str, at: datetime, *, arriving: bool = False
) -> tuple[str, str] | None:
    """The one unit where a resident lives at `at` that a host names (host_units, not a building's
    every unit), as the register writes it; None where it names none (a building alone, a unit
    where nobody lives, or none lives any longer) or more than one (a room two units hold)."""
    units = host_units(conn, building, unit, at, whole_building=False, arriving=arriving)
    return units[0] if len(units) == 1 else None


def rooms_typed(building: str, unit: str) -> list[tuple[tuple[str, str], str]]:
    """The rooms a host's building and unit fields name after a unit, each with that unit (as
    loose_key gives it), read as host_readings reads them: the unit field with its room after it
    (3栋 / 2单元1201, 3栋 / 2-301) or the flat typed whole (3栋2单元1201, 3-2-301). Empty where no
    room follows a unit (3栋 / 2单元, or a room alone in the unit's place: room_in reads that)."""
    building = unicodedata.normalize("NFKC", building).translate(AS_HYPHEN).strip()
    unit = unicodedata.normalize("NFKC", unit).translate(AS_HYPHEN).strip()
    found = []
    split = _UNIT_ROOM.fullmatch(unit)
    if split is not None:
        found.append((loose_key(building, split["unit"]), split["room"]))
    for text in {f"{building}{unit}", building if not unit else "", unit if not building else ""} - {""}:
        for pattern in _LOOSE_WHOLE:
            whole = pattern.fullmatch(text)
            if whole is not None and whole["room"]:
                found.append((loose_key(whole["building"], whole["unit"]), whole["room"]))
    return found


def room_in(
    conn: sqlite3.Connection, building: str, unit: str, room: str, at: datetime, *, arriving: bool = False
) -> str | None:
    """`room` (1201, １２０１, 1201室) as the register writes it for a resident living in the unit
    (spelt as the register writes it) at `at` (_living); as room_key gives it where the register
    records no room there; "" for no room; None for one that is none of the unit's recorded rooms."""
    if not room.strip():
        return ""
    wanted = loose_room(room)
    rooms = [r for _, r in _living(conn, building, unit, at, arriving=arriving) if r]
    for recorded in rooms:
        if loose_room(recorded) == wanted:
            return recorded
    return None if rooms else room_key(room)
