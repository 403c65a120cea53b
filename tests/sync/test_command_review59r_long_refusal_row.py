"""A refusal that leaves a command's id free keeps signed_sha256 in its audit row (859c43a), after
the id. Where an id and a name full of characters JSON escapes (an id of 64 backslashes is valid)
push that row past audit.detail's 500 characters, the row is cut short and no longer parses, and
it was taken for an answer of whatever is under the id: the command the centre signed again under
that id, corrected, left in the inbox by a stop, was neither run nor answered at the next start
(Review 59r). The digest is read from the cut row: it is another command's."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from typing import Any

from conftest import SITE, running
from sync_helpers import Subscriber
from test_sync_commands import KEY, command, write_key

from gateway.sync.commands import sign
from gateway.sync.inbox import INBOX_NAME, Inbox


def test_corrected_command_after_a_long_refusal_runs_at_the_next_start(broker, sync_cfg):
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    cid = "\\" * 64  # printable ASCII without spaces, 64 characters: a valid id
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    try:
        typo = command("open_lane" + "\\" * 100, life=240, key=None, id=cid)
        typo = sign(typo, KEY)
        with running(cfg) as (gw, service):
            reply = service.commands._pool.submit(service.commands.run, json.dumps(typo).encode()).result()
            assert reply["code"] == "unknown_command"
            unsigned = {k: v for k, v in typo.items() if k != "sig"}
            corrected = sign({**unsigned, "name": "open_lane"}, KEY)
            Inbox(gw.data_dir / INBOX_NAME).keep("command", json.dumps(corrected).encode())
            with closing(sqlite3.connect(gw.db_path)) as conn:
                (detail,) = conn.execute("SELECT detail FROM audit WHERE action='command_refused'").fetchone()
            print("refusal row length", len(detail))
        with running(cfg) as (gw, _):
            deadline = time.monotonic() + 60  # a bound on a hang under load, not a speed
            while time.monotonic() < deadline and len(answers(sub, cid)) < 2:
                time.sleep(0.1)
            time.sleep(0.5)
            replies = answers(sub, cid)
    finally:
        sub.close()
    log = cfg.site.data_dir / "pulses.log"
    pulses = len(log.read_text().splitlines()) if log.exists() else 0
    assert [r.get("code", r["ok"]) for r in replies][:2] == [
        "unknown_command",
        True,
    ]  # the corrected one answered
    assert pulses == 1  # the corrected open_lane ran


def answers(sub: Subscriber, cid: str) -> list[dict[str, Any]]:
    """The replies to command `cid`, each answer once: a reply's record may come twice (at least
    once, docs/mqtt.md: the first gateway stopped before the broker's PUBACK of its refusal was on
    record, and the second sent it again; a clean-clone CI run saw it under load)."""
    seen: dict[str, dict[str, Any]] = {}
    for reply in sub.payloads("/cmd/reply"):
        if reply["id"] == cid:
            seen.setdefault(reply["event_id"], reply)
    return list(seen.values())
