"""Review 64C: check-config said ok to a data directory the service cannot write, and the start then
stopped (exit 78).

Two slips an installer makes: the folder made with `sudo mkdir` (root's, 755) rather than README's
`sudo install -d -o estate-gateway ...`, and a data_dir outside the unit's ReadWritePaths (a typo,
/var/lib/estate-gatway: ProtectSystem=strict leaves the rest of the disk read-only to the service).
check-config warned only of /home and /tmp. It now warns of both, naming the fix: the install -d
line, or the `systemctl edit` line that adds the folder to ReadWritePaths.

The folders here are made under pytest's /tmp, which the unit hides (warned of as before): the
tests take that out of the way, and stand in for the service's user and its installed unit."""

from __future__ import annotations

import os
import pwd
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import filecheck, service_unit
from tests.conftest import site_toml

UNIT = """[Service]
User=estate-gateway
StateDirectory=estate-gateway
ProtectSystem=strict
ReadWritePaths={paths}
"""


@pytest.fixture
def box(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A box whose service writes only `tmp_path/rw` (its installed unit), with /tmp not hidden."""
    monkeypatch.setattr(filecheck, "HIDDEN_FROM_SERVICE", {})
    unit = tmp_path / "etc" / "estate-gateway.service"
    unit.parent.mkdir()
    unit.write_text(UNIT.format(paths=tmp_path / "rw"), encoding="utf-8")
    monkeypatch.setattr(service_unit, "SERVICE_UNIT", unit)
    (tmp_path / "rw").mkdir()
    return tmp_path


def service_user(monkeypatch: pytest.MonkeyPatch, uid: int) -> None:
    """The service's user on this box, with `uid` (its own group, in no other)."""
    me = pwd.getpwuid(os.getuid())
    fake = pwd.struct_passwd(
        ("estate-gateway", "x", uid, uid + 1, "", "/var/lib/estate-gateway", "/bin/false")
    )
    real = pwd.getpwnam

    def getpwnam(name: str) -> pwd.struct_passwd:
        return fake if name == "estate-gateway" else real(name)

    monkeypatch.setattr(filecheck.pwd, "getpwnam", getpwnam)
    assert me.pw_uid != uid or uid == os.getuid()


def check(tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(data_dir), encoding="utf-8")
    status = main(["check-config", str(path)])
    out = capsys.readouterr()
    return status, [ln for ln in (out.out + out.err).splitlines() if "site.data_dir" in ln]


def test_a_data_dir_outside_the_units_read_write_paths_is_warned_of_with_the_systemctl_edit_line(
    box: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, said = check(box, box / "rw-typo" / "data", capsys)
    assert status == 0  # a warning: the check still says ok
    (warning,) = said
    assert f"{box / 'rw-typo' / 'data'} is outside the folders the service may write" in warning
    assert f"it writes only {box / 'rw'} /var/lib/estate-gateway (ProtectSystem=strict" in warning
    assert str(box / "etc" / "estate-gateway.service") in warning and "exit 78" in warning
    assert "sudo systemctl edit estate-gateway" in warning
    assert f"[Service] ReadWritePaths={box / 'rw-typo' / 'data'}" in warning


def test_the_typo_of_the_units_own_folder_is_named(
    box: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_unit, "SERVICE_UNIT", box / "not-installed.service")  # the shipped unit's
    status, said = check(box, Path("/var/lib/estate-gatway"), capsys)
    (warning,) = said
    assert (
        "it writes only /var/lib/estate-gateway (" in warning and "systemd/estate-gateway.service" in warning
    )
    assert 'did you mean "/var/lib/estate-gateway"?' in warning


def test_a_folder_added_by_systemctl_edit_is_the_services_to_write(
    box: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    drop_ins = box / "etc" / "estate-gateway.service.d"
    drop_ins.mkdir()
    (drop_ins / "override.conf").write_text(f"[Service]\nReadWritePaths={box / 'ssd'}\n", encoding="utf-8")
    status, said = check(box, box / "ssd" / "gateway", capsys)
    assert status == 0 and said == [], said
    status, said = check(box, box / "rw" / "data", capsys)  # the unit's own still
    assert status == 0 and said == [], said


def test_a_folder_made_by_root_with_mkdir_is_warned_of_with_the_install_line(
    box: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = box / "rw" / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    service_user(monkeypatch, os.getuid() + 4242)  # not the folder's owner, nor in its group
    status, said = check(box, data, capsys)
    assert status == 0
    (warning,) = said
    assert "the service's user (estate-gateway) may not write it" in warning and "exit 78" in warning
    assert f"sudo install -d -o estate-gateway -g estate-gateway -m 750 {data}" in warning


def test_a_folder_the_service_owns_or_the_unit_makes_is_not_warned_of(
    box: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = box / "rw" / "data"
    data.mkdir(mode=0o750)
    data.chmod(0o750)
    service_user(monkeypatch, os.getuid())  # the folder is the service's
    status, said = check(box, data, capsys)
    assert status == 0 and said == [], said
    service_user(monkeypatch, os.getuid() + 4242)
    monkeypatch.setattr(filecheck, "SERVICE_DATA_DIR", data)  # the unit's StateDirectory: systemd
    status, said = check(box, data, capsys)  # hands it to the service at every start
    assert status == 0 and said == [], said
