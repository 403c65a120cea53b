"""Look-alike matching at lanes that allow it (plate_match = "confusable"): a reading nobody registered
is the one registered plate a single look-alike character away (plates.matcher.CONFUSABLE_GROUPS), and
no plate when two or more are that close.

Asked of the register itself, on the connection that decides: the few dozen texts one look-alike
character from the reading are looked up at once on credentials' (kind, value) index (about 10 µs on
110,000 plates). A plate registered, changed or struck off counts from the next decision, whatever
wrote it (the office, an import, the centre's snapshot or delta, a restore), as it does for exact
matching. An index of every plate in memory, rebuilt when they changed (at most every 30 s), let a
reading be taken for an older plate although one registered meanwhile was as close (review 51d), and
cost the decision that rebuilt it about half a second on such a site.
"""

from __future__ import annotations

import sqlite3

from plates.grammar import normalize
from plates.matcher import lookalikes


def lookalike_of(conn: sqlite3.Connection, reading: str) -> str | None:
    """The one registered plate a single look-alike character from `reading`, or None: none is, or
    several are (which of them the camera saw is not ours to guess)."""
    texts = lookalikes(normalize(reading))
    if not texts:
        return None
    marks = ", ".join("?" * len(texts))
    sql = f"SELECT value FROM credentials WHERE kind = 'plate' AND value IN ({marks}) LIMIT 2"
    found = conn.execute(sql, texts).fetchall()
    return str(found[0][0]) if len(found) == 1 else None
