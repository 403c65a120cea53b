"""Reading `labels.csv` folders (`file,plate,kind`), as in the project's shared data sets."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from plates.grammar import is_plate, normalize


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
    for line, row in rows:
        name, plate = (row.get("file") or "").strip(), normalize(row.get("plate") or "")
        if not name or not plate:
            raise LabelsError(f"{path} line {line}: empty file or plate")
        if not is_plate(plate):
            # Such a label could never be read right (the recognizer only offers plates): it
            # would count as the model's misread, or be trained on.
            raise LabelsError(
                f"{path} line {line}: {plate!r} is not a plate; check it against "
                "the image (the letter O for 0, I for 1, a character missing or "
                "extra, at most two letters after the office letter)"
            )
        kind = (row.get("kind") or "crop").strip() or "crop"
        if kind not in ("crop", "scene"):
            raise LabelsError(f"{path} line {line}: kind {kind!r} must be crop or scene")
        out.append(Labelled(folder / name, plate, kind, (row.get("colour") or colours.get(name, "")).strip()))
    return out


def _manifest_colours(folder: Path) -> dict[str, str]:
    rows = manifest_rows(folder)
    return {r["file"]: r.get("colour") or "" for r in rows if r.get("file")}


def manifest_rows(folder: Path) -> list[dict[str, str]]:
    """The rows of the folder's optional `manifest.csv` (colours, boxes); none without one."""
    manifest = folder / "manifest.csv"
    return [row for _, row in read_csv(manifest)[1]] if manifest.is_file() else []


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """A CSV file's header and rows, as UTF-8 (with or without Excel's BOM), each row with the
    number of the file's line it ends on: blank lines are skipped and a quoted field may span
    lines, so a row's place among the rows is not its line."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            fields = list(reader.fieldnames or ())
            return fields, [(reader.line_num, row) for row in reader]
    except UnicodeDecodeError as exc:
        raise LabelsError(
            f'{path} is not UTF-8 (byte {exc.start}); save it as "CSV UTF-8" '
            "(Excel: Save As, CSV UTF-8), or convert it: iconv -f GBK -t UTF-8"
        ) from exc
