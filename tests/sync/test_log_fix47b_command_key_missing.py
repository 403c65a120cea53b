"""The command key file missing, as the gateway meets it (docs/mqtt.md, Keys: "A key the gateway
cannot use is logged once (at the start, or when first met) ... and once at INFO when it is usable
again")."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gateway.sync.command_key import CommandKey

KEY = "k" * 32


def _lines(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gateway.sync.command_key" and r.levelno >= level]


def _write_key(path: Path) -> None:
    path.write_text(KEY)
    path.chmod(0o600)


def test_a_key_removed_after_the_start_is_said_once_when_first_met(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The key was there at the start; a restore of /etc/estate-gateway without it (or an rm) left
    every command refused no_key and the journal silent. It is said once, with how to make one."""
    path = tmp_path / "command.key"
    _write_key(path)
    key = CommandKey(path)
    caplog.set_level(logging.DEBUG)
    key.warn_at_start()
    assert key.read() == KEY.encode()
    path.unlink()
    for _ in range(3):
        assert key.read() is None  # the command is refused no_key
    said = _lines(caplog, logging.WARNING)
    assert len(said) == 1, [r.getMessage() for r in said]
    assert f"no command key at {path}" in said[0].getMessage()
    assert "make one: " in said[0].getMessage()


def test_a_key_made_after_a_start_without_one_is_said_usable_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Started without a key (the start warns: every remote command will be refused), the installer
    makes one as the warning says: one INFO line says it is usable, as for any other fault fixed."""
    path = tmp_path / "command.key"
    key = CommandKey(path)
    caplog.set_level(logging.DEBUG)
    key.warn_at_start()
    assert len(_lines(caplog, logging.WARNING)) == 1
    assert key.read() is None
    _write_key(path)
    for _ in range(3):
        assert key.read() == KEY.encode()
    usable = [r for r in _lines(caplog, logging.INFO) if r.levelno == logging.INFO]
    assert len(usable) == 1, [r.getMessage() for r in usable]


def test_a_gateway_started_without_a_key_says_it_only_at_the_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """No key ever made, commands arriving all the same: the start said it, each command does not."""
    key = CommandKey(tmp_path / "command.key")
    caplog.set_level(logging.INFO)
    key.warn_at_start()
    for _ in range(5):
        assert key.read() is None
    said = _lines(caplog, logging.INFO)
    assert len(said) == 1 and said[0].levelno == logging.WARNING, [r.getMessage() for r in said]
