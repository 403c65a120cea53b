"""The answer to a command done that waits in memory when the gateway stops (docs/mqtt.md, Remote
commands: Storage that takes no writes, Across a stop)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from conftest import SITE, running
from sync_helpers import Central, Mosquitto, Subscriber, wait_for, wait_listening
from test_command_answer_on_a_locked_database import opened_then_held
from test_sync_commands import command, write_key

from gateway.config import SiteConfig
from gateway.runtime.hand_lanes import HandLanes


def test_an_answer_waiting_in_memory_at_a_stop_reaches_the_centre_at_the_next_start(
    broker: Mosquitto,
    sync_cfg: Callable[..., SiteConfig],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The centre's open_lane is accepted on record, `lane.open` written, the relay pulses: the
    gate opens. Then another process holds gateway.db (a `gateway import` suspended with Ctrl-Z)
    past the busy timeout as the answer is written: the answer waits in memory. The operator
    restarts the gateway to 'fix' it, the lock still held: the answer is lost with the process.
    The inbox had let go of the command as its answer went to memory, so the next start (the
    lock gone) found nothing, and the centre never got any answer at all. The inbox now keeps the
    command, with its answer, until that answer is on record: the next start answers it `ok`
    (the gate did open), once, and does not open the gate again."""
    caplog.set_level(logging.INFO)
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    open_lane, holders = opened_then_held(cfg)
    body = command("open_lane", {"lane": "car-in", "reason": "visitor at gate"}, life=300)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    central = Central(broker, SITE)

    def mine() -> list[dict[str, Any]]:
        return [r for r in sub.payloads("/cmd/reply") if r.get("id") == body["id"]]

    def answer_waits() -> bool:
        return any("remote command answered not recorded" in r.getMessage() for r in caplog.records)

    pulses = cfg.site.data_dir / "pulses.log"
    try:
        with monkeypatch.context() as m:
            m.setattr(HandLanes, "open_lane", open_lane)
            try:
                with running(cfg) as (gw, service):
                    wait_listening(service)
                    central.publish("cmd", json.dumps(body).encode())
                    # The busy timeout runs out first; the lock is given up only after the stop.
                    wait_for("the answer kept in memory, the database locked", answer_waits, timeout=120)
            finally:
                for db in holders:
                    db.execute("ROLLBACK")
                    db.close()
        assert mine() == []  # nothing went up before the stop
        assert len(pulses.read_text().splitlines()) == 1
        with running(cfg) as (gw, service):
            wait_listening(service)
            replies = wait_for("the answer after the restart", mine, timeout=120)
            assert service.inbox.waiting(("command",)) == []
            with sqlite3.connect(cfg.site.data_dir / "gateway.db") as db:
                actions = db.execute(
                    "SELECT action FROM audit WHERE action IN ('command_accepted', 'lane.open', "
                    "'command_done', 'command_refused') ORDER BY id"
                ).fetchall()
    finally:
        central.close()
        sub.close()
    assert len(replies) == 1 and replies[0]["ok"] is True, replies
    assert replies[0]["result"] == {"lane": "car-in"}, replies
    assert actions == [("command_accepted",), ("lane.open",), ("command_done",)], actions
    assert len(pulses.read_text().splitlines()) == 1  # the gate opened once
