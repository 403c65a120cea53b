"""labels.csv typed in Excel and saved as "CSV UTF-8": rows whose cells were cleared (not deleted)
are saved as lines of bare commas, which are blank rows to the user."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from plate_images import SPECS, clean_crop

from plates.cli import main
from plates.labels import LabelsError, read_csv, read_labels


def _labelled_folder(folder: Path, tail: list[str]) -> None:
    """Three labelled crops, then the rows in tail, saved as Excel saves CSV UTF-8 (BOM, CRLF)."""
    rows = ["file,plate,kind"]
    for i, spec in enumerate(SPECS[:3]):
        cv2.imwrite(str(folder / f"c{i}.png"), clean_crop(spec, seed=i))
        rows.append(f"c{i}.png,{spec.text},crop")
    rows += tail
    (folder / "labels.csv").write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))


def test_eval_takes_rows_excel_left_blank_as_blank_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A labels.csv whose last two rows were cleared in Excel ends in `,,` lines. docs/plates.md
    says blank lines are no rows, but `plates eval` refused the whole folder ('line 5: empty file
    or plate', exit 2) instead of measuring the three labelled crops."""
    _labelled_folder(tmp_path, [",,", ",,"])
    status = main(["--backend", "opencv", "eval", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert status == 0, f"exit {status}: {err.strip()}"
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["crop_images"] == 3 and summary["crop_full_plate_accuracy_pct"] == 100.0


@pytest.mark.parametrize("blank", [",,", " , ,", ",,,,", ","], ids=["commas", "spaces", "wider", "short"])
def test_a_row_of_blank_cells_is_no_row(tmp_path: Path, blank: str) -> None:
    (tmp_path / "labels.csv").write_text(f"file,plate,kind\n{blank}\nc0.png,{SPECS[0].text},crop\n")
    fields, rows = read_csv(tmp_path / "labels.csv")
    assert fields == ["file", "plate", "kind"]
    assert [(line, row["file"]) for line, row in rows] == [(3, "c0.png")]


def test_a_partly_filled_row_is_still_named(tmp_path: Path) -> None:
    """A row with a plate but no file name is a mistake to show, not a blank row to skip."""
    _labelled_folder(tmp_path, [",,", f",{SPECS[0].text},crop"])
    with pytest.raises(LabelsError, match=r"labels\.csv line 6: empty file or plate"):
        read_labels(tmp_path)
