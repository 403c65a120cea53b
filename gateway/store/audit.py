"""The audit trail: who changed what and when, written in the same transaction as the change."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from gateway.store.database import transaction
from gateway.timefmt import to_db

__all__ = ["audit", "transaction"]


def audit(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    action: str,
    target: str = "",
    detail: str = "",
) -> int:
    """Append one audit row; the caller owns the transaction. Never put phone or ID numbers here."""
    cur = conn.execute(
        "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (to_db(at), actor, action, target, detail[:500]),
    )
    return int(cur.lastrowid or 0)


def recent_audit(
    conn: sqlite3.Connection,
    limit: int = 100,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
) -> list[dict[str, Any]]:
    cur = conn.execute(
        """SELECT id, at, actor, action, target, detail FROM audit
           WHERE (:actor IS NULL OR actor = :actor)
             AND (:action IS NULL OR action LIKE :action || '%')
             AND (:target IS NULL OR target = :target)
           ORDER BY id DESC LIMIT :limit""",
        {"actor": actor, "action": action, "target": target, "limit": limit},
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]
