"""A command refused before it was accepted (its id left free), left in the inbox by a stop between
its refusal on record and the inbox letting go (the case ca5dd2d defends), is not answered again at
the next start, nor run, whatever the key or [mqtt] became across that stop (docs/mqtt.md, Remote
commands: Across a stop). Found and proved by reviewer 59q: ca5dd2d told the refused command by
verifying it again, as at its refusal's time but with today's key, site id, command_max_age_s and
clock_skew_s; with the key installed or command_max_age_s raised since, the command the centre
was told was refused opened the barrier, and a typo refused `bad_args` was answered twice. The
refusal's audit row now says what the signature covered (its sha256), and only that is compared."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from contextlib import closing
from datetime import datetime
from typing import Any

from conftest import SITE, running
from sync_helpers import Mosquitto, Subscriber
from test_sync_commands import TZ, command, write_key

from gateway.config import SiteConfig
from gateway.store.audit import audit
from gateway.sync.inbox import INBOX_NAME, Inbox

OLD_KEY = b"o" * 32
NEW_KEY = b"n" * 32


def _replies(sub: Subscriber, cid: str) -> list[dict[str, Any]]:
    time.sleep(3)  # the start's answers, if any, go up
    replies = [r for r in sub.payloads("/cmd/reply") if r["id"] == cid]
    return [r for i, r in enumerate(replies) if r not in replies[:i]]


def _pulses(cfg: SiteConfig) -> int:
    log = cfg.site.data_dir / "pulses.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def _refused_then_left_in_inbox(cfg: SiteConfig, payload: bytes, code: str) -> None:
    """Refused and recorded; the stop came before the inbox let go of it."""
    with running(cfg) as (gw, service):
        reply = service.commands._pool.submit(service.commands.run, payload).result()
        assert reply is not None and reply["code"] == code, reply
        Inbox(gw.data_dir / INBOX_NAME).keep("command", payload)


def test_refused_bad_signature_then_key_installed_does_not_open_the_gate(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """The centre rotated its key before the box had the new one: open_lane refused bad_signature.
    The installer puts the new key in place and the gateway restarts: the refused command is not
    run, nor answered again."""
    cfg = sync_cfg(broker.port)
    write_key(cfg, OLD_KEY)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    try:
        body = command(life=240, key=NEW_KEY)
        _refused_then_left_in_inbox(cfg, json.dumps(body).encode(), "bad_signature")
        write_key(cfg, NEW_KEY)
        with running(cfg):
            replies = _replies(sub, body["id"])
    finally:
        sub.close()
    assert _pulses(cfg) == 0
    assert [r.get("code", r["ok"]) for r in replies] == ["bad_signature"]
    assert "signed_sha256" not in replies[0]  # in its audit row only


def test_typo_refused_bad_args_then_key_rotated_is_answered_once(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    cfg = sync_cfg(broker.port)
    write_key(cfg, OLD_KEY)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    try:
        body = command("open_lane", {"gate": "car-in", "reason": "访客"}, life=240, key=OLD_KEY)
        _refused_then_left_in_inbox(cfg, json.dumps(body).encode(), "bad_args")
        write_key(cfg, NEW_KEY)
        with running(cfg):
            replies = _replies(sub, body["id"])
    finally:
        sub.close()
    assert [r["code"] for r in replies] == ["bad_args"]


def test_refused_bad_lifetime_then_max_age_raised_does_not_open_the_gate(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """The centre's commands live 400 s; refused bad_lifetime (command_max_age_s = 300). The
    installer raises command_max_age_s to 600 and restarts: the refused command is not run."""
    cfg = sync_cfg(broker.port, command_max_age_s=300)
    write_key(cfg)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    try:
        body = command(life=400)
        _refused_then_left_in_inbox(cfg, json.dumps(body).encode(), "bad_lifetime")
        cfg = sync_cfg(broker.port, command_max_age_s=600)
        with running(cfg):
            replies = _replies(sub, body["id"])
    finally:
        sub.close()
    assert _pulses(cfg) == 0
    assert [r.get("code", r["ok"]) for r in replies] == ["bad_lifetime"]


def test_a_refusal_recorded_before_59q_still_answers_the_command(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """A refusal row without what the signature covered (written before this change) counts as
    the answer of the command under its id, as before ca5dd2d: the key installed since, it does
    not run."""
    cfg = sync_cfg(broker.port)
    write_key(cfg, OLD_KEY)
    sub = Subscriber(broker, [f"estate/{SITE}/cmd/reply"], client_id="central-watch")
    try:
        body = command(life=240, key=NEW_KEY)
        with running(cfg) as (gw, _):  # its refusal on record as rows were written before 59q
            Inbox(gw.data_dir / INBOX_NAME).keep("command", json.dumps(body).encode())
            refused = {
                "id": body["id"],
                "name": "open_lane",
                "ok": False,
                "code": "bad_signature",
                "message": "-",
            }
            with closing(sqlite3.connect(gw.db_path)) as conn, conn:
                audit(
                    conn, datetime.now(TZ), "unverified", "command_refused", "open_lane", json.dumps(refused)
                )
        write_key(cfg, NEW_KEY)
        with running(cfg):
            replies = _replies(sub, body["id"])
    finally:
        sub.close()
    assert _pulses(cfg) == 0
    assert replies == []  # answered before the stop, not again
