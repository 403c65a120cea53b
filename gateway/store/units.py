"""A building and unit compared as the same unit however it is written.

The central server sends residents with bare numbers (building "3", unit "2"); the guard pages name
such a unit 3栋2单元, and a guard types it as shown, or a pad gives full-width digits. Compared as
typed, a host unit never matched its residents or its visitor's pass.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata

# Longest first: 号楼 before a shorter word it could end in.
_BUILDING_WORDS = ("号楼", "栋", "幢")
_UNIT_WORDS = ("单元",)
# A building and unit typed whole, each with its word (3栋2单元, 3号楼 2单元): the shortest building
# before its word, so that 3栋2单元 is not read as a building "3栋2" with no word of its own.
_TYPED_WHOLE = re.compile(
    rf"(?P<building>.+?)(?:{'|'.join(_BUILDING_WORDS)})\s*(?P<unit>.+?)(?:{'|'.join(_UNIT_WORDS)})"
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


def parse_unit(text: str) -> tuple[str, str] | None:
    """The unit a text names whole, as unit_key gives it: 7栋4单元 and ７号楼 ４单元 are ("7", "4").
    None for anything else (a name, a bare 74, a building alone): those are not read as a unit."""
    found = _TYPED_WHOLE.fullmatch(unicodedata.normalize("NFKC", text).strip())
    if found is None:
        return None
    return unit_key(found["building"], found["unit"])


def same_unit(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return unit_key(*a) == unit_key(*b)


def registered_as(conn: sqlite3.Connection, building: str, unit: str) -> list[tuple[str, str]]:
    """How the register writes the unit (as the centre sent it, 8 / 1, or as typed, 8栋 / 1单元):
    each spelling residents have for it, the most residents' first. Empty where nobody lives.
    The units are compared in Python, one row per unit (an estate's few hundred), not per resident."""
    wanted = unit_key(building, unit)
    rows = conn.execute(
        "SELECT building, unit FROM residents GROUP BY building, unit ORDER BY count(*) DESC, building, unit"
    )
    return [(b, u) for b, u in rows if unit_key(b, u) == wanted]


def as_registered(conn: sqlite3.Connection, building: str, unit: str) -> tuple[str, str]:
    """The unit as the register writes it, so that one unit typed two ways is stored one way (a
    report groups by what is stored); as given where it is written so, or nobody lives there."""
    spellings = registered_as(conn, building, unit)
    return (building, unit) if not spellings or (building, unit) in spellings else spellings[0]


def resident_lives_in(conn: sqlite3.Connection, building: str, unit: str) -> bool:
    """Whether a resident lives in the unit, written as the register has it or as the pages show it."""
    exact = "SELECT 1 FROM residents WHERE building = ? AND unit = ? LIMIT 1"
    if conn.execute(exact, (building, unit)).fetchone():
        return True
    return bool(registered_as(conn, building, unit))
