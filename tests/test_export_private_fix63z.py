"""Review 63z: `gateway export DIR` left the register (names, buildings and rooms, every card
number, which clones an EM4100 card, masked phones) readable by every user of the box: the files
mode 644 and a DIR it made 755, by the login shell's umask that `sudo -u estate-gateway` keeps,
while the service runs with UMask=0027 so that what it writes is not the world's. The export is
audited as registry.export (who took a copy), yet anyone logged in read the copy with no audit row.
Now the files are the command's user's alone (600), and so is a folder the command makes (700); a
folder the user gave that exists keeps its mode (README, CSV files)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.cli import main
from tests.conftest import site_toml


@pytest.fixture
def site(tmp_path: Path) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    residents = tmp_path / "residents.csv"
    residents.write_text("ref,building,unit,room,name\nR1,3栋,2单元,301,张三\n", encoding="utf-8-sig")
    cards = tmp_path / "cards.csv"
    cards.write_text("card,resident_ref\n0372653390,R1\n", encoding="utf-8-sig")
    assert main(["import", "-c", str(config), str(residents), str(cards)]) == 0
    return config


def _export(config: Path, out: Path) -> dict[str, str]:
    before = os.umask(0o022)  # Raspberry Pi OS's login shells'
    try:
        assert main(["export", "-c", str(config), str(out)]) == 0
    finally:
        os.umask(before)
    return {p.name: stat.filemode(p.stat().st_mode) for p in [out, *sorted(out.iterdir())]}


def test_the_exported_register_is_not_readable_by_other_users(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "register-copy"
    modes = _export(site, out)
    assert modes == {
        "register-copy": "drwx------",
        "cards.csv": "-rw-------",
        "residents.csv": "-rw-------",
        "slots.csv": "-rw-------",
        "vehicles.csv": "-rw-------",
    }, f"the register's copy should be the command's user's only: {modes}"


def test_a_folder_the_user_gave_keeps_its_mode(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "shared-folder"
    out.mkdir()
    out.chmod(0o755)
    modes = _export(site, out)
    assert modes.pop("shared-folder") == "drwxr-xr-x"
    assert set(modes.values()) == {"-rw-------"}, modes
