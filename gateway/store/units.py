"""A building and unit compared as the same unit however it is written.

The central server sends residents with bare numbers (building "3", unit "2"); the guard pages name
such a unit 3栋2单元, and a guard types it as shown, or a pad gives full-width digits. Compared as
typed, a host unit never matched its residents or its visitor's pass.
"""

from __future__ import annotations

import sqlite3
import unicodedata

# Longest first: 号楼 before a shorter word it could end in.
_BUILDING_WORDS = ("号楼", "栋", "幢")
_UNIT_WORDS = ("单元",)


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


def same_unit(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return unit_key(*a) == unit_key(*b)


def resident_lives_in(conn: sqlite3.Connection, building: str, unit: str) -> bool:
    """Whether a resident lives in the unit, written as the register has it or as the pages show it.
    The units are compared in Python, one row per unit (an estate's few hundred), not per resident."""
    exact = "SELECT 1 FROM residents WHERE building = ? AND unit = ? LIMIT 1"
    if conn.execute(exact, (building, unit)).fetchone():
        return True
    wanted = unit_key(building, unit)
    rows = conn.execute("SELECT DISTINCT building, unit FROM residents")
    return any(unit_key(b, u) == wanted for b, u in rows)
