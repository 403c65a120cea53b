"""CSV files the office opens in Excel or WPS (`gateway export`, the daily report).

They start with a byte-order mark (BOM): without one, Excel on a Chinese Windows reads them as GBK,
shows every name garbled and saves the garbled names back. Text that would run there as a formula,
or be read as a number or a date and so shown and saved back as other text, is written as text
(as_cell), and an import takes it back (from_cell): whatever is stored, `export` writes and
`import` takes back.
"""

from __future__ import annotations

import re

BOM = "\ufeff"

# Excel and WPS run a cell that starts with one of these as a formula (CSV injection: a resident's
# name =HYPERLINK(...) sends the office's next click to a stranger's site).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Text Excel and WPS read as a number they show, and save back as CSV, as other text: leading zeros
# dropped (card 0012345678, room 0301), 12 digits or more in General's scientific form
# (1.23457E+11; past 15 digits the rest become zeros), a fraction shortened (0.50 as 0.5, .5 as
# 0.5), a scientific-looking card or room (1E10, 12e4). Digits Excel shows as they are (1234, 0) stay
# bare: an amount in fen is still a number there.
_NUMBER_MANGLED = re.compile(
    r"0\d+(?:\.\d*)?"
    r"|\d{12,}(?:\.\d*)?"
    r"|\d*\.\d*0|\.\d+|\d+\."
    r"|\d*\.?\d+[eE][+-]?\d+",
    re.ASCII,
)
# Text they read as a date or a time (on a Chinese Windows): slot 2-15 or 2/15 becomes 2月15日,
# tariff version 2025-01 January 2025, 2026-03-01 2026/3/1, 08:00 8:00.
_TIME = r"\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?"
_DATE_OR_TIME = re.compile(rf"\d{{1,4}}[-/]\d{{1,4}}(?:[-/]\d{{1,4}})?(?:\s+{_TIME})?|{_TIME}", re.ASCII)


def as_cell(value: object) -> object:
    """A value as written to a CSV file the office opens in a spreadsheet: text that would run as a
    formula, or be read as a number or a date (_read_as_other), gets a leading apostrophe, which
    spreadsheets show as text; so does text that starts with one, so that from_cell gives back
    exactly what was written."""
    if isinstance(value, str) and (value.startswith((*_FORMULA_STARTS, "'")) or _read_as_other(value)):
        return "'" + value
    return value


def _read_as_other(text: str) -> bool:
    """Whether Excel or WPS would read `text` as a number or a date it shows, and saves back, as
    other text (0012345678 as 12345678, 2-15 as 2月15日); they skip the spaces around it."""
    bare = text.strip()
    return bool(_NUMBER_MANGLED.fullmatch(bare) or _DATE_OR_TIME.fullmatch(bare))


def from_cell(text: str) -> str:
    """A CSV cell's text as as_cell was given it: one leading apostrophe taken off."""
    return text[1:] if text.startswith("'") else text
