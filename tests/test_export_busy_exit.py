"""Review r2store: README, Exit status (d45698c): "78 bad config or database, or a setup only the
installer can fix (systemd does not restart); ... 1 other errors (a port in use, an address not up
yet, a full disk, a database another process holds past the busy timeout: they can pass)". The
commit says "A command on a busy database, or on a full disk, exits 1 too"."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG
from tests.conftest import locked_by_another_process, site_toml, write_csv


def test_export_while_another_process_holds_the_database_exits_1_not_78(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The office's nightly `gateway export` runs while a `gateway import` sits suspended with
    Ctrl-Z (README's own example of a lock held past the busy timeout). The export cannot write its
    registry.export audit row, leaves no file (right) and exits 78, which README reserves for a bad
    config or database or a setup only the installer can fix: a script (or the installer reading
    the status) takes the box for broken instead of running the export again. It should exit 1,
    as `gateway run` now does on the same lock."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    people = write_csv(tmp_path / "people.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    assert main(["import", "-c", str(config), str(people)]) == 0
    with locked_by_another_process(tmp_path / "data" / "gateway.db"):
        status = main(["export", "-c", str(config), str(tmp_path / "usb")])
    err = capsys.readouterr().err
    assert "database is locked" in err, err
    assert status == 1, f"exit {status} (78 is EX_CONFIG: {status == EX_CONFIG}): {err}"


@pytest.fixture
def small_stick(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real, small filesystem (a USB stick with 64 KiB left): tmpfs, mounted for the test."""
    import subprocess

    mnt = tmp_path / "usb"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr!r}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", str(mnt)], check=False)
