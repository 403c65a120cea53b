"""The outbox: every record that goes upstream is queued here in the same transaction as the record."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from gateway.ids import uuid7
from gateway.timefmt import to_db

PAYLOAD_VERSION = 1


def enqueue(
    conn: sqlite3.Connection,
    topic: str,
    payload: dict[str, Any],
    at: datetime,
    event_id: str | None = None,
) -> str:
    """Queue one upstream message; call inside the transaction that writes the record itself."""
    event_id = event_id or uuid7()
    body = {"v": PAYLOAD_VERSION, "type": topic, "event_id": event_id, **payload}
    conn.execute(
        "INSERT INTO outbox (event_id, topic, payload, created_at) VALUES (?, ?, ?, ?)",
        (event_id, topic, json.dumps(body, ensure_ascii=False), to_db(at)),
    )
    return event_id
