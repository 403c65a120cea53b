"""Downlink messages from the central server: JSON bytes to typed values, never an exception out.

Each parser returns its value or raises DownlinkRejected with a code for the error reply; the
entries themselves are checked when the snapshot or delta is staged (entries.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# Re-exported ("as"): QUOTED_CHARS, cut and quoted were this module's before the CSV rows needed them.
from gateway.quoting import QUOTED_CHARS as QUOTED_CHARS
from gateway.quoting import cut as cut
from gateway.quoting import quoted as quoted
from gateway.sync.errors import DownlinkRejected

SCHEMA_VERSION = 1
MAX_PARTS = 10_000
MAX_DELTA_ENTRIES = 5_000  # larger changes come as a snapshot, applied in steps
# Versions and counts are stored as SQLite integers (64-bit signed): larger ones are malformed.
MAX_INT = 2**63 - 1
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# The top-level fields of each message. Another is refused: a misspelt list ("deletes") read as
# an empty one was a delta applied without the change the centre meant (a card struck off kept opening).
_FIELDS = {
    "snapshot": ("v", "type", "version", "part", "parts", "total", "entries"),
    "delta": ("v", "type", "version", "base", "upsert", "delete"),
}


@dataclass(frozen=True, slots=True)
class SnapshotPart:
    version: int
    part: int  # 1-based
    parts: int
    total: int  # entries across all parts
    entries: list[Any]


@dataclass(frozen=True, slots=True)
class Delta:
    version: int
    base: int
    upsert: list[Any]
    delete: list[Any]


def read_json(data: bytes) -> Any:
    """The JSON value of a downlink message, or ValueError saying why there is none. Only UTF-8
    text (RFC 8259, 8.1): json.loads would also take UTF-16 bytes, raw surrogates and escaped lone
    ones ("\\ud800"), none of which can be written as UTF-8, so SQLite could not store them."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        raise ValueError(f"not JSON: {str(exc)[:200]}") from None
    if _SURROGATE_ESCAPE.search(text):  # rare: only then is the whole of it checked
        try:
            json.dumps(body, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise ValueError("holds a lone UTF-16 surrogate (such as \\ud800), which is not text") from None
        except RecursionError:  # read just below the limit, written again just above it
            raise ValueError("not JSON: nested too deep") from None
    return body


def load(data: bytes, expected_type: str) -> dict[str, Any]:
    try:
        body = read_json(data)
    except ValueError as exc:
        raise DownlinkRejected("malformed", str(exc)) from None
    if not isinstance(body, dict):
        raise DownlinkRejected("malformed", "not a JSON object")
    version = _version_of(body)
    if body.get("v") != SCHEMA_VERSION:
        raise DownlinkRejected(
            "unsupported",
            f"schema v={quoted(body.get('v'))}; this gateway reads v={SCHEMA_VERSION}",
            version=version,
        )
    if body.get("type") != expected_type:
        raise DownlinkRejected(
            "malformed", f"type {quoted(body.get('type'))} on the {expected_type} topic", version=version
        )
    allowed = _FIELDS[expected_type]
    if unknown := set(body) - set(allowed):
        raise DownlinkRejected(
            "malformed",
            f"unknown field(s) {quoted(sorted(unknown))}; a {expected_type} has {list(allowed)}",
            version=version,
        )
    return body


def _version_of(body: dict[str, Any]) -> int | None:
    """The version an error reply names: the message's own, if it is one."""
    version = body.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and 0 <= version <= MAX_INT:
        return version
    return None


def _int(body: dict[str, Any], name: str, low: int, high: int = MAX_INT) -> int:
    value = body.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DownlinkRejected(
            "malformed", f"{name} {quoted(value)} is not an integer {low}..{high}", version=_version_of(body)
        )
    return value


def _list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name, [])
    if not isinstance(value, list):
        raise DownlinkRejected("malformed", f"{name} is not a list", version=_version_of(body))
    return value


def parse_snapshot_part(data: bytes) -> SnapshotPart:
    body = load(data, "snapshot")
    version = _int(body, "version", 1)
    parts = _int(body, "parts", 1, MAX_PARTS)
    part = _int(body, "part", 1, parts)
    total = _int(body, "total", 0)
    return SnapshotPart(version, part, parts, total, _list(body, "entries"))


def parse_delta(data: bytes) -> Delta:
    body = load(data, "delta")
    version = _int(body, "version", 1)
    base = _int(body, "base", 0, version - 1)
    upsert, delete = _list(body, "upsert"), _list(body, "delete")
    if len(upsert) + len(delete) > MAX_DELTA_ENTRIES:
        raise DownlinkRejected(
            "too_large",
            f"{len(upsert) + len(delete)} changes; a delta holds up "
            f"to {MAX_DELTA_ENTRIES}, send a snapshot instead",
            version=version,
        )
    return Delta(version, base, upsert, delete)


# The central side's half: what a server (or a test) publishes.


def encode_snapshot(version: int, entries: list[dict[str, Any]], per_part: int = 2000) -> list[bytes]:
    """A snapshot as parts of at most `per_part` entries (keep each under the broker's limit)."""
    chunks = [entries[i : i + per_part] for i in range(0, len(entries), per_part)] or [[]]
    return [
        json.dumps(
            {
                "v": SCHEMA_VERSION,
                "type": "snapshot",
                "version": version,
                "part": i + 1,
                "parts": len(chunks),
                "total": len(entries),
                "entries": chunk,
            },
            ensure_ascii=False,
        ).encode()
        for i, chunk in enumerate(chunks)
    ]


def encode_delta(
    version: int,
    base: int,
    upsert: list[dict[str, Any]] | None = None,
    delete: list[dict[str, Any]] | None = None,
) -> bytes:
    return json.dumps(
        {
            "v": SCHEMA_VERSION,
            "type": "delta",
            "version": version,
            "base": base,
            "upsert": upsert or [],
            "delete": delete or [],
        },
        ensure_ascii=False,
    ).encode()
