"""The unit's sandbox (ProtectSystem=strict, ReadWritePaths=/var/lib/estate-gateway, no
WorkingDirectory) against the paths the gateway must write."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_process import write_site

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "estate-gateway.service"


def _service() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    section = None
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            key, value = line.split("=", 1)
            values.setdefault(key, []).append(value)
    return values


def test_gpio_relays_get_a_writable_working_directory() -> None:
    """docs/hardware.md: a Raspberry Pi relay (driver = "gpio") goes through gpiozero's lgpio pin
    library (the only one on a Pi 5). lgpio makes its notification pipes (.lgd-nfy*) in the
    process's current directory (or $LG_WD). The unit sets no WorkingDirectory, so systemd starts
    the gateway in "/", which ProtectSystem=strict makes read-only (and the estate-gateway user
    may not write anyway): lgpio fails to load, every GPIO relay is offline and the barrier does
    not open, while `gateway run` from a shell in the installer's home works. The service's
    working directory (or LG_WD) must be one the unit lets it write."""
    svc = _service()
    writable = [p.rstrip("/") for p in svc.get("ReadWritePaths", [])]
    writable += ["/var/lib/" + d for d in svc.get("StateDirectory", [])]
    workdir = (svc.get("WorkingDirectory") or ["/"])[-1].lstrip("-")
    if workdir == "~":
        workdir = "/var/lib/estate-gateway"  # the user's home (README: useradd --home)
    env = " ".join(svc.get("Environment", []))
    lg_wd = next((w.split("=", 1)[1] for w in env.split() if w.startswith("LG_WD=")), None)
    where = lg_wd or workdir
    assert any(where == w or where.startswith(w + "/") for w in writable), (
        f"the service runs in {where!r}, which the unit does not let it write (writable: {writable})"
    )


def _can_unshare_mounts() -> bool:
    """Whether this machine lets a test make a mount namespace (root, and a container that allows
    it): the sandbox below is made so."""
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=10).returncode == 0


@pytest.mark.skipif(not _can_unshare_mounts(), reason="needs a mount namespace (unshare -m, as root)")
def test_data_dir_outside_read_write_paths_is_named_as_such(tmp_path: Path) -> None:
    """docs/parking.md and docs/mqtt.md (disk_low): the installer moves the data to a bigger disk and
    points data_dir at it. Under the shipped unit every path outside ReadWritePaths is a read-only
    view (ProtectSystem=strict), so the start stops (exit 78) and tells the installer that the disk
    "is mounted read-only (a failing SD card ...): replace or repair it": a good SSD replaced for
    nothing, the gates down meanwhile. The error should say that the service may not write that
    folder and name the unit's ReadWritePaths (systemctl edit estate-gateway)."""
    config = write_site(tmp_path)
    data = tmp_path / "data"
    # What ProtectSystem=strict does to a folder not in ReadWritePaths: a read-only bind mount.
    script = (
        f"mount --bind {data} {data} && mount -o remount,bind,ro {data} && "
        f"exec {sys.executable} -m gateway.cli run -c {config}"
    )
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "NOTIFY_SOCKET": str(tmp_path / "nobody.sock"), "INVOCATION_ID": "0" * 32},
    )
    assert proc.returncode == 78, proc.stderr
    assert "SD card" not in proc.stderr, proc.stderr
    assert "ReadWritePaths" in proc.stderr, proc.stderr
