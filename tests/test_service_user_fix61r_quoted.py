"""Review 61r: the shell lines check-config and the running gateway give to paste (8554e22: run
check-config as the service's user; let it read a secret) split a path with a space (a USB stick's
/media/pi/NEW VOLUME/site.toml) into two words: pasted, they checked or changed the wrong files."""

from __future__ import annotations

import shlex
from pathlib import Path

from gateway.config.service_user import check_config_as, readable_fix


def test_the_line_to_run_names_the_config_as_one_word() -> None:
    config = Path("/media/pi/NEW VOLUME/site.toml")
    words = shlex.split(check_config_as("estate-gateway", config))
    assert words[:3] == ["sudo", "-u", "estate-gateway"]
    assert words[-2:] == ["check-config", str(config)]


def test_the_fix_for_an_unreadable_file_names_it_as_one_word() -> None:
    for secret in (True, False):
        path = Path("/etc/estate gateway/mqtt.pass")
        chown, chmod = readable_fix(path, secret=secret).split(" && ")
        assert shlex.split(chown)[-1] == str(path)
        assert shlex.split(chmod)[-1] == str(path)
