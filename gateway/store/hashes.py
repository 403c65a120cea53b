"""SQL that finds rows by a keyed hash (of a phone or ID number), as residents and passes keep them."""

from __future__ import annotations


def hash_in(column: str, n: int) -> str:
    """A WHERE condition: `column` is one of `n` hashes, given as that many parameters."""
    marks = ", ".join("?" * n)
    # "!= ''" names the partial index's condition: without it SQLite reads every row.
    return f"{column} != '' AND {column} IN ({marks})"
