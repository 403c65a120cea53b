"""Review 61f: check-config's line for checking as the service's user said `sudo -u
estate-gateway gateway check-config FILE`; README installs the command in the venv, on no PATH,
and sudo's secure_path lacks it ("sudo: gateway: command not found"), and FILE was left to fill in.
Now the line names the command running and the file checked, by their paths."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.conftest import site_toml
from tests.nobody import NOBODY, needs_root


@needs_root
def test_the_line_to_check_as_the_service_runs_as_given() -> None:
    box = Path(tempfile.mkdtemp())  # not under pytest's own 0700 folder: nobody must reach it
    try:
        box.chmod(0o755)
        secret = box / "mqtt-password"
        secret.write_text("s3cret\n")
        secret.chmod(0o600)  # root's: nobody, checking, cannot read it
        site = box / "site.toml"
        site.write_text(
            site_toml(box / "data")
            + f'\n[mqtt]\nenabled = true\nhost = "localhost"\nusername = "gw"\npassword_file = "{secret}"\n',
            encoding="utf-8",
        )
        site.chmod(0o644)
        gateway = Path(sys.executable).with_name("gateway")
        done = subprocess.run(
            ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
            + [str(gateway), "check-config", "site.toml"],  # as given, relative to the shell's folder
            capture_output=True,
            text=True,
            timeout=120,
            cwd=box,
        )
        assert "Traceback" not in done.stderr, done.stderr[-800:]
        line = [w for w in done.stdout.splitlines() if "mqtt.password_file:" in w]
        assert line, done.stdout
        assert f"sudo -u estate-gateway {gateway.resolve()} check-config {site}" in line[0], line[0]
    finally:
        shutil.rmtree(box, ignore_errors=True)
