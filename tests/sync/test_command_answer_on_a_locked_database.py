"""The answer to a command done just as another process holds the database (docs/mqtt.md, Remote
commands: Storage that takes no writes)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from sync_helpers import Mosquitto, wait_for
from test_sync_commands import command, pulses, write_key
from test_sync_downlink import _site

from gateway.config import SiteConfig
from gateway.runtime.hand_lanes import HandLanes


def opened_then_held(cfg: SiteConfig) -> tuple[Callable[..., Any], list[sqlite3.Connection]]:
    """HandLanes.open_lane as it is, then another process holding gateway.db (BEGIN IMMEDIATE)
    right after the pulse, as the command's answer is written; and the connections holding it."""
    real_open = HandLanes.open_lane
    holders: list[sqlite3.Connection] = []

    def open_lane(self: HandLanes, lane: str, actor: str, reason: str) -> Any:
        done = real_open(self, lane, actor, reason)
        db = sqlite3.connect(cfg.site.data_dir / "gateway.db", isolation_level=None, check_same_thread=False)
        db.execute("BEGIN IMMEDIATE")
        holders.append(db)
        return done

    return open_lane, holders


def test_an_open_lane_whose_answer_meets_a_locked_database_is_answered_while_the_gateway_runs(
    broker: Mosquitto,
    sync_cfg: Callable[..., SiteConfig],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The centre's open_lane is accepted on record, `lane.open` written, the relay pulses: the
    gate opens. Then another process (a `gateway import`, a sqlite3 shell) holds gateway.db past
    the busy timeout just as the answer, `command_done`, is written. The command was left in the
    inbox, "tried again at the next start": nothing reached cmd/reply while the gateway ran on,
    maybe for days, and the next start answered `replayed`, "whether it took effect is not known",
    though the gate had opened. Its answer now waits in memory, as a command accepted in memory
    does, and goes up, `ok`, once the lock is gone; the gate opens once."""
    caplog.set_level(logging.INFO)
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    open_lane, holders = opened_then_held(cfg)
    monkeypatch.setattr(HandLanes, "open_lane", open_lane)
    body = command("open_lane", {"lane": "car-in", "reason": "visitor at gate"}, life=300)

    def answer_waits() -> bool:
        return any("remote command answered not recorded" in r.getMessage() for r in caplog.records)

    with _site(broker, cfg) as site:
        try:
            site.central.publish("cmd", json.dumps(body).encode())
            # The busy timeout (10 s) runs out first; the lock is given up only then.
            wait_for("the answer kept in memory, the database locked", answer_waits, timeout=120)
        finally:
            for db in holders:
                db.execute("ROLLBACK")
                db.close()
        replies = wait_for(
            "the answer while the gateway runs",
            lambda: [r for r in site.upstream("/cmd/reply") if r.get("id") == body["id"]],
            timeout=120,
        )
        assert replies[0]["ok"] is True and replies[0]["result"] == {"lane": "car-in"}, replies
        actions = site.rows(
            "SELECT action FROM audit WHERE action IN ('command_accepted', 'lane.open', 'command_done', "
            "'command_refused') ORDER BY id"
        )
        assert actions == [("command_accepted",), ("lane.open",), ("command_done",)], actions
        assert len(pulses(site)) == 1
    assert len(holders) == 1
