"""`gateway bench ui` as a user runs it: its figures, and nothing that looks like a crash."""

from __future__ import annotations

import subprocess
import sys


def test_bench_ui_prints_its_figures_without_a_traceback() -> None:
    """Its live streams were cut by the server's shutdown, which logged "Exception in ASGI
    application" and a CancelledError traceback before the figures."""
    command = [sys.executable, "-m", "gateway.cli", "bench", "ui", "--pages", "2", "--browser-pages", "0"]
    command += ["--events", "6", "--residents", "40"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-800:]
    assert "not_shown                   0" in done.stdout
    printed = done.stdout + done.stderr  # the log goes to stdout, for journald
    assert "Traceback" not in printed and " ERROR " not in printed, printed[-1500:]
