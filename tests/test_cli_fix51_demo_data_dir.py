"""`gateway demo --data-dir`: a folder holding another site's database is refused, changing
nothing; the demo's own folder, used again, is not (review 51c)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

from gateway.runtime.gateway import Gateway


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _demo(data_dir: Path, stop_after: str) -> subprocess.CompletedProcess[str]:
    argv = ["demo", "--data-dir", str(data_dir), "--port", str(_free_port()), "--stop-after", stop_after]
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *argv], capture_output=True, text=True, timeout=180
    )


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_demo_refuses_the_data_dir_of_a_site_that_has_run(gateway: Gateway) -> None:
    """The estate's gateway has started there (its site id kept in config_seen): the demo says whose
    database it is and what to give instead, exits 78 and leaves every file as it was."""
    data_dir = gateway.data_dir
    gateway.conn.close()
    before = _files(data_dir)
    done = _demo(data_dir, "5")
    assert done.returncode == 78, done.stderr[-1500:]
    assert "Traceback" not in done.stderr, done.stderr[-1500:]
    assert "'test-site'" in done.stderr and "leave --data-dir out" in done.stderr, done.stderr
    assert _files(data_dir) == before  # no demo.toml copied, the database not opened for writing


def test_the_demos_own_folder_runs_again(tmp_path: Path) -> None:
    """A second start in the folder the demo made (its database, its site id "demo") is no other
    site's: it runs as the first did."""
    folder = tmp_path / "demo"
    first = _demo(folder, "3")
    assert first.returncode == 0, first.stderr[-1500:]
    again = _demo(folder, "3")
    assert again.returncode == 0, again.stderr[-1500:]
    assert "log in with the account made when the demo first started" in again.stdout, again.stdout
