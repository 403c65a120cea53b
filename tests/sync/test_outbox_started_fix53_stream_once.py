"""The `outbox_started` record that opens a stream carries its `stream` once (review 53e): its stored
payload names the stream, and the uplink put it in front again, so the message held the key twice,
which strict JSON readers on the central server (Jackson with duplicate detection, .NET's
JsonObject) refuse: the record that tells the centre where the stream starts was lost to them."""

from __future__ import annotations

import json
from typing import Any

from conftest import SITE, running
from sync_helpers import Mosquitto, Subscriber, wait_for

from gateway.config import SiteConfig


def _keys_given_twice(raw: bytes) -> list[str]:
    twice: list[str] = []

    def pairs_to_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in pairs]
        twice.extend(sorted({name for name in names if names.count(name) > 1}))
        return dict(pairs)

    json.loads(raw, object_pairs_hook=pairs_to_dict)
    return twice


def test_the_record_opening_a_stream_names_it_once(broker: Mosquitto, sync_cfg: Any) -> None:
    cfg: SiteConfig = sync_cfg(broker.port)
    sub = Subscriber(broker, [f"estate/{SITE}/events/#"], client_id="central-watch")
    try:
        with running(cfg):
            raw = wait_for(
                "outbox_started",
                lambda: [p for topic, p, _ in sub.messages if topic.endswith("/outbox_started")],
            )[0]
    finally:
        sub.close()
    assert _keys_given_twice(raw) == [], raw
    body = json.loads(raw)
    assert body["type"] == "outbox_started" and body["stream"] and body["seq"] >= body["first_seq"], body
