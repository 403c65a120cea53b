"""A command runs once, whatever the box's clock does later and whatever key it holds after a stop
(docs/mqtt.md, Remote commands: Accepted only when, Across a stop)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from conftest import SITE, running
from sync_helpers import Mosquitto, Subscriber, wait_for
from test_sync_commands import KEY, command, pulses, send, write_key
from test_sync_downlink import _site

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.sync.commands import verify
from gateway.sync.inbox import INBOX_NAME, Inbox


def send_replayed(site: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Publish a command sent before and return the reply refusing it, or, where none comes, the
    reply the gate opened on again. Matched by the command's id, the first reply found could be the
    original's ok, delivered again by the restarted gateway's outbox (at least once)."""
    before = len(site.upstream("/cmd/reply"))
    site.central.publish("cmd", json.dumps(body).encode())

    def answered() -> dict[str, Any] | None:
        mine = [r for r in site.upstream("/cmd/reply")[before:] if r.get("id") == body["id"]]
        refused = next((r for r in mine if r.get("ok") is False), None)
        if refused is not None or len(pulses(site)) < 2:
            return refused
        return mine[-1] if mine else {"ok": True}  # the gate opened again

    reply: dict[str, Any] = wait_for("the replayed command refused (or run again)", answered)
    return reply


def test_a_captured_command_does_not_open_again_after_ntp_steps_the_clock_back(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The box's clock runs 110 s fast (a Pi without RTC), within what a 60 s command plus the 60 s
    skew still accepts. An open_lane is accepted and done; the cleanup of used ids runs (at a
    start, or every 10 min); NTP then steps the clock back by 110 s. Whoever captured the command
    on the broker replays it: the gate must not open a second time."""
    offset = [timedelta(seconds=110)]
    real_now = Gateway.now
    monkeypatch.setattr(Gateway, "now", lambda self: real_now(self) + offset[0])
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    body = command("open_lane", {"lane": "car-in", "reason": "访客"}, life=60)
    with _site(broker, cfg) as site:
        assert send(site, body)["ok"] is True
    offset[0] = timedelta(seconds=200)  # 90 s later, still fast: the cleanup at a start
    with _site(broker, cfg) as site:
        used = f"SELECT count(*) FROM command_nonces WHERE id = '{body['id']}'"
        wait_for("the used id forgotten", lambda: site.rows(used) == [(0,)])
    offset[0] = timedelta(seconds=90)  # NTP: back to the true time (90 s after the command)
    with _site(broker, cfg) as site:
        again = send_replayed(site, body)
        assert (again["ok"], again.get("code"), len(pulses(site))) == (False, "replayed", 1)
        assert send(site, command("open_lane", {"lane": "car-in"}))["ok"] is True  # a new one runs


def test_a_command_cut_short_is_answered_replayed_after_a_key_rotation(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """An open_lane accepted and cut short by a stop (mid-pulse) is answered `replayed`, since
    whether the barrier opened is not known. The property company rotates the key meanwhile
    (replacing the file takes effect at once): the answer must still be `replayed`, since
    `bad_signature` would tell the central server the barrier never opened."""
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    body = command("open_lane", {"lane": "car-in", "reason": "visitor"})
    payload = json.dumps(body).encode()
    try:
        with running(cfg) as (gw, service):  # accepted, kept, and stopped before it ran
            cmd = verify(payload, KEY, SITE, gw.now(), 300, 60)
            gw.on_worker(lambda conn: service.commands._accept(conn, cmd, gw.now())).result()
            Inbox(gw.data_dir / INBOX_NAME).keep("command", payload)
        write_key(cfg, b"n" * 32)  # the key rotated while the box was down
        with running(cfg):
            mine = lambda: [r for r in sub.payloads("/cmd/reply") if r["id"] == body["id"]]  # noqa: E731
            wait_for("the reply", mine)
            time.sleep(0.5)  # no second answer follows
            replies = mine()
    finally:
        sub.close()
    assert [r["code"] for r in replies] == ["replayed"]
