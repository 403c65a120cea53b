"""Review 64C: README's *Upgrading* did not say to copy the new systemd unit and journald drop-in
(systemd/). An upgrade by it kept the unit and journal settings the box was installed with: from the
last release or older, systemd's default 90 s stop timeout (the unit now gives 120: a stop still writing
the records a full disk kept was killed), no `audio` group (voice prompts never heard), and a
journal kept longer than the access records (no MaxRetentionSec drop-in). Upgrading now copies each
file under systemd/ as the install does, reloads systemd and journald, then restarts."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def _section(start: str, end: str) -> str:
    readme = README.read_text(encoding="utf-8")
    at = readme.index(start)
    return readme[at : readme.index(end, at)]


def _lines(text: str) -> list[str]:
    return [line.split("   #")[0].strip() for line in text.splitlines()]


def test_upgrading_copies_every_file_under_systemd_as_the_install_does() -> None:
    install = _lines(_section("\n## Install on Raspberry Pi OS\n", "\n**Upgrading.**"))
    upgrading = _section("\n**Upgrading.**", "\n## Replacing a box\n")
    steps = _lines(upgrading)
    for unit_file in sorted(p.name for p in (REPO / "systemd").iterdir()):
        copy = [line for line in install if f"/opt/estate-gateway/systemd/{unit_file} " in line]
        assert len(copy) == 1, f"README's install copies systemd/{unit_file} how? {copy}"
        assert copy[0] in steps, (
            f"README's Upgrading does not copy systemd/{unit_file} as the install does ({copy[0]}): "
            "an upgraded box keeps the old one"
        )
    reload = steps.index("sudo systemctl daemon-reload")
    assert "sudo systemctl restart systemd-journald" in steps, upgrading
    assert reload < steps.index("sudo systemctl restart estate-gateway"), upgrading
