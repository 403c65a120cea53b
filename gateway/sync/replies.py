"""Answers to the central server that fit in one MQTT message (command replies, sync errors): one
over max_message_bytes would be set aside, and the central server left without an answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from gateway.sync.topics import Topics

# What the outbox and the uplink add around an answer's own fields (v, type, event_id, at, seq,
# stream and the site's key): its room is max_message_bytes less this, the topic and the site id.
ENVELOPE_BYTES = 256


def room(max_message_bytes: int, topic_prefix: str, site: str, record_type: str) -> int:
    """The bytes an answer of `record_type` may take for its upstream message to fit."""
    topic = Topics(topic_prefix, site).upstream(record_type)
    assert topic is not None  # None only for a type that cannot be a topic level
    return max_message_bytes - ENVELOPE_BYTES - len(topic.encode()) - len(site.encode())


def seq_runs(seqs: list[int]) -> str:
    """Seqs as runs, "1042-1050,1060": 40,000 records sent again are a few characters, not 300 kB."""
    runs: list[list[int]] = []
    for seq in sorted(seqs):
        if runs and seq == runs[-1][1] + 1:
            runs[-1][1] = seq
        else:
            runs.append([seq, seq])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def fit(reply: dict[str, Any], room: int) -> dict[str, Any]:
    """The reply, its longest texts (never its id) cut short until it fits in `room` bytes: one
    over max_message_bytes would be set aside, and the central server left without an answer."""
    fitted: dict[str, Any] = json.loads(json.dumps(reply))
    while len(json.dumps(fitted, ensure_ascii=False).encode()) > room:
        texts = [(where, key) for where, key in texts_of(fitted) if where is not fitted or key != "id"]
        if not texts:
            break  # nothing but its id: max_message_bytes is too small for any answer
        where, key = max(texts, key=lambda place: len(place[0][place[1]]))
        if len(where[key]) <= 16:
            break  # nothing left worth cutting: max_message_bytes is too small for any answer
        where[key] = where[key][: len(where[key]) // 2] + "…"
    return fitted


def texts_of(value: dict[str, Any] | list[Any]) -> Iterator[tuple[dict[str, Any] | list[Any], Any]]:
    """Where each text of a reply stands, nested ones too: in objects, and in lists (a sync
    error's problems)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, str):
            yield value, key
        elif isinstance(item, dict | list):
            yield from texts_of(item)
