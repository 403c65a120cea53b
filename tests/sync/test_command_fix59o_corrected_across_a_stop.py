"""A command signed again, corrected, under an id a refusal left free is still taken up across a
stop (docs/mqtt.md, Remote commands: An id used, or left free; Across a stop). Found and proved by
reviewer 59o: `open_lane` with args it does not take (`{"gate": "car-in"}`) is refused `bad_args`
before it is accepted, its id left free; the centre signs it again corrected under that id, and the
box loses power before handling it, or after accepting it but before its reply. At the next start
the first command's `command_refused` row made the corrected one look answered: it neither ran nor
was answered (no cmd/reply, no audit row, no log line), and the broker's copy was dropped too."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any

from conftest import SITE, running
from sync_helpers import Mosquitto, Subscriber
from test_sync_commands import KEY, command, write_key

from gateway.config import SiteConfig
from gateway.sync.commands import sign, verify
from gateway.sync.inbox import INBOX_NAME, Inbox


def _typo(service: Any) -> tuple[bytes, bytes, str]:
    """The typo, refused `bad_args` (its id left free), and the command corrected under its id."""
    typo = command("open_lane", {"gate": "car-in", "reason": "访客"}, life=240)
    payload = json.dumps(typo).encode()
    reply = service.commands._pool.submit(service.commands.run, payload).result()
    assert reply["code"] == "bad_args"
    unsigned = {k: v for k, v in typo.items() if k != "sig"}
    corrected = sign({**unsigned, "args": {"lane": "car-in", "reason": "访客"}}, KEY)
    return payload, json.dumps(corrected).encode(), typo["id"]


def _replies(sub: Subscriber, cid: str, wanted: int) -> list[dict[str, Any]]:
    """The answers under `cid` once `wanted` came, or what came within 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(_under(sub, cid)) < wanted:
        time.sleep(0.1)
    time.sleep(0.5)  # a further answer, if any
    return _under(sub, cid)


def _under(sub: Subscriber, cid: str) -> list[dict[str, Any]]:
    """One of each: the outbox sends again, at least once, what it sent as the gateway stopped (a
    second answer has an `at` of its own)."""
    replies = [r for r in sub.payloads("/cmd/reply") if r["id"] == cid]
    return [r for i, r in enumerate(replies) if r not in replies[:i]]


def _pulses(cfg: SiteConfig) -> int:
    log = cfg.site.data_dir / "pulses.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_the_corrected_command_accepted_then_cut_short_by_a_power_cut_is_answered_replayed(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    try:
        with running(cfg) as (gw, service):
            _, corrected, cid = _typo(service)
            # Kept in the inbox and accepted; the power goes before its reply (the gate may have opened).
            Inbox(gw.data_dir / INBOX_NAME).keep("command", corrected)
            cmd = verify(corrected, KEY, SITE, gw.now(), 300, 60)
            gw.on_worker(lambda conn: service.commands._accept(conn, cmd, gw.now())).result()
        with running(cfg):
            replies = _replies(sub, cid, 2)
    finally:
        sub.close()
    assert [r["code"] for r in replies] == ["bad_args", "replayed"]
    assert "accepted before the gateway stopped" in replies[1]["message"]
    assert _pulses(cfg) == 0  # not run again


def test_the_corrected_command_kept_but_not_yet_handled_at_a_power_cut_runs_at_the_next_start(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    try:
        with running(cfg) as (gw, service):
            _, corrected, cid = _typo(service)
            Inbox(gw.data_dir / INBOX_NAME).keep(
                "command", corrected
            )  # before the PUBACK; then the power goes
        with running(cfg) as (gw, _):
            replies = _replies(sub, cid, 2)
            with closing(sqlite3.connect(gw.db_path)) as conn:
                rows = conn.execute("SELECT action FROM audit WHERE action LIKE 'command_%' ORDER BY id")
                actions = [action for (action,) in rows]
    finally:
        sub.close()
    assert [r.get("code", r["ok"]) for r in replies] == ["bad_args", True]
    assert actions == ["command_refused", "command_accepted", "command_done"]
    assert _pulses(cfg) == 1


def test_the_typo_itself_left_in_the_inbox_after_its_refusal_is_not_answered_again(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """The stop came between the typo's refusal on record and the inbox letting go of it: it is not
    answered a second time, and the corrected command behind it still runs."""
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    try:
        with running(cfg) as (gw, service):
            typo, corrected, cid = _typo(service)
            inbox = Inbox(gw.data_dir / INBOX_NAME)
            inbox.keep("command", typo)
            inbox.keep("command", corrected)
        with running(cfg):
            replies = _replies(sub, cid, 2)  # a second `bad_args` comes before the `ok`
    finally:
        sub.close()
    assert [r.get("code", r["ok"]) for r in replies] == ["bad_args", True]
    assert _pulses(cfg) == 1
