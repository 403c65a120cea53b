"""Review 64Rg: README's Upgrading block, pasted into a shell as an installer copies it.

1. It restarted the service even when its check-config line refused the config (exit 78): bash
   runs the next line all the same, the old gateway stops, the new one exits 78 and systemd keeps it
   down (RestartPreventExitStatus): every lane down. The restart now runs only after a check that
   passed; the old version keeps running meanwhile.
2. It copied the shipped journald drop-in (MaxRetentionSec=180day) over the one a site had set to
   its own, shorter, retention, and restarted journald; only afterwards did the text say to set the
   site's number again, with no restart after it: journald reads its drop-ins as it starts, so the
   journal, which names plates, lanes and times, was kept 180 days. The site's number now lives in
   a drop-in of its own that journald reads after the shipped one and no upgrade copies over.

Each block is run by bash as written, with `sudo` a stand-in that runs the command (logging
systemctl), the paths under /etc and /opt moved into a temporary folder.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.conftest import site_toml

REPO = Path(__file__).resolve().parents[1]
GATEWAY = REPO / ".venv" / "bin" / "gateway"
# Refused since 93cc7233 (a '#' in the password FFmpeg never reads); the version before took it.
REFUSED_CAMERA = """
[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "rtsp://admin:Abc#1234@192.168.1.64:554/Streaming/Channels/101"
"""


def _section(start: str, end: str) -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    at = readme.index(start)
    return readme[at : readme.index(end, at)]


def _blocks(section: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", section, re.S)


def _upgrading() -> str:
    return _section("\n**Upgrading.**", "\n## Replacing a box\n")


def _run(script: str, root: Path) -> list[str]:
    """`script` run by bash; what systemctl was asked, in order, with the file contents journald
    would read at each `restart systemd-journald`."""
    etc, opt = root / "etc", root / "opt" / "estate-gateway"
    (etc / "estate-gateway").mkdir(parents=True, exist_ok=True)
    if not opt.exists():
        opt.mkdir(parents=True)
        (opt / "systemd").symlink_to(REPO / "systemd")
        (opt / "venv" / "bin").mkdir(parents=True)
        (opt / "venv" / "bin" / "gateway").symlink_to(GATEWAY)
    script = script.replace("/etc/", f"{etc}/").replace("/opt/estate-gateway/", f"{opt}/")
    bin_dir = root / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = root / "ran.log"
    log.write_text("", encoding="utf-8")
    sudo = bin_dir / "sudo"
    sudo.write_text(
        "#!/bin/bash\n"
        '[ "$1" = -u ] && shift 2\n'
        f'if [ "$1" = systemctl ]; then echo "$*" >> {log}; exit 0; fi\n'
        'exec "$@"\n',
        encoding="utf-8",
    )
    sudo.chmod(0o755)
    subprocess.run(
        ["bash"],
        input=script,
        text=True,
        capture_output=True,
        env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
        timeout=300,
    )
    return log.read_text(encoding="utf-8").splitlines()


def _max_retention(dropins: Path) -> str | None:
    """MaxRetentionSec as journald takes it from journald.conf.d: the files read in the order of
    their names, the last one to set it kept (systemd.syntax(7), drop-ins)."""
    kept = None
    for path in sorted(dropins.glob("*.conf"), key=lambda p: p.name):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip().startswith("MaxRetentionSec="):
                kept = line.split("=", 1)[1].strip()
    return kept


def test_a_refused_config_leaves_the_running_gateway_alone(tmp_path: Path) -> None:
    site = tmp_path / "etc" / "estate-gateway" / "site.toml"
    site.parent.mkdir(parents=True)
    site.write_text(site_toml(tmp_path / "data") + REFUSED_CAMERA, encoding="utf-8")
    refused = subprocess.run([str(GATEWAY), "check-config", str(site)], capture_output=True, text=True)
    assert refused.returncode == 78, refused.stdout + refused.stderr

    (block,) = _blocks(_upgrading())
    ran = _run(block, tmp_path)
    assert "systemctl daemon-reload" in ran  # the block ran to its end
    assert "systemctl restart estate-gateway" not in ran, (
        f"the pasted block restarted the service after check-config refused the config: {ran}"
    )


def test_a_passed_check_restarts_the_gateway(tmp_path: Path) -> None:
    site = tmp_path / "etc" / "estate-gateway" / "site.toml"
    site.parent.mkdir(parents=True)
    site.write_text(site_toml(tmp_path / "data"), encoding="utf-8")

    (block,) = _blocks(_upgrading())
    assert _run(block, tmp_path)[-1] == "systemctl restart estate-gateway"


def test_a_sites_own_journal_retention_outlasts_an_upgrade(tmp_path: Path) -> None:
    install = _section("\n## Install on Raspberry Pi OS\n", "\n**Upgrading.**")
    own = [b for b in _blocks(install) if "MaxRetentionSec=" in b]
    assert len(own) == 1, "README's Install says how a site keeps its journal fewer days: one block"
    (site_days,) = re.findall(r"MaxRetentionSec=(\w+)", own[0])
    assert site_days != "180day"
    dropins = tmp_path / "etc" / "systemd" / "journald.conf.d"

    # The install's copy of the shipped drop-in (its block as a whole installs packages: not run).
    assert "journald-estate-gateway.conf /etc/systemd/journald.conf.d/estate-gateway.conf" in install
    dropins.mkdir(parents=True)
    (dropins / "estate-gateway.conf").write_bytes(
        (REPO / "systemd" / "journald-estate-gateway.conf").read_bytes()
    )
    ran = _run(own[0], tmp_path)  # then the site's own number, as Install says
    assert ran[-1] == "systemctl restart systemd-journald"  # journald reads it only as it starts
    assert _max_retention(dropins) == site_days

    (block,) = _blocks(_upgrading())
    ran = _run(block, tmp_path)
    assert _max_retention(dropins) == site_days, (
        "after the upgrade's copy journald keeps the shipped 180 days, not the site's number"
    )
    assert "systemctl restart systemd-journald" in ran
