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

# A sync error's problem that quotes a value cut at QUOTED_CHARS (80) reads whole in this, with its
# entry and its reason: past it, problems are left off rather than cut.
READABLE_CHARS = 160
# Shorter than this, a text cut again says nothing: max_message_bytes is too small for any answer.
CUT_CHARS = 16


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
    over max_message_bytes would be set aside, and the central server left without an answer.
    A sync error's `problems` are cut only down to READABLE_CHARS; those that still do not fit are
    left off from the end and counted in `problems_more`, before anything is cut further (the first
    problems whole tell the centre more than fifty cut to their first words)."""
    fitted: dict[str, Any] = json.loads(json.dumps(reply))
    _cut(fitted, room, READABLE_CHARS)
    problems = fitted.get("problems")
    if isinstance(problems, list):
        while problems and _size(fitted) > room:
            problems.pop()
            fitted["problems_more"] = fitted.get("problems_more", 0) + 1
    _cut(fitted, room, CUT_CHARS)
    return fitted


def _size(reply: dict[str, Any]) -> int:
    return len(json.dumps(reply, ensure_ascii=False).encode())


def _cut(reply: dict[str, Any], room: int, down_to: int) -> None:
    """Halve the longest text (never the reply's id) until `reply` fits in `room` bytes or no text
    is longer than `down_to` characters."""
    while _size(reply) > room:
        texts = [(where, key) for where, key in texts_of(reply) if where is not reply or key != "id"]
        if not texts:
            return  # nothing but its id: max_message_bytes is too small for any answer
        where, key = max(texts, key=lambda place: len(place[0][place[1]]))
        if len(where[key]) <= down_to:
            return
        where[key] = where[key][: len(where[key]) // 2] + "…"


def texts_of(value: dict[str, Any] | list[Any]) -> Iterator[tuple[dict[str, Any] | list[Any], Any]]:
    """Where each text of a reply stands, nested ones too: in objects, and in lists (a sync
    error's problems)."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, str):
            yield value, key
        elif isinstance(item, dict | list):
            yield from texts_of(item)
