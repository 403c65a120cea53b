"""A voice device whose program is not on this box (review 59c, found by reviewer c): check-config
named a serial port not plugged in but not that, and the start showed the device online until the
first car's prompt failed (a device_offline alarm then). The example config speaks through
espeak-ng, which Raspberry Pi OS Lite does not have."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml

VOICE = """
[[devices]]
id = "car-in-voice"
lane = "car-in"
kind = "display"
driver = "voice"
command = ["{program}", "-v", "cmn", "{{text}}"]
"""


@pytest.mark.parametrize(
    ("program", "fix"),
    [
        ("no-such-tts-59c", "install it, or fix the device's command"),
        ("/nowhere/espeak-ng", "sudo apt install espeak-ng"),
    ],
)
def test_check_config_warns_of_a_voice_program_not_on_this_box(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], program: str, fix: str
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data") + VOICE.format(program=program), encoding="utf-8")
    assert main(["check-config", str(config)]) == 0  # a warning: it may be installed before the start
    out = capsys.readouterr().out
    assert f"car-in-voice: {program} is not installed here: {fix}" in out, out


def test_check_config_is_quiet_about_a_voice_program_that_is_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "site.toml"
    config.write_text(site_toml(tmp_path / "data") + VOICE.format(program="true"), encoding="utf-8")
    assert main(["check-config", str(config)]) == 0
    assert "car-in-voice" not in capsys.readouterr().out


def test_a_voice_device_whose_program_is_missing_is_offline_from_the_start(tmp_path: Path) -> None:
    cfg = parse_config(site_toml(tmp_path / "data") + VOICE.format(program="no-such-tts-59c"), "site.toml")
    gw = Gateway(cfg)
    try:
        gw.start()
        time.sleep(0.2)
        voice = next(h for h in gw.devices.health if h.device == "car-in-voice")
        assert not voice.online, "the guard's health page shows a voice prompt that can never speak as online"
        assert "no-such-tts-59c is not installed here" in voice.last_error
    finally:
        gw.stop()
        gw.conn.close()


def test_the_readme_install_has_the_speech_program_the_example_config_uses() -> None:
    repo = Path(__file__).resolve().parent.parent
    example = (repo / "config" / "example-estate.toml").read_text(encoding="utf-8")
    assert '"espeak-ng"' in example
    readme = (repo / "README.md").read_text(encoding="utf-8")
    apt = next(line for line in readme.splitlines() if line.startswith("sudo apt-get install"))
    assert "espeak-ng" in apt.split("#")[0].split()
