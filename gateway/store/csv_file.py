"""A CSV file as Excel saves it, read into a header and rows: one reading for `gateway import` and
`gateway import-inside` (README, "CSV files").

The text: in the encoding the command is given (`--encoding utf-8|gbk`), with no guessing; else
UTF-8 where the file starts with a byte-order mark (Excel's "CSV UTF-8", `export`'s); else UTF-8 or
GBK (GB18030), what Excel on a Chinese Windows saves as "CSV". Some GBK text is valid UTF-8 too (豫
is D4 A5, 'ԥ' in UTF-8; 佟伟 reads '١ΰ'), and much UTF-8 text is valid GBK (张三 reads 寮犱笁,
Уланова reads 校谢邪薪芯胁邪). Where the two readings differ, a UTF-8 reading of hanzi and
punctuation alone is taken: a GBK hanzi that reads as UTF-8 reads as one character of two bytes
(U+0080 to U+07FF), and GBK text gives hanzi as UTF-8 only by a rare chain of bytes. Else the
reading that is plausible register text is taken: as GBK, text an office types in GB2312's hanzi;
as UTF-8, text an office types and words of one script (Уланова, Παπαδόπουλος, محمد), where GBK's
bytes give lone letters, letters of two scripts and symbols ('ԥ', 'ԥA12345', '١ΰ', '³'). A file
that both read plausibly (莫 reads 'Ī'; Уланова), or neither, is refused (InDoubt), naming the line
and what makes each reading doubtful, with the fix: the same command with `--encoding`.

Excel's "CSV" writes '?' for each character GBK lacks (䶮, Ł): a '?' of a file that may be one, one
without a byte-order mark read as GBK or all ASCII (Łukasz Nowak saved as '?ukasz Nowak'), may be
a character lost (CsvText.lossy), unless the command was given `--encoding utf-8`. A file UTF-8
reads with characters beyond ASCII is no such save: it keeps every character.

The table: a row whose cells are all empty (a row cleared in the sheet, which Excel saves as
`,,,,`) is a blank line, and a column with no name whose cells are all empty (a column once used,
which Excel still saves as `,,` on every line) is no column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from gateway.errors import GatewayError, ImportRejected
from gateway.store.csv_open import NotOpened

SAVE_AS_UTF8 = "save it as CSV UTF-8: 另存为 → CSV UTF-8（逗号分隔）"
# `--encoding` of `gateway import` and `gateway import-inside`: the codec each is read with (GBK as
# GB18030, which Excel's GBK is part of and which keeps 䶮).
ENCODINGS = {"utf-8": "utf-8", "gbk": "gb18030"}

# Characters beyond ASCII that an estate's register is written in: hanzi, Chinese and full-width
# punctuation, Latin letters with accents and pinyin's tones (José, Lǚ), · (阿依古丽·买买提), Ⅱ, ①.
# Other scripts are taken in words of their own (_odd_in_utf8).
_NOT_TYPED = re.compile(
    r"[^\x00-\x7f\u00b7\u00c0-\u017f\u01cd-\u01dc\u2000-\u206f\u2150-\u218f\u2460-\u24ff"
    r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
    r"\U00020000-\U0003ffff]"
)
_TWO_BYTES_IN_UTF8 = re.compile(r"[\u0080-\u07ff]")


class Unreadable(ValueError):
    """A file that cannot be read as CSV: `line` (0: the file as a whole) and what to do."""

    def __init__(self, line: int, message: str):
        self.line = line
        super().__init__(message)


class BadEncoding(Unreadable):
    """A file that is not text in the encoding it is read in: a problem of the file, never of a row;
    `fix` says what to do."""

    def __init__(self, reason: str, fix: str = SAVE_AS_UTF8):
        self.reason, self.fix = reason, fix
        super().__init__(0, f"{reason}; {fix}")

    def of(self, path: Path) -> BadEncoding:
        """The same, its reason naming the file."""
        return type(self)(f"{path}: {self.reason}", self.fix)


class InDoubt(BadEncoding):
    """A file without a byte-order mark that reads as register text both as UTF-8 and as GBK, or as
    neither: `fix` gives the command's --encoding for each reading."""


_FIX_EACH = (
    "as each file's line says; --encoding is for every file of the run: import files of different "
    "encodings in runs of their own"
)


class EncodingRefused(ImportRejected):
    """An import refused for its files' encodings (BadEncoding): said of the files, not as bad rows
    to correct, with the fix the file's; `others`: the problems found in the other files."""

    def __init__(self, files: list[BadEncoding], others: list[str], nothing: str = "nothing was imported"):
        self.problems = [str(f) for f in files] + others
        doubt = all(isinstance(f, InDoubt) for f in files)
        count = f"{len(files)} file" + ("s" if len(files) > 1 else "")
        heading = f"cannot tell the encoding of {count}" if doubt else f"cannot read the text of {count}"
        said = [files[0].reason] if len(files) == 1 else [str(f) for f in files]
        if others:
            said.append(f"and {len(others)} problem(s) in the other files:")
            said += others[:50] + ([f"... and {len(others) - 50} more"] if len(others) > 50 else [])
        fix = files[0].fix if len(files) == 1 else _FIX_EACH
        # Not ImportRejected's words, which count bad rows to correct.
        GatewayError.__init__(self, "\n".join([f"{heading}; {nothing}:", *said]), fix=fix)


@dataclass(frozen=True, slots=True)
class CsvText:
    text: str
    gbk: bool  # read as GBK
    # Maybe Excel's "CSV" (without a byte-order mark, read as GBK or all ASCII, not given as UTF-8),
    # whose '?' may be a character the save lost (lost_in_gbk).
    lossy: bool


@dataclass(frozen=True, slots=True)
class CsvFile:
    header: list[str]  # stripped
    rows: list[tuple[int, list[str]]]  # (line, fields), blank rows left out
    gbk: bool  # CsvText.gbk
    lossy: bool  # CsvText.lossy
    # The columns (0-based) that are none (unused_columns): left where they are, so that a problem
    # names a column by its place in the sheet.
    unused: frozenset[int]
    # Where the file stopped being CSV (a field over the csv module's limit), `rows` those before.
    stopped: Unreadable | None = None


def read_csv(path: Path, encoding: str | None = None) -> CsvFile:
    """The file's header and rows, without Excel's cleared rows and columns, read in `encoding`
    (ENCODINGS; None: told from the file); Unreadable, its message naming the file, if it cannot
    be read (BadEncoding for its text; CsvFile.stopped where it stops part way); NotOpened if it
    cannot be opened at all."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise NotOpened(path, exc) from exc
    if raw.startswith(b"PK\x03\x04"):
        raise Unreadable(0, f"{path}: is an Excel workbook, not CSV; in Excel use Save As, CSV UTF-8")
    try:
        read = decode(raw, encoding)
    except BadEncoding as exc:
        raise exc.of(path) from None
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
    return CsvFile(header, rows, read.gbk, read.lossy, unused, stopped)


def blank(fields: list[str]) -> bool:
    """A row with no cell holding anything: a blank line, or a row cleared in Excel (`,,,,`)."""
    return not "".join(fields).strip()  # as any(f.strip() ...), in C


def unused_columns(header: list[str], rows: list[list[str]]) -> frozenset[int]:
    """The columns (0-based) with no name and nothing in any row: a column once used in Excel,
    which it still saves as `,,` on every line. One with no name and a value is a column, to be named."""
    unnamed = [i for i, name in enumerate(header) if not name]
    return frozenset(i for i in unnamed if not any(i < len(fields) and fields[i].strip() for fields in rows))


def decode(raw: bytes, encoding: str | None = None) -> CsvText:
    """The text of a CSV file (see the module's doc), in `encoding` where one is given; BadEncoding
    saying what to do. A byte-order mark says UTF-8 whatever `encoding` says: an export in the same
    run as a file Excel saved as "CSV" is read as it is, --encoding gbk being for the other."""
    if raw.startswith(codecs.BOM_UTF8):
        utf8 = _reading(raw[len(codecs.BOM_UTF8) :], "utf-8")
        if utf8 is None:
            raise BadEncoding("unreadable (starts as UTF-8 but is not UTF-8 text)")
        return CsvText(utf8, gbk=False, lossy=False)
    if encoding is not None:
        return _as_given(raw, encoding)
    utf8, gbk = _reading(raw, "utf-8"), _reading(raw, "gb18030")
    if utf8 is None:
        if gbk is None:
            raise BadEncoding("unreadable (neither UTF-8 nor GBK text)")
        return CsvText(gbk, gbk=True, lossy=True)
    if gbk == utf8:  # ASCII reads the same either way
        return CsvText(utf8, gbk=False, lossy=True)
    if gbk is None:
        return CsvText(utf8, gbk=False, lossy=False)
    return _likelier(utf8, gbk)


def _as_given(raw: bytes, encoding: str) -> CsvText:
    """The text of a file without a byte-order mark in the encoding the command was given: no
    guessing."""
    body = raw
    try:
        text = codecs.decode(body, ENCODINGS[encoding])
    except UnicodeDecodeError as exc:
        line = body.count(b"\n", 0, exc.start) + 1
        other = "gbk" if encoding == "utf-8" else "utf-8"
        raise BadEncoding(
            f"is not {encoding.upper()} text (line {line})",
            f"leave --encoding out, or give --encoding {other}",
        ) from None
    return CsvText(text, gbk=encoding == "gbk", lossy=encoding != "utf-8")


def _likelier(utf8: str, gbk: str) -> CsvText:
    """Of a file's two differing readings, the one that is the file's (see the module's doc)."""
    if typed(utf8) and _TWO_BYTES_IN_UTF8.search(utf8) is None:
        return CsvText(utf8, gbk=False, lossy=False)
    odd_in_utf8, odd_in_gbk = _odd_in_utf8(utf8), _odd_in_gbk(gbk)
    if odd_in_utf8 is None and odd_in_gbk is not None:
        return CsvText(utf8, gbk=False, lossy=False)
    if odd_in_gbk is None and odd_in_utf8 is not None:
        return CsvText(gbk, gbk=True, lossy=True)
    if odd_in_utf8 is None or odd_in_gbk is None:
        raise _plausible_both_ways(utf8, gbk)
    raise _plausible_neither_way(utf8, gbk, odd_in_utf8, odd_in_gbk)


def typed(text: str) -> bool:
    """Whether every character of the text is one an estate's register is written in."""
    return _NOT_TYPED.search(text) is None


def _odd_in_utf8(text: str) -> int | None:
    """Where a UTF-8 reading stops being register text: the first character not typed (`typed`)
    that is not a letter in a word of one script (Уланова, محمد); GBK's hanzi read as UTF-8 give
    lone letters, letters of two scripts and symbols ('ԥ', 'ԥA12345', '١ΰ', '³'). None: it is."""
    word_end = 0  # the end of the last word found of one script: its other letters are fine
    for found in _NOT_TYPED.finditer(text):
        at = found.start()
        if at < word_end:
            continue
        word = _word_at(text, at)
        if word is None or not _of_one_script(text[word[0] : word[1]]):
            return at
        word_end = word[1]
    return None


def _word_at(text: str, at: int) -> tuple[int, int] | None:
    """Where the word (letters and their marks) of the character at `at` starts and ends; None
    where it is no letter."""
    if not _lettered(text[at]):
        return None
    start, end = at, at + 1
    while start > 0 and _lettered(text[start - 1]):
        start -= 1
    while end < len(text) and _lettered(text[end]):
        end += 1
    return start, end


def _of_one_script(word: str) -> bool:
    """Whether a word has two letters or more, all of one script, hanzi aside (佐藤さくら)."""
    scripts = [_script(ch) for ch in word if unicodedata.category(ch).startswith("L")]
    scripts = [script for script in scripts if script != "CJK"]
    return len(scripts) >= 2 and len(set(scripts)) == 1


def _lettered(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LM"


def _script(letter: str) -> str:
    """A letter's script, as its Unicode name starts: LATIN, CYRILLIC, GREEK, ARABIC, CJK..."""
    return unicodedata.name(letter, "").partition(" ")[0]


def _odd_in_gbk(text: str) -> int | None:
    """Where a GBK reading stops being register text: the first character not typed (`typed`) or
    not in GB2312, GBK's common characters, what a Chinese office types (UTF-8's bytes read as GBK
    give its rarer hanzi and private-use codes half the time: 犱, 笁). None: it is."""
    found = _NOT_TYPED.search(text)
    odd = None if found is None else found.start()
    try:
        text.encode("gb2312")
    except UnicodeEncodeError as exc:
        odd = exc.start if odd is None else min(odd, exc.start)
    return odd


def _reading(raw: bytes, encoding: str) -> str | None:
    try:
        return codecs.decode(raw, encoding)
    except UnicodeDecodeError:
        return None


def _plausible_both_ways(utf8: str, gbk: str) -> InDoubt:
    line, cell = _first_difference(utf8, gbk)
    as_utf8, as_gbk = _cell(utf8, line, cell), _cell(gbk, line, cell)
    return InDoubt(
        f"cannot tell whether it is UTF-8 or GBK text: line {line} reads {as_utf8!r} as UTF-8 and "
        f"{as_gbk!r} as GBK, register text either way",
        _give_encoding(line, as_utf8, as_gbk),
    )


def _plausible_neither_way(utf8: str, gbk: str, odd_in_utf8: int, odd_in_gbk: int) -> InDoubt:
    line, cell = _where(utf8, odd_in_utf8)
    as_utf8, as_gbk = _cell(utf8, line, cell), _cell(gbk, line, cell)
    gbk_line, gbk_cell = _where(gbk, odd_in_gbk)
    return InDoubt(
        f"cannot tell whether it is UTF-8 or GBK text: read as UTF-8, line {line} has "
        f"{utf8[odd_in_utf8]!r} (in {as_utf8!r}); read as GBK, line {gbk_line} has {gbk[odd_in_gbk]!r} "
        f"(in {_cell(gbk, gbk_line, gbk_cell)!r}); neither is a register's text",
        _give_encoding(line, as_utf8, as_gbk),
    )


def _give_encoding(line: int, as_utf8: str, as_gbk: str) -> str:
    return (
        f"run it again with --encoding utf-8 if line {line} should read {as_utf8!r}, or --encoding gbk "
        f"if it should read {as_gbk!r}"
    )


# Both readings hold their line ends and commas at the same places: no byte of a UTF-8 or GBK
# character beyond ASCII is one (GBK's second bytes are 0x30 to 0xFE), so a line and cell of one
# reading are that line and cell of the other.


def _first_difference(utf8: str, gbk: str) -> tuple[int, int]:
    """The first line (1-based) the two readings differ on, and the first cell (0-based) on it."""
    for number, (one, other) in enumerate(zip(utf8.split("\n"), gbk.split("\n"), strict=False), 1):
        if one != other:
            cells = zip(one.split(","), other.split(","), strict=False)
            return number, next((i for i, (a, b) in enumerate(cells) if a != b), 0)
    return 1, 0


def _where(text: str, at: int) -> tuple[int, int]:
    """The line (1-based) and the cell (0-based, counting commas) of the character at `at`."""
    line_start = text.rfind("\n", 0, at) + 1
    return text.count("\n", 0, at) + 1, text.count(",", line_start, at)


def _cell(text: str, line: int, cell: int) -> str:
    """A cell of a line, as far as commas tell, without its quotes."""
    cells = text.split("\n")[line - 1].rstrip("\r").split(",")
    return cells[cell].strip().strip('"') if cell < len(cells) else ""
