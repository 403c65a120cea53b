"""Reading `labels.csv` folders (`file,plate,kind`), as in the project's shared data sets."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from plates.grammar import normalize


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
        raise LabelsError(f"{path} is missing; write one with the header `file,plate,kind` "
                          "(kind is crop or scene)")
    colours = _manifest_colours(folder)
    out: list[Labelled] = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"file", "plate"} - set(reader.fieldnames or ())
        if missing:
            raise LabelsError(f"{path} lacks the column(s) {', '.join(sorted(missing))}; "
                              "the header must be `file,plate,kind`")
        for line, row in enumerate(reader, start=2):
            name, plate = (row.get("file") or "").strip(), normalize(row.get("plate") or "")
            if not name or not plate:
                raise LabelsError(f"{path} line {line}: empty file or plate")
            kind = (row.get("kind") or "crop").strip() or "crop"
            if kind not in ("crop", "scene"):
                raise LabelsError(f"{path} line {line}: kind {kind!r} must be crop or scene")
            out.append(Labelled(folder / name, plate, kind,
                                (row.get("colour") or colours.get(name, "")).strip()))
    return out


def _manifest_colours(folder: Path) -> dict[str, str]:
    manifest = folder / "manifest.csv"
    if not manifest.is_file():
        return {}
    with manifest.open(encoding="utf-8-sig", newline="") as fh:
        return {r["file"]: r.get("colour", "") for r in csv.DictReader(fh) if r.get("file")}
