"""Remote commands: accepted only signed with the gateway's key, for this site, once, in time."""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import SITE
from sync_helpers import Mosquitto, wait_for
from test_sync_downlink import Site, _site

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.store.database import transaction
from gateway.store.outbox import enqueue, quarantine
from gateway.sync.commands import REFUSALS_RECORDED_PER_MINUTE, CommandRefused, sign, verify
from tests.set_aside_helpers import REASON, open_quarantine_alarms, set_aside_records

KEY = b"k" * 32
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2024, 5, 1, 10, 0, tzinfo=TZ)


def command(
    name: str = "open_lane",
    args: dict[str, str] | None = None,
    *,
    site: str = SITE,
    issued: datetime | None = None,
    life: int = 60,
    key: bytes | None = KEY,
    **extra: Any,
) -> dict[str, Any]:
    issued = issued or datetime.now(TZ)
    body = {
        "v": 1,
        "type": "command",
        "id": str(uuid.uuid4()),
        "site": site,
        "name": name,
        "args": args if args is not None else {"lane": "car-in", "reason": "visitor at gate"},
        "actor": "zhang",
        "issued_at": issued.isoformat(),
        "expires_at": (issued + timedelta(seconds=life)).isoformat(),
        **extra,
    }
    return sign(body, key) if key is not None else body


def refusal(body: dict[str, Any] | bytes, key: bytes | None = KEY, now: datetime = NOW) -> str:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    with pytest.raises(CommandRefused) as exc:
        verify(data, key, SITE, now, max_age_s=300, skew_s=60)
    return exc.value.code


def test_a_signed_command_verifies() -> None:
    cmd = verify(json.dumps(command(issued=NOW)).encode(), KEY, SITE, NOW, 300, 60)
    assert (cmd.name, cmd.args["lane"], cmd.actor) == ("open_lane", "car-in", "central:zhang")


@pytest.mark.parametrize(
    ("body", "key", "now", "code"),
    [
        (b"{not json", KEY, NOW, "malformed"),
        (command(issued=NOW, key=None), KEY, NOW, "unsigned"),
        (command(issued=NOW), None, NOW, "no_key"),
        (command(issued=NOW, key=b"x" * 32), KEY, NOW, "bad_signature"),
        ({**command(issued=NOW), "args": {"lane": "door"}}, KEY, NOW, "bad_signature"),  # tampered
        ({**command(issued=NOW), "sig": "é" * 64}, KEY, NOW, "bad_signature"),
        ({**command(issued=NOW), "sig": "0" * 63}, KEY, NOW, "bad_signature"),
        (command(issued=NOW, site="other-site"), KEY, NOW, "wrong_site"),
        (command(issued=NOW), KEY, NOW + timedelta(seconds=60 + 61), "expired"),
        (command(issued=NOW + timedelta(seconds=120)), KEY, NOW, "not_yet_valid"),
        (command(issued=NOW, life=3600), KEY, NOW, "bad_lifetime"),
        (command("reboot", {}, issued=NOW), KEY, NOW, "unknown_command"),
        (command("open_lane", {"gate": "x"}, issued=NOW), KEY, NOW, "bad_args"),
    ],
)
def test_refused_commands(body: dict[str, Any] | bytes, key: bytes | None, now: datetime, code: str) -> None:
    assert refusal(body, key, now) == code


def test_within_the_clock_skew_a_command_still_counts() -> None:
    late = NOW + timedelta(seconds=60 + 59)
    assert verify(json.dumps(command(issued=NOW)).encode(), KEY, SITE, late, 300, 60).name == "open_lane"


def write_key(cfg: SiteConfig, key: bytes = KEY) -> None:
    """The command key, as docs/mqtt.md says to make it: readable by its owner only."""
    path = cfg.site.data_dir / "command.key"
    path.write_text(key.decode() + "\n")
    path.chmod(0o600)  # else the start warns of it, among the warnings some tests count


@pytest.fixture
def site(broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]) -> Iterator[Site]:
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    with _site(broker, cfg) as s:
        yield s


def send(site: Site, body: dict[str, Any] | bytes) -> dict[str, Any]:
    """Publish a command and return the reply to it. A restarted gateway may still deliver
    replies its outbox held from before, so the reply is matched by the command's id."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    wanted = None if isinstance(body, bytes) else body.get("id")
    before = len(site.upstream("/cmd/reply"))
    site.central.publish("cmd", data)

    def reply() -> dict[str, Any] | None:
        new = site.upstream("/cmd/reply")[before:]
        return next((r for r in new if wanted is None or r.get("id") == wanted), None)

    return wait_for("the reply to this command", reply)


def pulses(site: Site) -> list[str]:
    log = site.gw.data_dir / "pulses.log"
    return log.read_text().splitlines() if log.exists() else []


def test_open_a_gate_is_audited_then_done_and_answered(site: Site) -> None:
    body = command("open_lane", {"lane": "car-in", "reason": "访客 no QR"})
    reply = send(site, body)
    assert reply["id"] == body["id"] and reply["ok"] is True and reply["result"]["lane"] == "car-in"
    (pulse,) = pulses(site)
    audit = site.rows("SELECT id, actor, action, target FROM audit ORDER BY id")
    assert [a[1:] for a in audit] == [
        ("central:zhang", "command_accepted", "open_lane"),
        ("central:zhang", "lane.open", "car-in"),
        ("central:zhang", "command_done", "open_lane"),
    ]
    assert pulse.endswith(f"audit:{audit[1][0]}")  # the pulse names the audit row behind it


def test_a_command_published_again_is_neither_run_nor_answered_again(site: Site) -> None:
    """The same command again (the broker's QoS 1 copy, or the centre publishing it twice) is
    not run; answered once, it is not answered again either: its second answer, `replayed`, told
    the centre that its first, `ok`, may not have happened."""
    body = command()
    assert send(site, body)["ok"] is True
    site.central.publish("cmd", json.dumps(body).encode())
    # Commands are handled in turn: once the next one is answered, the copy was handled.
    assert send(site, command("resync", {"reason": "after the copy"}))["ok"] is True
    assert [r["ok"] for r in site.upstream("/cmd/reply") if r.get("id") == body["id"]] == [True]
    assert len(pulses(site)) == 1


def test_an_unsigned_or_forged_command_is_refused_and_audited(site: Site) -> None:
    assert send(site, command(key=None))["code"] == "unsigned"
    assert send(site, command(key=b"not the key" * 3))["code"] == "bad_signature"
    assert send(site, {**command(), "sig": "签名" * 32})["code"] == "bad_signature"
    assert pulses(site) == []
    refused = site.rows("SELECT actor, action FROM audit")
    assert refused == [("unverified", "command_refused")] * 3


def test_set_a_lane_closed_then_normal(site: Site) -> None:
    assert site.card_reason("C0001") == "unknown"
    site.snapshot(
        1,
        [
            {"kind": "resident", "ref": "R1", "building": "1", "unit": "1", "name": "甲"},
            {"kind": "card", "card": "C0001", "resident": "R1"},
        ],
    )
    site.wait_applied(1)
    reply = send(site, command("set_lane_mode", {"lane": "door", "mode": "closed"}))
    assert reply["ok"] is True
    assert site.card_reason("C0001") == "lane_closed"
    assert send(site, command("set_lane_mode", {"lane": "door", "mode": "normal"}))["ok"] is True
    assert site.card_reason("C0001") == "resident"
    bad = send(site, command("set_lane_mode", {"lane": "door", "mode": "party"}))
    assert bad["ok"] is False and bad["code"] == "bad_args"


def test_a_closed_lane_stays_closed_and_an_open_one_held_across_a_restart(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    with _site(broker, cfg) as site:
        assert send(site, command("set_lane_mode", {"lane": "door", "mode": "closed"}))["ok"]
        assert send(site, command("set_lane_mode", {"lane": "car-in", "mode": "open"}))["ok"]
        relay = site.gw.devices.lanes["car-in"].relays[0]
        assert relay.held is True  # type: ignore[attr-defined]
    with _site(broker, cfg) as site:
        assert site.gw.lane_modes == {"door": "closed"}
        relay = site.gw.devices.lanes["car-in"].relays[0]
        assert relay.held is True and site.gw.by_hand.held == {"car-in": "central:zhang"}  # type: ignore[attr-defined]
        assert site.card_reason("C0001") == "lane_closed"
        assert send(site, command("set_lane_mode", {"lane": "door", "mode": "normal"}))["ok"]
        assert site.card_reason("C0001") == "unknown"


def test_a_resync_command_asks_for_a_snapshot(site: Site) -> None:
    reply = send(site, command("resync", {"reason": "guard reported stale cards"}))
    assert reply["ok"] is True
    request = wait_for("the snapshot request", lambda: site.asked())[0]
    assert request["reason"] == "guard reported stale cards"


def test_records_set_aside_are_sent_again_by_the_central_server(site: Site) -> None:
    """Once the central side has fixed what refused them (its ACL), it has them sent again."""
    (seq,) = set_aside_records(site.gw, "refused_kind")
    assert send(site, command("send_again", {"seqs": f"{seq + 100}"}))["code"] == "bad_args"
    assert send(site, command("send_again", {"seqs": "3;4"}))["code"] == "bad_args"
    reply = send(site, command("send_again", {"seqs": f"{seq},{seq + 100}"}))
    assert reply["ok"] is True
    assert reply["result"] == {"sent_again": f"{seq}", "sent_again_count": 1, "not_set_aside": f"{seq + 100}"}
    wait_for("the record sent again", lambda: site.upstream("/events/refused_kind"))
    assert site.rows("SELECT actor, target FROM audit WHERE action = 'outbox.send_again'") == [
        ("central:zhang", str(seq))
    ]
    assert open_quarantine_alarms(site.gw) == []


def set_aside_every(gw: Gateway, step: int, count: int) -> list[int]:
    """`count` access records set aside as the link does it, one in every `step` recorded."""

    def run(conn: sqlite3.Connection) -> list[int]:
        with transaction(conn):
            for n in range(count * step):
                enqueue(conn, "access", {"n": n}, gw.now())
            last = conn.execute("SELECT max(seq) FROM outbox").fetchone()[0]
            seqs = list(range(last - count * step + 1, last + 1, step))
            for seq in seqs:
                quarantine(conn, seq, REASON, gw.now())
        return seqs

    return gw.on_worker(run).result(timeout=10)


@pytest.mark.parametrize(("step", "sent_again"), [(1, "{first}-{last}"), (2, "{first},{second},")])
def test_sending_again_a_backlog_larger_than_a_message_is_answered(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], step: int, sent_again: str
) -> None:
    """After an ACL fixed, the central server has every record set aside sent again, and waits for
    the answer on cmd/reply. A reply naming each seq would be larger than `max_message_bytes`, and
    set aside itself: it is answered with a count and runs of seqs, cut short if they are still too
    long (records set aside among others)."""
    cfg = sync_cfg(broker.port, max_message_bytes=2048)
    write_key(cfg)
    with _site(broker, cfg) as site:
        seqs = set_aside_every(site.gw, step, 600)  # a list of them alone is over 3,000 bytes
        reply = send(site, command("send_again", {"seqs": "all", "reason": "ACL fixed"}))
        result = reply["result"]
        assert (reply["ok"], result["sent_again_count"]) == (True, 600)
        wanted = sent_again.format(first=seqs[0], second=seqs[1], last=seqs[-1])
        assert result["sent_again"].startswith(wanted)
        # 1,200 records through the broker: a bound on a hang, not a speed (30 s ran out in a
        # clean-clone CI run under four test workers on two cores).
        wait_for("every record sent", lambda: len(site.upstream("/events/access")) == 600 * step, timeout=120)
        assert site.rows("SELECT count(*) FROM outbox WHERE quarantined IS NOT NULL") == [(0,)]


def test_a_flood_of_forged_commands_does_not_fill_the_audit_trail(site: Site) -> None:
    """Whoever can publish to the command topic without the key (an ACL left open) is refused, and
    after 20 a minute no longer costs an audit row and an upstream reply each."""
    commands = site.service.commands
    clock = [1000.0]
    commands._clock = lambda: clock[0]
    for _ in range(REFUSALS_RECORDED_PER_MINUTE + 5):
        site.central.publish("cmd", json.dumps(command(key=b"not the key" * 3)).encode())
    wait_for("every forged command refused", lambda: commands.refused == REFUSALS_RECORDED_PER_MINUTE + 5)
    assert site.rows("SELECT count(*) FROM audit WHERE action = 'command_refused'") == [
        (REFUSALS_RECORDED_PER_MINUTE,)
    ]
    clock[0] += 61  # a minute later the next is recorded, naming the ones that were not
    reply = send(site, command(key=b"not the key" * 3))
    assert reply["code"] == "bad_signature" and reply["refused_unrecorded_before"] == 5
    assert send(site, command())["ok"] is True  # the real central server is never held back


def test_a_deeply_nested_command_is_answered(site: Site) -> None:
    """JSON nested deeper than the parser goes is refused as malformed, audited and answered."""
    reply = send(site, b"[" * 100_000 + b"]" * 100_000)
    assert reply["ok"] is False and reply["code"] == "malformed"
    assert site.rows("SELECT actor, action FROM audit") == [("unverified", "command_refused")]


def test_the_open_lane_reply_is_the_one_documented(site: Site) -> None:
    """docs/mqtt.md shows the central server's developers an open_lane reply: it is what comes.
    A relay that fails makes the reply `device_failed`, so an accepted one lists no failures."""
    docs = (Path(__file__).parents[2] / "docs" / "mqtt.md").read_text(encoding="utf-8")
    found = re.search(r'"name": "open_lane", "ok": true,\s*"result": (\{[^}]*\})', docs)
    assert found, "docs/mqtt.md no longer shows an open_lane reply"
    reply = send(site, command("open_lane", {"lane": "car-in", "reason": "访客"}))
    assert reply["ok"] is True and reply["result"] == json.loads(found.group(1))
