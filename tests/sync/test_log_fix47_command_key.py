"""A command key the gateway cannot use, and a flood of forged commands (a broker ACL left open):
the key's fault is logged once, not once per message (docs/mqtt.md, Remote commands)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from sync_helpers import Mosquitto, wait_for
from test_sync_commands import KEY, command, send, write_key
from test_sync_downlink import _site

from gateway.config import SiteConfig
from gateway.sync.commands import REFUSALS_RECORDED_PER_MINUTE

FORGED_KEY = b"not the key" * 3


def _key_lines(caplog: pytest.LogCaptureFixture, since: int, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records[since:] if r.name == "gateway.sync.command_key" and r.levelno >= level]


def test_a_flood_of_forged_commands_does_not_write_a_key_error_line_each(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    """The command key was made too short (a typo, 8 characters). Forged commands past 20 a
    minute "must not fill ... the log", yet the key was read, and its fault logged at ERROR, for
    every message on the command topic: 220 forged commands wrote 220 ERROR lines."""
    cfg = sync_cfg(broker.port)
    write_key(cfg, b"tooshort")
    caplog.set_level(logging.INFO)
    with _site(broker, cfg) as site:
        commands = site.service.commands
        commands._clock = lambda: 1000.0  # the whole flood within one minute
        before = len(caplog.records)
        flood = REFUSALS_RECORDED_PER_MINUTE + 200
        for _ in range(flood):
            site.central.publish("cmd", json.dumps(command(key=FORGED_KEY)).encode())
        wait_for("every forged command refused", lambda: commands.refused == flood)
        records = caplog.records[before:]
    loud = [r for r in records if r.levelno >= logging.WARNING]
    key_lines = [r for r in loud if r.name == "gateway.sync.command_key"]
    commands_lines = [r for r in loud if r.name == "gateway.sync.commands"]
    assert len(commands_lines) == REFUSALS_RECORDED_PER_MINUTE + 1  # the limit holds for its own lines
    assert len(key_lines) <= 1, [r.getMessage() for r in key_lines[:2]]


def test_a_key_fault_said_at_start_is_said_again_when_it_changes_and_its_fix_once_at_info(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    """Logged once is not logged never: the start says the key's fault (and the commands then
    refused do not say it again), a key fixed is said once at INFO, and a key broken again is
    said again at ERROR, with the fix."""
    cfg = sync_cfg(broker.port)
    write_key(cfg, b"tooshort")
    caplog.set_level(logging.INFO)
    with _site(broker, cfg) as site:
        said = _key_lines(caplog, 0, logging.WARNING)
        assert len(said) == 1 and "fewer than 16" in said[0].getMessage(), [r.getMessage() for r in said]
        start = len(caplog.records)
        for _ in range(3):
            assert send(site, command())["code"] == "no_key"
        assert _key_lines(caplog, start, logging.INFO) == []

        write_key(cfg, KEY)
        fixed = len(caplog.records)
        for _ in range(3):
            assert send(site, command())["ok"] is True
        usable = _key_lines(caplog, fixed, logging.INFO)
        assert len(usable) == 1 and usable[0].levelno == logging.INFO, [r.getMessage() for r in usable]

        write_key(cfg, b"short again")
        broken = len(caplog.records)
        for _ in range(3):
            assert send(site, command())["code"] == "no_key"
        again = _key_lines(caplog, broken, logging.INFO)
        assert len(again) == 1 and again[0].levelno == logging.ERROR, [r.getMessage() for r in again]
        assert "fix:" in again[0].getMessage()
