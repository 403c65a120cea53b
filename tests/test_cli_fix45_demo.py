"""`gateway demo --port` out of range: an error line, never a traceback, and 0 is not 8080."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize("port", ["80800", "0", "-1"])
def test_demo_with_a_port_out_of_range_says_so(tmp_path: Path, port: str) -> None:
    """`./scripts/demo --port 80800` (a typo for 8080) ended in Python's OverflowError traceback
    ("bind(): port must be 0-65535"), and `--port 0` was quietly taken as 8080. Both exit 1 with a
    line saying the port is out of range, before the demo makes anything."""
    data = tmp_path / "demo"
    argv = ["demo", "--port", port, "--data-dir", str(data), "--stop-after", "3"]
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", *argv], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 1, done.stderr[-1500:]
    assert "Traceback" not in done.stderr, done.stderr[-1500:]
    assert f"--port {port}" in done.stderr and "65535" in done.stderr, done.stderr[-1500:]
    assert not data.exists()  # refused before the demo made its folder
