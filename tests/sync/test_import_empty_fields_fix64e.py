"""A resident without a room or a phone: every record that tells the centre about one spells "none"
the same way. docs/mqtt.md said a CSV import's rows carry "null where the row has none", naming a
resident's room and phone; they went, and go, as "" (the store keeps both as text, "" for none), as
the admin's `upsert` that clears them sends them and as a `pass` record sends a phone not given.
A centre written to the doc took "" for a room named "". Found by review 64B (fault 4): the doc
now says "" for a room or phone the row has none of, null for a time, a card's plate or a slot's
resident; this test holds the records to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from centre_helpers import centre
from sync_helpers import wait_for

BLANK = "ref,building,unit,room,name,phone\nR8,6栋,1单元,,赵六,\n"
CARD = "card,resident_ref,plate,hours\n0012340008,R8,,\n"


def _registry(c: Any) -> list[dict[str, Any]]:
    return c.records("registry")


def test_a_room_and_phone_none_go_as_empty_text_in_import_rows_and_admin_changes(tmp_path: Path) -> None:
    with centre(tmp_path, more={"blank.csv": BLANK, "cards.csv": CARD}) as c:
        added = c.post(
            "/api/residents",
            {
                "ref": "R7",
                "building": "5栋",
                "unit": "1单元",
                "name": "王五",
                "room": "101",
                "phone": "13812345678",
            },
        )
        assert added.status_code == 200, added.text
        cleared = c.post("/api/residents", {"ref": "R7", "room": None, "phone": None})
        assert cleared.status_code == 200, cleared.text
        c.drain()
        rows = [row for m in _registry(c) if m.get("entity") == "rows" for row in m["rows"]]
        imported = {r["ref"]: r for r in rows if r["entity"] == "resident"}
        # R1: the seed's file has no room or phone column; R8: both columns, left blank.
        for ref in ("R1", "R8"):
            row = imported[ref]
            assert (row["room"], row["phone"]) == ("", ""), row
            assert (row["valid_from"], row["valid_to"]) == (None, None), row
        card = next(r for r in rows if r["entity"] == "card" and r["card"] == "0012340008")
        assert (card["plate"], card["valid_from"], card["hours"]) == (None, None, []), card
        changes = wait_for(
            "the admin's two changes",
            lambda: [m for m in _registry(c) if m.get("entity") == "resident" and m.get("ref") == "R7"][1:],
        )
        assert (changes[0]["room"], changes[0]["phone"]) == ("", ""), changes
