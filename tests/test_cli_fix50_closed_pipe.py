"""`gateway check-config /etc/estate-gateway/*.toml | head -1`, `gateway user list -c ... | head -1`:
the reader of the gateway command's output stops after the first line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import site_toml

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "command",
    [["check-config", "{config}", "{config}", "{config}"], ["user", "list", "-c", "{config}"]],
    ids=["check-config", "user-list"],
)
def test_a_listing_piped_into_head_ends_without_a_traceback(tmp_path: Path, command: list[str]) -> None:
    """Piped into `head -1`, the gateway's listings ended in a BrokenPipeError traceback on
    stderr, exit 1; they stop quietly, exit 141 as a shell gives a command a closed pipe ended
    (plates/closed_pipe.py, shared with `plates`)."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    argv = [arg.format(config=config) for arg in command]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # head has its line (closed before the first is written: no race)
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141, err[-600:]
    assert "Traceback" not in err and "BrokenPipeError" not in err, err[-600:]


def test_output_to_a_reader_still_there_is_whole(tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "check-config", str(config), str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-600:]
    assert done.stdout.count(f"{config}: ok") == 2
