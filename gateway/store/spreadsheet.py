"""CSV files the office opens in Excel or WPS (`gateway export`, the daily report).

They start with a byte-order mark (BOM): without one, Excel on a Chinese Windows reads them as GBK,
shows every name garbled and saves the garbled names back. Text that would run there as a formula is
written as text (as_cell), and an import takes it back (from_cell): whatever is stored, `export`
writes and `import` takes back.
"""

from __future__ import annotations

BOM = "\ufeff"

# Excel and WPS run a cell that starts with one of these as a formula (CSV injection: a resident's
# name =HYPERLINK(...) sends the office's next click to a stranger's site).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_cell(value: object) -> object:
    """A value as written to a CSV file the office opens in a spreadsheet: text that would run as a
    formula gets a leading apostrophe, which spreadsheets show as text; so does text that starts
    with one, so that from_cell gives back exactly what was written."""
    if isinstance(value, str) and value.startswith((*_FORMULA_STARTS, "'")):
        return "'" + value
    return value


def from_cell(text: str) -> str:
    """A CSV cell's text as as_cell was given it: one leading apostrophe taken off."""
    return text[1:] if text.startswith("'") else text
