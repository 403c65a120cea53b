"""The `plates` commands as a user meets them: labels.csv lines, per-colour figures, `read`'s
answers for a folder, an unreadable image and an empty ROI, the colours the generator draws."""

from __future__ import annotations

import json
import random
from pathlib import Path

import cv2
import pytest
from plate_images import SPECS, clean_crop

from plates.cli import main
from plates.grammar import FORMATS, colours_of
from plates.synth.render import render_plate
from plates.synth.texts import _MIX, PlateSpec, random_spec


def _exit_status(argv: list[str]) -> int | str | None:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def test_eval_names_the_right_line_of_a_labels_csv_with_a_blank_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A labels.csv with a blank line (Excel, hand edits) and a mistyped plate on line 4 is
    was reported as 'line 3', so the user fixed the wrong (correct) row: it names line 4."""
    for i in range(2):
        cv2.imwrite(str(tmp_path / f"c{i}.png"), clean_crop(SPECS[i], seed=i))
    (tmp_path / "labels.csv").write_text(
        f"file,plate,kind\n\nc0.png,{SPECS[0].text},crop\nc1.png,皖A1234O,crop\n", encoding="utf-8"
    )
    assert main(["--backend", "opencv", "eval", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "'皖A1234O' is not a plate" in err
    assert "labels.csv line 4:" in err, err


def test_eval_names_the_line_after_a_quoted_field_that_spans_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cv2.imwrite(str(tmp_path / "c0.png"), clean_crop(SPECS[0], seed=0))
    (tmp_path / "labels.csv").write_text(
        f'file,plate,kind,note\nc0.png,{SPECS[0].text},crop,"two\nlines"\nc1.png,皖A1234O,crop,\n',
        encoding="utf-8",
    )
    assert main(["--backend", "opencv", "eval", str(tmp_path)]) == 2
    assert "labels.csv line 4:" in capsys.readouterr().err


def test_eval_gives_character_accuracy_per_colour_as_documented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """docs/plates.md promises 'full-plate and character accuracy per kind and colour'; the
    --json summary had only full-plate accuracy per colour."""
    rows = ["file,plate,kind,colour"]
    for i, spec in enumerate(SPECS[:3]):  # blue, blue, green
        cv2.imwrite(str(tmp_path / f"c{i}.png"), clean_crop(spec, seed=i))
        rows.append(f"c{i}.png,{spec.text},crop,{spec.colour}")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["--backend", "opencv", "eval", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert "crop_blue_full_plate_accuracy_pct" in summary
    assert summary["crop_blue_char_accuracy_pct"] == 100.0, sorted(summary)
    assert summary["crop_green_char_accuracy_pct"] == 100.0


def test_read_on_a_folder_does_not_say_no_such_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plates read photos/` on a folder that exists said 'photos: no such file', which is
    false: it says it is a folder, and to give the image files in it."""
    assert main(["--backend", "opencv", "read", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no such file" not in err, err
    assert f"{tmp_path}: is a folder; give the image files in it (e.g. {tmp_path / '*.jpg'})" in err


def test_read_json_gives_one_object_per_image_even_when_one_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`plates read --json` promises 'one JSON object per image'; for an image it could not
    read it printed none, so a script reading stdout silently lost that image. It gets an
    object naming the image and the error, and the exit status still says one failed."""
    good = tmp_path / "good.png"
    cv2.imwrite(str(good), clean_crop(SPECS[0]))
    missing = tmp_path / "missing.png"
    assert main(["--backend", "opencv", "read", "--json", str(good), str(missing)]) == 2
    out, err = capsys.readouterr()
    objects = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert [o["image"] for o in objects] == [str(good), str(missing)], objects
    assert objects[1] == {"image": str(missing), "error": "no such file; give JPEG or PNG files",
                          "readings": []}
    assert "error" not in objects[0] and objects[0]["readings"]
    # Its line on stderr (a log handler an earlier test's main() left on a closed stream can write
    # its own complaint there too in a whole run; a real run calls main() once).
    assert f"plates read: {missing}: no such file; give JPEG or PNG files" in err.splitlines()


@pytest.mark.parametrize("roi", ["0,0,0,0", "10,10,-50,-20"])
def test_read_refuses_an_empty_roi(tmp_path: Path, capsys: pytest.CaptureFixture[str], roi: str) -> None:
    """`plates read --roi 0,0,0,0 frame.png` (an empty or negative-size region) answered 'no
    plate' with exit 0, as if the frame held none: it refuses the ROI and says what to give."""
    img = tmp_path / "frame.png"
    cv2.imwrite(str(img), clean_crop(SPECS[0]))
    status = _exit_status(["--backend", "opencv", "read", f"--roi={roi}", str(img)])
    out, err = capsys.readouterr()
    assert status == 2, f"exit {status}: {out.strip()}"
    assert "--roi" in err and "width and height must be 1 or more" in err and not out


def test_read_refuses_an_roi_outside_the_image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An ROI typed for a larger frame misses a smaller one: not 'no plate', but the ROI named."""
    img = tmp_path / "frame.png"
    crop = clean_crop(SPECS[0])
    cv2.imwrite(str(img), crop)
    h, w = crop.shape[:2]
    assert main(["--backend", "opencv", "read", f"--roi={w},0,100,50", str(img)]) == 2
    out, err = capsys.readouterr()
    assert f"--roi {w},0,100,50 lies outside the image ({w}x{h} px)" in err and not out
    assert main(["--backend", "opencv", "read", f"--roi={w - 1},0,100,50", str(img)]) == 0


def test_every_plate_the_generator_draws_has_a_colour_its_format_has() -> None:
    """`plates synth` drew 2 % of 7-character plates black and 2 % white and labelled them so,
    but the grammar allows a standard plate only blue or yellow, so `plates read` (and eval's
    per-colour figures) could only call them blue. No current standard plate is white, and a
    black one is rare (older plates of foreign-related vehicles), so the renderer draws what the
    grammar says, and the reader's colours for real plates stay as they were."""
    rng = random.Random(3)
    drawn = [random_spec(rng) for _ in range(2000)]
    wrong = [(s.text, s.colour) for s in drawn if s.colour not in colours_of(s.text)]
    assert not wrong, wrong[:5]
    for fmt, colour, rows, _ in _MIX:
        [plate_format] = [f for f in FORMATS if f.name == fmt]
        assert colour in plate_format.colours and rows in plate_format.rows, (fmt, colour, rows)


@pytest.mark.parametrize("colour", ["blue", "yellow"])
def test_a_standard_plate_drawn_as_the_generator_draws_it_reads_in_its_colour(
    recognizer, colour: str
) -> None:
    """What `plates synth` labels a 7-character plate is what `plates read` says of it."""
    spec = PlateSpec("沪A12345", colour, 1, "standard")
    plate = render_plate(spec.text, spec.colour, spec.rows, spec.fmt, random.Random(0), px_per_mm=0.6)
    reading = recognizer.read_crop(plate)
    assert reading is not None and (reading.text, reading.colour) == (spec.text, spec.colour)
