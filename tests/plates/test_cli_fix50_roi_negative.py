"""`plates read --roi x,y,w,h` with a region that starts left of or above the image (the code
clips it to the image; docs/plates.md asks only that it overlap)."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import pytest
from plate_images import SPECS

from plates.cli import main
from plates.synth.scene import render_scene


def _exit_status(argv: list[str]) -> int | str | None:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def _gate_frame(tmp_path: Path) -> tuple[Path, str]:
    frame, _, spec, _ = render_scene(
        random.Random(3), 1280, 720, spec=SPECS[0], plate_w=170, centre=(300, 450)
    )
    image = tmp_path / "gate.jpg"
    cv2.imwrite(str(image), frame)
    return image, spec.text


@pytest.mark.parametrize(
    "roi",
    [["--roi", "-20,0,700,720"], ["--roi", "0,-30,700,760"], ["--roi=-20,0,700,720"]],
    ids=["left-of-the-image", "above-the-image", "with-equals"],
)
def test_roi_reaching_past_the_edge_is_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], roi: list[str]
) -> None:
    """A region drawn from just left of the frame, `--roi -20,0,700,720`, was refused by argparse
    as 'argument --roi: expected one argument' (exit 2), which says nothing of the minus sign; it
    reads the plate in that region."""
    image, text = _gate_frame(tmp_path)
    status = _exit_status(["--backend", "opencv", "read", str(image), *roi])
    out, err = capsys.readouterr()
    assert status == 0, f"exit {status}: {err.strip()}"
    assert f"gate.jpg: {text}" in out


def test_a_negative_roi_still_meets_the_roi_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Taken as the value, a region that misses the image is refused as before, by its own message."""
    image, _ = _gate_frame(tmp_path)
    assert _exit_status(["--backend", "opencv", "read", str(image), "--roi", "-900,0,800,720"]) == 2
    assert "lies outside the image" in capsys.readouterr().err


def test_an_image_named_after_roi_is_not_taken_as_its_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only a value made of numbers and commas is joined to --roi; --roi with no value is refused."""
    image, _ = _gate_frame(tmp_path)
    assert _exit_status(["--backend", "opencv", "read", str(image), "--roi", "--json"]) == 2
    assert "--roi: expected one argument" in capsys.readouterr().err
