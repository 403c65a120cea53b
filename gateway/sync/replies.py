"""Replies to the central server's commands that fit in one MQTT message: a reply over
max_message_bytes would be set aside, and the central server left without an answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


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
        where, key = max(texts, key=lambda place: len(place[0][place[1]]), default=(fitted, "id"))
        if key == "id" or len(where[key]) <= 16:
            break  # nothing left worth cutting: max_message_bytes is too small for any answer
        where[key] = where[key][: len(where[key]) // 2] + "…"
    return fitted


def texts_of(value: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str]]:
    """Where each text of a reply stands, nested ones too."""
    for key, item in value.items():
        if isinstance(item, str):
            yield value, key
        elif isinstance(item, dict):
            yield from texts_of(item)
