"""A config error shows the value found, but never a camera url's password: check-config and a
failed start print to the terminal and the systemd journal."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import EX_CONFIG, ConfigError, load_config, parse_config
from gateway.config.problems import Problem
from gateway.sync.command_key import read_key
from tests.conftest import site_toml

KEY_TEXT = "q0Bf3l9dXyS5w2Zk8mN4rT7vY1aC6eH0"  # as `head -c 24 /dev/urandom | base64` makes one

CAMERA = """
[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "rstp://admin:Hik@S3cret:9@192.0.2.10:554/Streaming/Channels/101"
"""


def test_a_mistyped_camera_url_is_reported_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(site_toml(tmp_path / "data") + CAMERA, "site.toml")
    text = err.value.render()
    assert "devices[2].url" in text  # the site's third device
    assert "'rstp://admin:***@192.0.2.10:554/Streaming/Channels/101'" in text  # the typo still shows
    assert "S3cret" not in text


def test_check_config_prints_no_camera_password(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "site.toml"
    bad.write_text(site_toml(tmp_path / "data") + CAMERA, encoding="utf-8")
    assert main(["check-config", str(bad)]) == EX_CONFIG
    out = capsys.readouterr()
    assert "rstp://admin:***@" in out.err
    assert "S3cret" not in out.err + out.out


def test_values_without_a_password_are_shown_as_they_are() -> None:
    problem = Problem(("devices", 2, "url"), "bad url", "rtsp://192.0.2.10/ch1")
    assert "(found 'rtsp://192.0.2.10/ch1')" in problem.render("site.toml")
    assert "(found 3)" in Problem(("x",), "bad", 3).render("site.toml")


@pytest.mark.parametrize(
    ("key", "mode", "says"),
    [
        ("k" * 32, 0o644, "is open to others than its owner (-rw-r--r--): whoever reads it can sign"),
        ("k" * 32, 0o640, "is open to others than its owner (-rw-r-----)"),
        ("short", 0o600, "is 5 characters, fewer than 16: every remote command will be refused"),
    ],
    ids=["open-to-all", "open-to-the-group", "too-short"],
)
def test_check_config_says_what_is_wrong_with_a_command_key_that_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], key: str, mode: int, says: str
) -> None:
    """Whoever can read the key can open the gates remotely; a key too short to use is not a
    missing one: the installer is told which, and the fix (chmod 600, or a longer key)."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(Path("data")) + "\n[mqtt]\nenabled = true\n", encoding="utf-8")
    path = tmp_path / "data" / "command.key"
    path.parent.mkdir()
    path.write_text(key)
    path.chmod(mode)
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"warning: mqtt.command_key_file: the command key {'in ' if key == 'short' else ''}{path} " in out
    assert says in out and "no command key" not in out, out
    assert ("chmod 600" if mode != 0o600 else "head -c 32 /dev/urandom") in out


RAW_KEY = bytes.fromhex("9f3c") + bytes(range(30))  # 0x9f: never the first byte of UTF-8 text


def test_check_config_says_a_command_key_written_as_raw_bytes_is_not_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The docs' `head -c 32 /dev/urandom | base64 > command.key` without its `| base64` is an easy
    slip: check-config says the key is not text and how to make it, rather than "ok"."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(Path("data")) + "\n[mqtt]\nenabled = true\n", encoding="utf-8")
    path = tmp_path / "data" / "command.key"
    path.parent.mkdir()
    path.write_bytes(RAW_KEY)
    path.chmod(0o600)
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"warning: mqtt.command_key_file: the command key in {path} is not text" in out, out
    assert "| base64" in out


def test_check_config_says_a_command_key_that_is_a_folder_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`mkdir -p` of the wrong path, or a bind mount of a key not yet there, makes command.key a
    folder: every command is refused (no_key), and check-config says so with the fix."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(Path("data")) + "\n[mqtt]\nenabled = true\n", encoding="utf-8")
    path = tmp_path / "data" / "command.key"
    path.mkdir(parents=True)
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"warning: mqtt.command_key_file: the command key {path} cannot be read" in out, out
    assert read_key(path) is None


def test_a_command_key_saved_with_a_byte_order_mark_is_the_key_without_it(tmp_path: Path) -> None:
    """A key edited on Windows starts with a UTF-8 byte-order mark: the key is the text after it,
    or no signature the central server makes would match."""
    path = tmp_path / "command.key"
    path.write_bytes("\ufeff".encode() + KEY_TEXT.encode() + b"\r\n")
    path.chmod(0o600)
    assert read_key(path) == KEY_TEXT.encode()


def test_check_config_warns_when_hard_anti_passback_has_no_exit_to_see_people_leave(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The site's door has an entry reader only: with hard anti-passback nobody is ever seen leaving,
    so every resident's second entry would be refused. check-config says so, with the fix; the
    vehicle lanes, which have an exit, are not named."""
    config = tmp_path / "site.toml"
    config.write_text(site_toml(Path("data"), anti_passback="hard"), encoding="utf-8")
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "policy.anti_passback: hard, but no pedestrian lane is an exit" in out, out
    assert "every second entry at door is refused" in out and 'anti_passback = "soft"' in out
    assert "no vehicle lane" not in out


def test_the_example_site_reads_the_command_key_where_the_readme_puts_it() -> None:
    """An installer copies config/example-estate.toml and puts the key where README.md says: the
    central server's remote commands are then signed with a key the gateway reads (not refused
    `no_key` because the example looks for it elsewhere)."""
    readme = Path("README.md").read_text(encoding="utf-8")
    said = re.search(r"need the site's key in\s+`([^`]+)`", readme)
    assert said, "README.md no longer says where the command key goes"
    cfg = load_config("config/example-estate.toml")
    assert cfg.mqtt.enabled
    assert cfg.command_key_path == Path(said.group(1))
