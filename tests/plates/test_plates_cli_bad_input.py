"""The commands on input a user got wrong: a one-line message that says what to do, exit status 2."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from plate_images import SPECS, clean_crop

from plates.cli import main

USER_LABELS = "file,plate,kind\nmine_0001.jpg,皖A12345,crop\nmine_0002.jpg,苏E5S1T8,crop\n"


def _exit_status(argv: list[str]) -> int | str | None:
    """main's status, or argparse's when it refuses an argument with a usage line."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.parametrize("held", ["labels.csv", "synth_00000.png"])
def test_synth_into_a_labelled_folder_keeps_its_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], held: str
) -> None:
    """`plates synth DIR` pointed at a folder that already holds someone's labels.csv (the real
    eval or train set, camera crops being labelled) or an earlier synth run would replace its
    labels with the rendered plates' rows: it refuses, and the hand-typed labels stay."""
    (tmp_path / held).write_text(USER_LABELS, encoding="utf-8")
    assert main(["synth", str(tmp_path), "-n", "1", "--clean"]) == 2
    assert (tmp_path / held).read_text(encoding="utf-8") == USER_LABELS
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty or new folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [held]


def test_synth_into_an_empty_folder_writes_there(tmp_path: Path) -> None:
    assert main(["synth", str(tmp_path), "-n", "1", "--clean"]) == 0
    assert (tmp_path / "labels.csv").is_file() and (tmp_path / "synth_00000.png").is_file()


@pytest.mark.parametrize("n", ["0", "-3"])
def test_synth_count_under_one_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str], n: str) -> None:
    """docs/plates.md: a count under 1 is refused; `-n 0` used to print 'wrote 0 images' and
    leave a labels.csv with only its header."""
    assert _exit_status(["synth", str(tmp_path / "out"), "-n", n]) == 2
    assert "give 1 or more" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["a file", "not makeable"])
def test_synth_unusable_out_is_a_message_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """OUT that is an existing file, or a folder that cannot be made, used to end in a
    FileExistsError / FileNotFoundError traceback."""
    out = tmp_path / "labels.csv" if where == "a file" else Path("/proc/no_such_dir/out")
    if where == "a file":
        out.write_text(USER_LABELS, encoding="utf-8")
    assert main(["synth", str(out), "-n", "1", "--clean"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"plates synth: {out}") and "give" in err and err.count("\n") == 1


@pytest.mark.parametrize("typed", ["皖A1234O", "皖A1234", "皖AI2345"])
def test_eval_label_that_is_no_plate_is_a_user_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], typed: str
) -> None:
    """A label mistyped (the letter O for the digit 0, I for 1, a character left out) can never be
    read right, as the recognizer only offers plates: eval counted it as the model's misread
    (66.67 % for a model that read every plate right). It names the line to fix instead."""
    rows = ["file,plate,kind"]
    for i, spec in enumerate(SPECS[:3]):
        cv2.imwrite(str(tmp_path / f"c{i}.png"), clean_crop(spec, seed=i))
        rows.append(f"c{i}.png,{spec.text if i else typed},crop")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["eval", str(tmp_path), "--json"]) == 2
    out, err = capsys.readouterr()
    assert not out
    assert f"labels.csv line 2: {typed!r} is not a plate" in err and "O for 0" in err


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["eval", ".", "--slowest", "-1"], "--slowest: -1: give 0 or more"),
        (["eval", ".", "--errors", "-5"], "--errors: -5: give 0 or more"),
        # 96 is a percentage typed for 0.96: no frame reaches it, so no impostor was ever admitted
        (
            ["eval-admissions", "--impostors", "1", "--decide-at", "96"],
            "--decide-at: 96: give a confidence from 0 to 1",
        ),
        (
            ["eval-admissions", "--impostors", "1", "--decide-at", "-0.1"],
            "--decide-at: -0.1: give a confidence from 0 to 1",
        ),
    ],
)
def test_eval_options_out_of_range_are_refused(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    """--slowest -1 listed all but the last image, --errors -5 all but five misreads, and
    --decide-at 96 reported no false admission: each now says what range to give."""
    assert _exit_status(argv) == 2
    assert says in capsys.readouterr().err
