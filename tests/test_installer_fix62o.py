"""What a new installer following README met: each a line saying the fix, not a traceback or a
fix that cannot help (review 62i)."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import pathlib
import pwd
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.health import DeviceHealth
from drivers.relays.gpio import GpioDevice
from gateway.cli import _parser, main
from gateway.config import load_config
from gateway.store.database import DB_NAME, open_database
from tests.conftest import site_toml
from tests.nobody import NOBODY, as_nobody, needs_root

REPO = Path(__file__).resolve().parents[1]
SERVICE_UID = 12345  # stands in for estate-gateway, as the reviewer's setpriv did
GATEWAY = "/opt/estate-gateway/venv/bin/gateway"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(site_toml(tmp_path / "data"), encoding="utf-8")
    return path


def _denied(path: Path) -> PermissionError:
    return PermissionError(errno.EACCES, "Permission denied", str(path))


@pytest.fixture
def open_box() -> Iterator[Path]:
    """A folder every user may reach (pytest's own tmp_path is under root's mode-700 folder)."""
    folder = Path(tempfile.mkdtemp(prefix="fix62o-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@needs_root
def test_a_command_run_as_the_installers_own_user_says_to_run_it_as_the_service(open_box: Path) -> None:
    """`gateway user list -c site.toml` as the login user, once the service made its data directory
    (mode 750, its own): a PermissionError traceback from database.not_writable, exit 1. It says
    the line to run as the directory's owner, as check-config does."""
    config = open_box / "site.toml"
    config.write_text(site_toml(open_box / "data"), encoding="utf-8")
    config.chmod(0o644)
    assert main(["user", "list", "-c", str(config)]) == 0  # as root: the database, and the modules loaded
    for path in [open_box / "data", *(open_box / "data").iterdir()]:
        os.chown(path, SERVICE_UID, SERVICE_UID)
    (open_box / "data").chmod(0o750)

    def user_list() -> str:
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main(["user", "list", "-c", str(config)])
        return f"{rc}\n{err.getvalue()}"

    said = as_nobody(user_list)
    assert said, "the command ended in a traceback"
    rc, err = said.split("\n", 1)
    assert rc != "0"
    assert f"may not write {open_box / 'data'}" in err
    assert "fix: run the command as" in err and "sudo -u " in err


@pytest.mark.parametrize(
    ("words", "rest"),
    [
        (["user", "list"], []),
        (["token", "add"], ["booth"]),
        (["import"], []),
        (["outbox"], []),
        (["export"], ["out"]),
    ],
    ids=["user list", "token add", "import", "outbox", "export"],
)
def test_each_command_into_the_services_folder_gives_the_line_to_run_as_it(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    words: list[str],
    rest: list[str],
) -> None:
    """The same, as root runs the tests: the folder's owner and what this user may not do there
    said as the system would (root may do all)."""
    data = config.parent / "data"
    open_database(data / DB_NAME).conn.close()
    real_access, real_stat = os.access, pathlib.Path.stat
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: Path(p) != data and real_access(p, mode, **kw))

    def stat(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        if self.parent == data:  # mode 750: this user may not look into it
            raise _denied(self)
        st = real_stat(self, follow_symlinks=follow_symlinks)
        if self == data:
            return os.stat_result((st[0], st[1], st[2], st[3], NOBODY, NOBODY, *st[6:10]))
        return st

    monkeypatch.setattr(pathlib.Path, "stat", stat)
    monkeypatch.chdir(config.parent)
    monkeypatch.setattr(sys, "argv", [GATEWAY, *words, "-c", "site.toml", *rest])
    assert main() == 78
    err = capsys.readouterr().err
    assert "this user " in err and f"may not write {data}, which is " in err
    assert f"sudo -u {pwd.getpwuid(NOBODY).pw_name} {GATEWAY} {' '.join(words)} -c {config}" in err, err


def test_export_into_a_folder_this_user_may_not_enter_says_so(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sudo -u estate-gateway gateway export -c site.toml ~/export` (a home of mode 700): a
    PermissionError traceback from Path.exists; now the not-writable line and its fix."""
    open_database(config.parent / "data" / DB_NAME).conn.close()
    home = config.parent / "home-pi"
    real_stat = pathlib.Path.stat

    def stat(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        if home in self.parents:
            raise _denied(self)
        return real_stat(self, follow_symlinks=follow_symlinks)

    monkeypatch.setattr(pathlib.Path, "stat", stat)
    for command, said in (
        ("export", "cannot write the export to"),
        ("export-plates", "cannot write the crops to"),
    ):
        assert main([command, "-c", str(config), str(home / f"{command}-out")]) == 1
        err = capsys.readouterr().err
        assert f"{said} {home / f'{command}-out'}: Permission denied" in err
        assert "fix: give a folder (new, or one of yours) that the user running gateway may write" in err


@pytest.mark.parametrize("data_dir", ["/var/lib/estate-gateway", "/srv/gate-data"])
def test_a_data_directory_not_yet_made_is_made_for_the_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data_dir: str
) -> None:
    """The import or first admin run before the service's first start: the fix said to set
    site.data_dir to the value it already has; it gives README's line that makes the folder."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(Path(data_dir)), encoding="utf-8")

    def mkdir(self: Path, *args: object, **kwargs: object) -> None:
        raise _denied(self)  # /var/lib is root's; and nothing is made on the test box

    monkeypatch.setattr(pathlib.Path, "mkdir", mkdir)
    assert main(["user", "list", "-c", str(config)]) == 78
    err = capsys.readouterr().err
    assert f"cannot create the data directory {data_dir}: Permission denied" in err
    assert f"sudo install -d -o estate-gateway -g estate-gateway -m 750 {data_dir}" in err
    assert ("start the service once" in err) == (data_dir == "/var/lib/estate-gateway")
    assert "set site.data_dir" not in err


def test_gpio_without_gpiozero_says_the_line_check_config_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """The device's error said `pip install 'estate-gateway[gpio]'`: no such package on the index,
    and bare pip is refused on bookworm."""
    monkeypatch.setitem(sys.modules, "gpiozero", None)
    device = GpioDevice(DeviceHealth("gate", "relay", "car-in", "gpio"), 17)
    try:
        error = device.health.last_error or ""
        assert "sudo /opt/estate-gateway/venv/bin/pip install '/opt/estate-gateway[fast,gpio]'" in error
        assert "'estate-gateway[gpio]'" not in error
    finally:
        device.close()
    assert "'estate-gateway[gpio]'" not in (REPO / "docs" / "hardware.md").read_text(encoding="utf-8")


def test_a_site_copied_from_the_example_is_not_closed_in_december() -> None:
    cfg = load_config(REPO / "config" / "example-estate.toml", warn=False)
    assert cfg.policy.closed_management == []


def test_log_level_after_the_command_is_taken(config: Path) -> None:
    """`gateway run -c site.toml --log-level DEBUG`, as one edits ExecStart: argparse's exit 2,
    which systemd restarted every 2 s."""
    assert _parser().parse_args(["run", "-c", "site.toml", "--log-level", "DEBUG"]).log_level == "DEBUG"
    assert _parser().parse_args(["--log-level", "ERROR", "run", "-c", "site.toml"]).log_level == "ERROR"
    assert _parser().parse_args(["run", "-c", "site.toml"]).log_level == "INFO"
    assert main(["check-config", str(config), "--log-level", "WARNING"]) == 0


def test_ctrl_d_at_the_password_prompt_is_taken_as_ctrl_c(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", eof)
    assert main(["user", "add", "-c", str(config), "--admin", "wang"]) == 130
    assert "Traceback" not in capsys.readouterr().err
    assert main(["user", "list", "-c", str(config)]) == 0
    assert "wang" not in capsys.readouterr().out
