"""A command the broker delivers again (QoS 1) runs once and is answered once (docs/mqtt.md, Remote
commands: Accepted only when, Across a stop)."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from conftest import SITE, running
from sync_helpers import Central, Mosquitto, Subscriber, wait_for, wait_listening
from test_sync_commands import TZ, command, pulses, send, write_key
from test_sync_downlink import _site

import gateway.sync.client as client_mod
from gateway.config import SiteConfig
from gateway.sync.inbox import INBOX_NAME, Inbox

_COPY_SAID = "received again"


def _copy_handled(caplog: pytest.LogCaptureFixture, replies: Callable[[], list[dict[str, Any]]]) -> bool:
    """The copy handled: said in the journal (now), or answered a second time (before)."""
    return any(_COPY_SAID in r.getMessage() for r in caplog.records) or len(replies()) > 1


def pulses_of(cfg: SiteConfig) -> int:
    log = cfg.site.data_dir / "pulses.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_a_command_kept_at_a_kill_and_delivered_again_by_the_broker_is_answered_once(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    """The gateway is killed after it kept the centre's open_lane in sync-inbox.db and before
    paho's PUBACK reached the broker, which still holds the command for the gateway's session.
    At the next start the inbox's command runs (the gate opens once) and is answered `ok`; the
    broker then delivers its copy at the connect, which was answered `replayed`: two answers, the
    second saying the first may not have happened. The copy is now neither run nor answered, and
    the journal says so at INFO."""
    caplog.set_level(logging.INFO, logger="gateway.sync.commands")
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    central = Central(broker, SITE)
    body = command("open_lane", {"lane": "car-in", "reason": "visitor at gate"}, life=300)
    payload = json.dumps(body).encode()

    def mine() -> list[dict[str, Any]]:
        return [r for r in sub.payloads("/cmd/reply") if r.get("id") == body["id"]]

    try:
        with running(cfg) as (gw, service):  # the gateway's session and subscription on the broker
            wait_listening(service)
        # What the kill left: the command in the inbox, and held by the broker for the session.
        central.publish("cmd", payload)
        Inbox(cfg.site.data_dir / INBOX_NAME).keep("command", payload)
        with running(cfg) as (gw, service):
            wait_listening(service)
            wait_for("the answer", mine, timeout=60)
            wait_for("the broker's copy handled", lambda: _copy_handled(caplog, mine), timeout=60)
            replies = mine()
            done = pulses_of(cfg)
    finally:
        central.close()
        sub.close()
    assert done == 1
    assert [(r["ok"], r.get("code")) for r in replies] == [(True, None)], replies


def test_a_command_delivered_again_after_a_link_drop_is_answered_once(
    broker: Mosquitto,
    sync_cfg: Callable[..., SiteConfig],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The uplink drops after the gateway kept the centre's open_lane in its inbox and before
    paho's PUBACK went out: the broker delivers it again (DUP) after the reconnect. It ran once,
    but was answered `ok`, then `replayed`. The copy is now neither run nor answered."""
    caplog.set_level(logging.INFO, logger="gateway.sync.commands")
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    socks: list[socket.socket] = []
    real_open = client_mod.Connection._on_socket_open

    def on_open(self: Any, client: Any, userdata: Any, sock: socket.socket) -> Any:
        socks.append(sock)
        return real_open(self, client, userdata, sock)

    monkeypatch.setattr(client_mod.Connection, "_on_socket_open", on_open)
    real_keep = Inbox.keep
    dropped: list[bool] = []

    def keep(self: Inbox, kind: str, body: bytes) -> Any:
        kept = real_keep(self, kind, body)
        if kind == "command" and not dropped:  # the link drops here, before the PUBACK
            dropped.append(True)
            socks[-1].shutdown(socket.SHUT_RDWR)
        return kept

    monkeypatch.setattr(Inbox, "keep", keep)
    body = command("open_lane", {"lane": "car-in", "reason": "visitor at gate"}, life=300)
    with _site(broker, cfg) as site:

        def mine() -> list[dict[str, Any]]:
            return [r for r in site.upstream("/cmd/reply") if r.get("id") == body["id"]]

        site.central.publish("cmd", json.dumps(body).encode())
        wait_for("the answer", mine, timeout=60)
        wait_for("the broker's copy handled", lambda: _copy_handled(caplog, mine), timeout=60)
        replies = mine()
        assert dropped
        assert len(pulses(site)) == 1
    assert [(r["ok"], r.get("code")) for r in replies] == [(True, None)], replies


def test_a_command_answered_before_a_restart_and_published_again_is_not_answered_again(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    """A command answered (`command_done` on record) reaches the gateway again after a restart,
    its id still kept (within its life): not in memory any more, its answer is found on record,
    and it is neither run nor answered `replayed`."""
    caplog.set_level(logging.INFO, logger="gateway.sync.commands")
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    body = command("open_lane", {"lane": "car-in", "reason": "visitor at gate"}, life=300)
    with _site(broker, cfg) as site:
        assert send(site, body)["ok"] is True
    with _site(broker, cfg) as site:
        _neither_run_nor_answered_again(site, body, caplog)
        refused = site.rows("SELECT count(*) FROM audit WHERE action = 'command_refused'")
        assert refused == [(0,)]


def _neither_run_nor_answered_again(
    site: Any, copy: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    """`copy`, published after a restart, is neither run nor answered: the gate pulsed once."""
    site.central.publish("cmd", json.dumps(copy).encode())
    # Commands are handled in turn: once the next one is answered, the copy was handled.
    assert send(site, command("resync", {"reason": "after the copy"}))["ok"] is True
    again = [r for r in site.upstream("/cmd/reply") if r.get("id") == copy["id"]]
    assert all(r["ok"] is True for r in again), again  # at most the first `ok` sent again
    assert any(_COPY_SAID in r.getMessage() for r in caplog.records)
    assert len(pulses(site)) == 1


def test_a_command_signed_again_under_its_id_after_a_restart_is_not_answered_again(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    """The centre, its answer not seen, signs the command again under the same id, issued later
    (its clock 58 s ahead of the box's, within clock_skew_s). After a restart the answer on record
    was looked for only from this copy's issued_at, less the skew: written before that, it was not
    found, and the centre was answered `replayed`, "already received", after its `ok`."""
    caplog.set_level(logging.INFO, logger="gateway.sync.commands")
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    args = {"lane": "car-in", "reason": "visitor at gate"}
    body = command("open_lane", args, life=240)
    with _site(broker, cfg) as site:
        assert send(site, body)["ok"] is True
    time.sleep(3)  # the answer on record is older than this copy's issued_at less the skew
    issued = datetime.now(TZ) + timedelta(seconds=58)
    again = command("open_lane", args, issued=issued, life=240, id=body["id"])
    with _site(broker, cfg) as site:
        _neither_run_nor_answered_again(site, again, caplog)
