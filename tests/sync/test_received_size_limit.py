"""A message larger than [mqtt] max_received_kb never reaches the gateway's memory or its inbox
(docs/mqtt.md, Connection: Limits). Found by reviewer 59d: the CONNECT named no Maximum Packet
Size, so mosquitto delivered messages of up to 256 MB, each taken whole into the lanes' process
and written to sync-inbox.db before it was refused."""

from __future__ import annotations

import json
import logging
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from conftest import SITE
from sync_helpers import Mosquitto
from test_sync_commands import command, send, write_key
from test_sync_downlink import _site

from gateway.config import SiteConfig
from gateway.sync.client import Connection, LinkEvent, Settings

_DROPPED = "dropped, not kept"
# A stranger's client, in a process of its own: its 60 MB are not counted as the gateway's.
_PUBLISH = """
import sys, paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="stranger", protocol=mqtt.MQTTv5)
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_start()
data = open(sys.argv[3], "rb").read()
infos = [c.publish(sys.argv[2], data, qos=1) for _ in range(int(sys.argv[4]))]
for i in infos: i.wait_for_publish(120)
c.disconnect(); c.loop_stop()
"""


def _forged_command(path: Path, megabytes: int) -> None:
    """A forged open_lane whose lane is `megabytes` MB long, written without holding it."""
    head, tail = json.dumps(command(args={"lane": "@", "reason": "r"}, key=b"not the key" * 3)).split("@")
    with path.open("wb") as out:
        out.write(head.encode())
        for _ in range(megabytes):
            out.write(b"x" * 1_000_000)
        out.write(tail.encode())


def test_forged_60_mb_commands_take_neither_memory_nor_the_inbox(
    broker: Mosquitto,
    sync_cfg: Callable[..., SiteConfig],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="gateway.sync.client")
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    big = tmp_path / "big.json"
    _forged_command(big, 60)
    with _site(broker, cfg) as site:
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB
        subprocess.run(
            [sys.executable, "-c", _PUBLISH, str(broker.port), f"estate/{SITE}/cmd", str(big), "2"],
            check=True,
            timeout=120,
        )
        # Commands are handled in turn: once the next one is answered, the forged ones would be.
        assert send(site, command("resync", {"reason": "after the big ones"}))["ok"] is True
        grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
        assert grown_mb < 40, f"the gateway's peak memory grew by {grown_mb:.0f} MB"
        assert site.service.commands.refused == 0
        assert site.rows("SELECT count(*) FROM audit WHERE action = 'command_refused'") == [(0,)]
    # The broker held them back, told the limit in CONNECT: none reached the gateway to be dropped.
    assert not any(_DROPPED in r.getMessage() for r in caplog.records)


def test_a_message_over_the_limit_from_a_broker_that_sends_it_anyway_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A broker that ignores the Maximum Packet Size the gateway announced: what is over it is
    not handed on (kept, parsed, answered), and the journal says so once, not once a message."""
    events: list[LinkEvent] = []
    conn = Connection(Settings("127.0.0.1", 1883, "gw", max_packet_size=64 * 1024), events.append)
    big, small = paho.MQTTMessage(1, b"estate/s/cmd"), paho.MQTTMessage(2, b"estate/s/cmd")
    big.payload, small.payload = b"x" * (64 * 1024 + 1), b"{}"
    with caplog.at_level(logging.WARNING, logger="gateway.sync.client"):
        for message in (big, big, small):
            conn._on_message(conn._client, None, message)
    assert [getattr(ev, "payload", None) for ev in events] == [b"{}"]
    assert conn.dropped == 2
    assert [r.getMessage() for r in caplog.records if _DROPPED in r.getMessage()] == [
        "message on 'estate/s/cmd' of 65537 bytes dropped, not kept: over [mqtt] max_received_kb (65536 "
        "bytes; and 0 others since the last such line) fix: send smaller snapshot parts from the "
        "central server, or raise max_received_kb; check who may publish there in the broker's ACL"
    ]
