"""Reading `labels.csv` folders (`file,plate,kind`), as in the project's shared data sets."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from plates.grammar import is_plate, normalize

_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # as the file's lines are counted (newline="")


class LabelsError(ValueError):
    """A labels folder that cannot be used; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Labelled:
    path: Path
    plate: str
    kind: str  # "crop" or "scene"
    colour: str  # "" when the folder does not say


def read_labels(folder: Path) -> list[Labelled]:
    folder = Path(folder)
    if not folder.is_dir():
        raise LabelsError(f"{folder} is not a folder; give the folder that holds labels.csv")
    path = folder / "labels.csv"
    if not path.is_file():
        raise LabelsError(
            f"{path} is missing; write one with the header `file,plate,kind` (kind is crop or scene)"
        )
    colours = _manifest_colours(folder)
    out: list[Labelled] = []
    fields, rows = read_csv(path)
    missing = {"file", "plate"} - set(fields)
    if missing:
        raise LabelsError(
            f"{path} lacks the column(s) {', '.join(sorted(missing))}; the header must be `file,plate,kind`"
        )
    for start, row in rows:
        name, plate = (row.get("file") or "").strip(), normalize(row.get("plate") or "")
        if not name or not plate:
            line = _line_of(start, row, "plate" if name else "file")
            raise LabelsError(f"{path} line {line}: empty file or plate")
        if not is_plate(plate):
            # Such a label could never be read right (the recognizer only offers plates): it
            # would count as the model's misread, or be trained on.
            line = _line_of(start, row, "plate")
            raise LabelsError(
                f"{path} line {line}: {plate!r} is not a plate; check it against "
                "the image (the letter O for 0, I for 1, a character missing or "
                "extra, at most two letters after the office letter)"
            )
        kind = (row.get("kind") or "crop").strip() or "crop"
        if kind not in ("crop", "scene"):
            line = _line_of(start, row, "kind")
            raise LabelsError(f"{path} line {line}: kind {kind!r} must be crop or scene")
        out.append(Labelled(folder / name, plate, kind, (row.get("colour") or colours.get(name, "")).strip()))
    return out


def _line_of(start: int, row: dict[str, str], field: str) -> int:
    """The line of the file that `field` of the row starting on line `start` is on: a quoted
    field before it (a note) may span lines."""
    line = start
    for name, value in row.items():
        if name == field:
            break
        line += len(_LINE_BREAK.findall(value))
    return line


def _manifest_colours(folder: Path) -> dict[str, str]:
    rows = manifest_rows(folder)
    return {r["file"]: r.get("colour") or "" for r in rows if r.get("file")}


def manifest_rows(folder: Path) -> list[dict[str, str]]:
    """The rows of the folder's optional `manifest.csv` (colours, boxes); none without one."""
    manifest = folder / "manifest.csv"
    return [row for _, row in read_csv(manifest)[1]] if manifest.is_file() else []


def _has_a_value(values: list[str]) -> bool:
    """Whether a CSV row holds anything: a blank line has no cells, a cleared row blank ones."""
    return any(value.strip() for value in values)


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV file's header and rows, as UTF-8 (with or without Excel's BOM), each row with the
    number of the file's line it starts on: blank rows are skipped and a quoted field may span
    lines, so a row's place among the rows is not its line. A blank row is a blank line or one
    of blank cells (Excel saves a row whose cells were cleared, not deleted, as `,,`). A row's
    fields are in the header's order; one missing from a short row is absent, and values past
    the header are dropped."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            fields = next(reader, [])
            rows: list[tuple[int, dict[str, str]]] = []
            start = reader.line_num + 1
            for values in reader:
                if _has_a_value(values):
                    rows.append((start, dict(zip(fields, values, strict=False))))
                start = reader.line_num + 1
            return fields, rows
    except UnicodeDecodeError as exc:
        raise LabelsError(
            f'{path} is not UTF-8 (byte {exc.start}); save it as "CSV UTF-8" '
            "(Excel: Save As, CSV UTF-8), or convert it: iconv -f GBK -t UTF-8"
        ) from exc
