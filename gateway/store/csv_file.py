"""A CSV file as Excel saves it, read into a header and rows: one reading for `gateway import` and
`gateway import-inside` (README, "CSV files").

The text: UTF-8 where the file starts with a byte-order mark (Excel's "CSV UTF-8", `export`'s);
without one, UTF-8 or GBK (GB18030), what Excel on a Chinese Windows saves as "CSV". Some GBK text
is valid UTF-8 too (豫 is D4 A5, 'ԥ' in UTF-8; 佟伟 reads '١ΰ'), and most UTF-8 text of an even
number of hanzi is valid GBK (张三 reads 寮犱笁). Where the two readings differ, a UTF-8 reading of
hanzi and punctuation alone is taken: a GBK hanzi that reads as UTF-8 reads as one character of two
bytes (U+0080 to U+07FF), and GBK text gives hanzi as UTF-8 only by a rare chain of bytes. Else the
reading that is text an office types is taken (莫 reads 'Ī', a Latin letter, but 'Ī' alone reads 莫
as GBK too), and a file where both are, or neither is, is refused with the fix.

The table: a row whose cells are all empty (a row cleared in the sheet, which Excel saves as
`,,,,`) is a blank line, and a column with no name whose cells are all empty (a column once used,
which Excel still saves as `,,` on every line) is no column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

SAVE_AS_UTF8 = "save it as CSV UTF-8: 另存为 → CSV UTF-8（逗号分隔）"

# Characters beyond ASCII that an estate's register is written in: hanzi, Chinese and full-width
# punctuation, Latin letters with accents and pinyin's tones (José, Lǚ), · (阿依古丽·买买提), Ⅱ, ①.
# Not Greek, Cyrillic, Arabic and the like: GBK's hanzi read as UTF-8 give those ('ԥ', '١ΰ').
_NOT_TYPED = re.compile(
    r"[^\x00-\x7f\u00b7\u00c0-\u017f\u01cd-\u01dc\u2000-\u206f\u2150-\u218f\u2460-\u24ff"
    r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    r"\U00020000-\U0003ffff]"
)
_TWO_BYTES_IN_UTF8 = re.compile(r"[\u0080-\u07ff]")
_WORD_BEYOND_ASCII = re.compile(r'[^,;\s"]*[^\x00-\x7f][^,;\s"]*')


class Unreadable(ValueError):
    """A file that cannot be read as CSV: `line` (0: the file as a whole) and what to do."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class CsvText:
    text: str
    # Read as GBK without a byte-order mark: a '?' in it may be a character the save lost.
    gbk: bool


@dataclass(frozen=True, slots=True)
class CsvFile:
    header: list[str]  # stripped
    rows: list[tuple[int, list[str]]]  # (line, fields), blank rows left out
    gbk: bool  # CsvText.gbk
    # The columns (0-based) that are none (unused_columns): left where they are, so that a problem
    # names a column by its place in the sheet.
    unused: frozenset[int]
    # Where the file stopped being CSV (a field over the csv module's limit), `rows` those before.
    stopped: Unreadable | None = None


def read_csv(path: Path) -> CsvFile:
    """The file's header and rows, without Excel's cleared rows and columns; Unreadable, its
    message naming the file, if it cannot be read (CsvFile.stopped where it stops part way)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise Unreadable(0, f"{path}: cannot open: {exc.strerror}") from exc
    if raw.startswith(b"PK\x03\x04"):
        raise Unreadable(0, f"{path}: is an Excel workbook, not CSV; in Excel use Save As, CSV UTF-8")
    try:
        read = decode(raw)
    except Unreadable as exc:
        raise Unreadable(0, f"{path}: {exc}") from None
    reader = csv.reader(io.StringIO(read.text, newline=""))
    header: list[str] = []
    rows: list[tuple[int, list[str]]] = []
    stopped = None
    try:
        header = [h.strip() for h in next(reader, [])]
        for fields in reader:
            if not blank(fields):
                rows.append((reader.line_num, fields))
    except csv.Error as exc:
        line = reader.line_num
        stopped = Unreadable(line, f"{path}:{line}: unreadable ({exc}); {SAVE_AS_UTF8}")
    unused = unused_columns(header, [fields for _, fields in rows])
    return CsvFile(header, rows, read.gbk, unused, stopped)


def blank(fields: list[str]) -> bool:
    """A row with no cell holding anything: a blank line, or a row cleared in Excel (`,,,,`)."""
    return not any(f.strip() for f in fields)


def unused_columns(header: list[str], rows: list[list[str]]) -> frozenset[int]:
    """The columns (0-based) with no name and nothing in any row: a column once used in Excel,
    which it still saves as `,,` on every line. One with no name and a value is a column, to be named."""
    unnamed = [i for i, name in enumerate(header) if not name]
    return frozenset(i for i in unnamed if not any(i < len(fields) and fields[i].strip() for fields in rows))


def decode(raw: bytes) -> CsvText:
    """The text of a CSV file (see the module's doc); Unreadable saying what to do."""
    if raw.startswith(codecs.BOM_UTF8):
        utf8 = _reading(raw[len(codecs.BOM_UTF8) :], "utf-8")
        if utf8 is None:
            raise Unreadable(0, f"unreadable (starts as UTF-8 but is not UTF-8 text); {SAVE_AS_UTF8}")
        return CsvText(utf8, gbk=False)
    utf8, gbk = _reading(raw, "utf-8"), _reading(raw, "gb18030")
    if utf8 is None:
        if gbk is None:
            raise Unreadable(0, f"unreadable (neither UTF-8 nor GBK text); {SAVE_AS_UTF8}")
        return CsvText(gbk, gbk=True)
    if gbk is None or gbk == utf8:  # ASCII reads the same either way
        return CsvText(utf8, gbk=False)
    return _likelier(utf8, gbk)


def _likelier(utf8: str, gbk: str) -> CsvText:
    """Of a file's two differing readings, the one that is the file's (see the module's doc)."""
    if typed(utf8) and _TWO_BYTES_IN_UTF8.search(utf8) is None:
        return CsvText(utf8, gbk=False)
    utf8_typed, gbk_typed = typed(utf8), typed(gbk) and _common_gbk(gbk)
    if utf8_typed and not gbk_typed:
        return CsvText(utf8, gbk=False)
    if gbk_typed and not utf8_typed:
        return CsvText(gbk, gbk=True)
    line, as_utf8, as_gbk = _first_difference(utf8, gbk)
    raise Unreadable(
        0,
        f"cannot tell whether it is UTF-8 or GBK text: line {line} reads {as_utf8!r} as UTF-8 and "
        f"{as_gbk!r} as GBK; {SAVE_AS_UTF8}",
    )


def typed(text: str) -> bool:
    """Whether every character of the text is one an estate's register is written in."""
    return _NOT_TYPED.search(text) is None


def _common_gbk(text: str) -> bool:
    """Whether the text is in GB2312, GBK's common characters: what a Chinese office types, where
    UTF-8's bytes read as GBK give its rarer hanzi and private-use codes half the time (犱, 笁)."""
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _reading(raw: bytes, encoding: str) -> str | None:
    try:
        return codecs.decode(raw, encoding)
    except UnicodeDecodeError:
        return None


def _first_difference(utf8: str, gbk: str) -> tuple[int, str, str]:
    """The first line the two readings differ on (neither encoding's bytes of a character hold a
    line end), and the first word on it with a character beyond ASCII in each."""
    for number, (one, other) in enumerate(zip(utf8.split("\n"), gbk.split("\n"), strict=False), 1):
        if one != other:
            return number, _first_word(one), _first_word(other)
    return 1, "", ""


def _first_word(line: str) -> str:
    found = _WORD_BEYOND_ASCII.search(line)
    return found.group() if found else line
