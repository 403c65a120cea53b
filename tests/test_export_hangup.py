"""`gateway export` ended by a hangup (the office's SSH session dropped, `timeout`, systemd-run
stopping it): no copy of the register should be left behind without its registry.export row."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from gateway.cli import main
from gateway.store.database import open_database
from tests.conftest import site_toml

N = 60_000


def test_an_export_cut_off_by_a_hangup_leaves_no_unaudited_copy(tmp_path: Path) -> None:
    """The office runs `gateway export -c site.toml /media/usb/backup` over SSH and the session
    drops while it writes (SIGHUP; `timeout 5 gateway export ...` sends SIGTERM alike). The files
    are staged in a hidden folder inside the target (admin.py _aside) and only a `finally` removes
    it, which a signal's default action never runs: the stick keeps
    /media/usb/backup/.gateway-export-XXXX/residents.csv (every name, every full card number), and
    the audit trail has no registry.export row. README / export_csv: "No copy is left without its
    audit row". The staged copy should not outlive the command (staged outside the target and swept,
    or the signal turned into a clean exit that removes it)."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    people = tmp_path / "people.csv"
    people.write_text(
        "ref,building,unit,name\n" + "".join(f"R{i},{i % 50}栋,{i % 6}单元,住户{i}\n" for i in range(N)),
        encoding="utf-8",
    )
    cards = tmp_path / "cards.csv"
    cards.write_text("card,resident_ref\n" + "".join(f"{i:010d},R{i}\n" for i in range(N)), encoding="utf-8")
    assert main(["--log-level", "ERROR", "import", "-c", str(config), str(people), str(cards)]) == 0

    out = tmp_path / "usb" / "backup"
    export = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "--log-level", "ERROR", "export", "-c", str(config), str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    staged: list[Path] = []
    while time.monotonic() < deadline and export.poll() is None:
        staged = list(out.glob(".gateway-export-*/residents.csv")) if out.exists() else []
        if staged:
            break
        time.sleep(0.001)
    assert staged, "the export ended before it could be cut off (make N larger)"
    export.send_signal(signal.SIGHUP)  # the SSH session dropped
    export.wait(timeout=30)

    conn = open_database(tmp_path / "data" / "gateway.db").conn
    try:
        audited = conn.execute("SELECT count(*) FROM audit WHERE action = 'registry.export'").fetchone()[0]
    finally:
        conn.close()
    left = [p for p in out.rglob("*.csv")]
    assert audited or not left, (
        f"a copy of the register was left in {out} with no registry.export audit row: "
        f"{[str(p.relative_to(out)) for p in left]}"
    )
