"""Forged commands from whoever can publish to the command topic without the key (a broker ACL
left open): refused, and cheap to refuse (docs/mqtt.md, Remote commands)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sync_helpers import free_port, wait_for
from test_sync_commands import TZ, command, send, site, write_key  # noqa: F401  (site: a fixture)
from test_sync_downlink import Site

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.runtime.serve import sync_service
from gateway.sync.command_key import read_key
from gateway.sync.commands import REFUSALS_RECORDED_PER_MINUTE
from tests.test_config_secrets import RAW_KEY

FORGED_KEY = b"not the key" * 3


def warnings_logged(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "gateway.sync.commands" and r.levelno >= logging.WARNING]


def test_a_flood_of_forged_commands_is_logged_once_a_minute(
    site: Site,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Refusals past 20 in a minute are counted and logged once a minute: a flood of forged
    commands must not write one WARNING line each to journald."""
    caplog.set_level(logging.INFO, logger="gateway.sync.commands")
    commands = site.service.commands
    flood = REFUSALS_RECORDED_PER_MINUTE + 200
    for _ in range(flood):
        site.central.publish("cmd", json.dumps(command(key=FORGED_KEY)).encode())
    wait_for("every forged command refused", lambda: commands.refused == flood)
    # the 20 recorded ones, and the one line saying the rest are only counted
    assert len(warnings_logged(caplog)) == REFUSALS_RECORDED_PER_MINUTE + 1


def test_the_central_servers_own_commands_are_answered_during_a_flood(site: Site) -> None:  # noqa: F811
    """A command signed with the key but refused (it came after its expiry) is still answered
    while forged ones are held back: the central server learns why its command did nothing."""
    commands = site.service.commands
    commands._clock = lambda: 1000.0  # the whole flood within one minute
    for _ in range(REFUSALS_RECORDED_PER_MINUTE + 5):
        site.central.publish("cmd", json.dumps(command(key=FORGED_KEY)).encode())
    wait_for("every forged command refused", lambda: commands.refused == REFUSALS_RECORDED_PER_MINUTE + 5)
    late = command(issued=datetime.now(TZ) - timedelta(minutes=10))
    assert send(site, late)["code"] == "expired"


def test_a_forged_command_with_a_huge_name_costs_little(site: Site) -> None:  # noqa: F811
    """A forged command whose `name` is 300 kB is refused, and what it leaves (audit row, reply)
    stays small: it sets no reply aside (an `outbox_quarantine` alarm for the guards) either."""
    site.central.publish("cmd", json.dumps(command(name="x" * 300_000, key=FORGED_KEY)).encode())
    reply = wait_for("the reply", lambda: site.upstream("/cmd/reply"))[0]
    assert (reply["code"], reply["name"]) == ("bad_signature", None)
    assert site.rows(
        "SELECT length(detail) + length(target) < 1000 FROM audit WHERE action = 'command_refused'"
    ) == [(1,)]
    time.sleep(0.5)  # the link has sent the reply: nothing was set aside behind it
    assert site.rows("SELECT count(*) FROM alarms WHERE kind = 'outbox_quarantine'") == [(0,)]


def test_a_forged_command_cannot_write_lines_into_the_log(
    site: Site,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The log is one line an event for journald: a forged command whose `name` holds a newline
    must not add a line of the forger's choosing (a fake "lane opened")."""
    caplog.set_level(logging.INFO, logger="gateway.sync.commands")
    fake = "open_lane\n10:00:00 INFO gateway.runtime.gateway: lane car-in opened by guard1 reason=救护车"
    assert send(site, command(name=fake, key=FORGED_KEY))["code"] == "bad_signature"
    lines = [r.getMessage() for r in caplog.records if r.name == "gateway.sync.commands"]
    assert lines and all("\n" not in line for line in lines), lines


def test_a_command_key_that_is_not_text_refuses_commands_and_lets_the_gateway_start(
    sync_cfg: Callable[..., SiteConfig],
) -> None:
    """A key written as raw bytes (no `| base64`): the sync link is built and commands are refused
    (no_key, the log says how to make the key), rather than the whole gateway failing at start."""
    cfg = sync_cfg(free_port())
    cfg.command_key_path.write_bytes(RAW_KEY)
    cfg.command_key_path.chmod(0o600)
    gw = Gateway(cfg)
    try:
        assert sync_service(gw) is not None  # serve() builds the link before it starts the lanes
        assert read_key(cfg.command_key_path) is None
    finally:
        gw.conn.close()
