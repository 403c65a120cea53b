"""A sync_error problem names the field the centre sent, so its developer knows what to fix. A card,
vehicle or slot entry whose `resident` is empty or too long was named by the CSV importer's column
`resident_ref`, a field no snapshot or delta has (docs/mqtt.md, Snapshot: `resident`)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from gateway.privacy import Secrets
from gateway.sync.entries import EntryError, parse_entry


@pytest.mark.parametrize(
    "entry",
    [
        {"kind": "card", "card": "0012345678", "resident": ""},
        {"kind": "vehicle", "plate": "粤B12345", "resident": "R" * 41},
        {"kind": "slot", "zone": "main", "number": "A1", "resident": "R" * 41},
    ],
)
def test_a_bad_resident_is_named_resident(entry: dict) -> None:
    with pytest.raises(EntryError) as exc:
        parse_entry(entry, ZoneInfo("Asia/Shanghai"), Secrets(b"k" * 32))
    text = str(exc.value)
    assert text.startswith("resident:") and "resident_ref" not in text, (
        f"the problem should name the entry's field `resident`; the centre reads {text!r}"
    )
