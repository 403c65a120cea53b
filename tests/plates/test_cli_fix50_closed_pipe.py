"""`plates read photos/*.jpg --json | head -1`: the reader of stdout stops after the first line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from plate_images import SPECS, clean_crop

import plates
from plates.closed_pipe import run_to_stdout

ROOT = Path(plates.__file__).resolve().parent.parent


def test_read_piped_into_head_ends_without_a_traceback(tmp_path: Path) -> None:
    """Piped into `head -1` (a script that wants the first photo's plate), `plates read` ended in
    a BrokenPipeError traceback on stderr, exit 1; it stops quietly, as other command-line tools
    do, with the status a shell gives a command a closed pipe ended (128 + SIGPIPE)."""
    names = []
    for i in range(3):
        name = tmp_path / f"photo {i:02d}.png"
        cv2.imwrite(str(name), clean_crop(SPECS[i], seed=i))
        names.append(str(name))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "plates.cli", "--backend", "opencv", "read", *names, "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # head has its line (closed before the first is written: no race)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, err[-400:]
    assert "Traceback" not in err and "BrokenPipeError" not in err, err[-400:]


def test_a_broken_pipe_that_is_not_stdouts_still_raises() -> None:
    """Only stdout's reader gone ends a command quietly: a socket's broken pipe is a fault to show."""

    def command() -> int:
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):
        run_to_stdout(command)
    assert run_to_stdout(lambda: 3) == 3
