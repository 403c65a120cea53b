"""`plates eval` naming the line of labels.csv a bad plate is typed on, when a row's quoted field
spans lines: the line the plate is on, not the line the row ends on."""

from __future__ import annotations

from pathlib import Path

import pytest

from plates.cli import main
from plates.labels import LabelsError, read_labels


def test_eval_names_the_line_the_bad_plate_is_on_when_its_note_spans_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """labels.csv has a mistyped plate (皖A1234O, the letter O) on line 2, in a row whose note, a
    quoted field, runs on to line 3. eval said 'line 3', a line that holds only the note's end;
    it names line 2, where the plate is typed (docs/plates.md: named by its line)."""
    (tmp_path / "labels.csv").write_text(
        'file,plate,kind,note\nc1.png,皖A1234O,crop,"checked twice:\nthe last character is unclear"\n',
        encoding="utf-8",
    )
    assert main(["--backend", "opencv", "eval", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "'皖A1234O' is not a plate" in err, err
    assert "labels.csv line 2:" in err, err


@pytest.mark.parametrize(
    ("text", "line"),
    [
        # A blank line, then the row whose note spans lines: the plate is on line 3.
        ('file,plate,kind,note\n\nc1.png,皖A1234O,crop,"two\nlines"\n', 3),
        # A note before the plate that spans three lines: the plate is on the row's third line.
        ('note,file,plate,kind\n"one\ntwo\nthree",c1.png,皖A1234O,crop\n', 4),
        # The same, saved by Excel on Windows (CRLF), a blank line and a note spanning lines before.
        (
            'note,file,plate,kind\r\n"a\r\nb",c0.png,皖A12345,crop\r\n\r\n'
            '"x\r\ny",c1.png,皖A1234O,crop\r\n',
            6,
        ),
        # A note that spans lines after the plate, on the row before the bad one.
        ('file,plate,kind,note\nc0.png,皖A12345,crop,"a\nb\nc"\nc1.png,皖A1234O,crop,\n', 5),
    ],
    ids=["blank-line-then-note-after", "note-before", "crlf-note-before", "note-on-row-before"],
)
def test_the_bad_plate_is_named_by_the_line_it_is_typed_on(tmp_path: Path, text: str, line: int) -> None:
    (tmp_path / "labels.csv").write_bytes(text.encode("utf-8"))
    with pytest.raises(LabelsError, match=rf"labels\.csv line {line}: '皖A1234O' is not a plate"):
        read_labels(tmp_path)


def test_a_bad_kind_is_named_by_its_line(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text(
        'file,note,plate,kind\nc1.png,"two\nlines",皖A12345,cropped\n', encoding="utf-8"
    )
    with pytest.raises(LabelsError, match=r"labels\.csv line 3: kind 'cropped'"):
        read_labels(tmp_path)
