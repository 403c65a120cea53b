"""Review 63za of 63z: two faults of bd8562e and b2486b1.

A resident ref of the register that looks like Excel's scientific form (the admin page or the
central server gave it, e.g. building 1, block E, room 1201 as "1E-1201"; or an older version
imported it) went out in `gateway export` as text ('1E-1201: the apostrophe the exporter adds so
that Excel keeps it as it is) and was refused by `gateway import` (exit 65), the apostrophe taken
off before the cell was checked, where README promises "an export imports back exactly as it was".
A cell marked as text is no number Excel shortened: it is taken as it is.

`gateway export /mnt/usb/register` onto a USB stick (FAT32 or exFAT, as sticks come formatted,
mounted umask=000 so that the service's user may write it) or an office's CIFS share failed with
nothing written: the chmod to 600 runs there, on files the mount's uid owns, and the kernel refuses
it (EPERM). A disk that cannot hold modes still gets the copy: its mode is the mount's. This box has
no vfat to mount, so the stick's chmod is simulated as the kernel answers it."""

from __future__ import annotations

import errno
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.privacy import Secrets
from gateway.store.database import open_database
from gateway.store.registry_residents import upsert_resident
from tests.conftest import site_toml


@pytest.fixture
def site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    residents = tmp_path / "residents.csv"
    residents.write_text("ref,building,unit,room,name\nR1,3栋,2单元,301,张三\n", encoding="utf-8-sig")
    assert main(["import", "-c", str(config), str(residents)]) == 0, capsys.readouterr().err
    return config


@pytest.mark.parametrize("ref", ["1E-1201", "2.02401E+11"])
def test_an_export_of_the_register_imports_back(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str
) -> None:
    data = tmp_path / "data"
    db = open_database(data / "gateway.db")  # the admin page (or the centre, or an older import)
    upsert_resident(
        db.conn,
        Secrets.load_or_create(data),
        datetime.now(UTC),
        "admin",
        {"ref": ref, "building": "1栋", "unit": "E座", "room": "1201", "name": "李四"},
    )
    db.conn.close()
    out = tmp_path / "copy"
    assert main(["export", "-c", str(site), str(out)]) == 0, capsys.readouterr().err
    capsys.readouterr()
    exported = (out / "residents.csv").read_text(encoding="utf-8-sig")
    assert f"'{ref}" in exported, exported  # written as text, so Excel leaves it alone
    rc = main(["import", "-c", str(site), *sorted(str(p) for p in out.glob("*.csv"))])
    err = capsys.readouterr().err
    assert rc == 0, (
        f"`gateway export` of a register holding ref {ref!r} (written '{ref}, marked as text) should "
        f"import back as README says, not be refused as Excel's scientific form: exit {rc}, {err}"
    )


def test_a_bare_scientific_ref_is_still_refused(
    site: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    residents = tmp_path / "excel.csv"  # Excel's "CSV" of a General column: no apostrophe
    residents.write_text("ref,building,unit,room,name\n2.02401E+11,1栋,E座,1201,李四\n", encoding="utf-8-sig")
    assert main(["import", "-c", str(site), str(residents)]) == 65
    assert "scientific form" in capsys.readouterr().err


def test_an_export_onto_a_fat_usb_stick_still_writes_the_files(
    site: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stick = tmp_path / "mnt-usb"  # vfat mounted umask=000: files 0777, all root's; we are not root
    stick.mkdir()
    real_chmod = Path.chmod
    real_os_chmod = os.chmod

    def on_the_stick(path: object) -> bool:
        return isinstance(path, str | Path) and stick in Path(path).resolve().parents

    def fat_chmod(self: Path, mode: int, *, follow_symlinks: bool = True) -> None:
        if on_the_stick(self):  # chmod by a user not the mount's uid: EPERM
            raise PermissionError(errno.EPERM, "Operation not permitted", str(self))
        real_chmod(self, mode, follow_symlinks=follow_symlinks)

    def fat_os_chmod(path: object, mode: int, *args: object, **kwargs: object) -> None:
        if on_the_stick(path):
            raise PermissionError(errno.EPERM, "Operation not permitted", str(path))
        real_os_chmod(path, mode, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "chmod", fat_chmod)
    monkeypatch.setattr(os, "chmod", fat_os_chmod)
    rc = main(["export", "-c", str(site), str(stick / "register")])
    out, err = capsys.readouterr()
    register = stick / "register"
    written = sorted(p.name for p in register.glob("*.csv")) if register.exists() else []
    assert rc == 0 and written == ["cards.csv", "residents.csv", "slots.csv", "vehicles.csv"], (
        f"an export onto a FAT USB stick (which cannot hold mode 600) should still write the register's "
        f"copy: exit {rc}, files {written}, stderr {err!r}"
    )
    assert "R1" in (register / "residents.csv").read_text(encoding="utf-8-sig")
    assert "keeps no file modes" in out, out  # told: the copy is the mount's to guard (log, stdout)


def test_on_a_disk_that_holds_modes_the_copy_is_still_private(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "copy"
    before = os.umask(0o022)
    try:
        assert main(["export", "-c", str(site), str(out)]) == 0
    finally:
        os.umask(before)
    modes = {p.name: stat.filemode(p.stat().st_mode) for p in [out, *out.iterdir()]}
    assert set(modes.values()) == {"drwx------", "-rw-------"}, modes
