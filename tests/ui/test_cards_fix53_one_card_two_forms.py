"""One physical card registered twice through the API in two forms (review 53k): the office gave
resident R1 the card by its printed 10 digits, 0372653390, then "moved" it to R2 by typing the
Wiegand number its reader shows, 054:15694 (docs/hardware.md's own example of one card). Both were
stored: read as 10 digits it let R1 in, read by a Wiegand reader R2, and blocking 054:15694 left
the 10-digit read opening. The second form is refused as the same card, with what to do."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer, stored

PRINTED = "0372653390"  # id 0x0016363D4E: Wiegand 26 054:15694
WIEGAND = "054:15694"


def test_a_card_in_another_form_is_refused_as_the_same_card(client: TestClient, site: Site) -> None:
    admin = bearer(site.admin_token)
    li_si = {"ref": "R2", "building": "5栋", "unit": "1单元", "name": "李四"}
    other = client.post("/api/residents", json=li_si, headers=admin).json()["id"]
    first = client.post("/api/cards", json={"card": PRINTED, "resident_id": site.resident_id}, headers=admin)
    assert first.status_code == 200, first.text
    second = client.post("/api/cards", json={"card": WIEGAND, "resident_id": other}, headers=admin)
    assert second.status_code == 409, second.text
    error = second.json()["error"]
    assert "the same card read another way" in error["message"], error
    assert PRINTED not in second.text  # named masked, as every card number shown
    assert "delete the old card first" in error["fix"], error
    cards = stored(site, "SELECT value, resident_id FROM credentials WHERE kind = 'card' AND value IN (?, ?)",
                   PRINTED, WIEGAND)  # fmt: skip
    assert cards == [(PRINTED, site.resident_id)], cards
    # Moved the way the fix says, the card is the other resident's in either form.
    card_id = stored(site, "SELECT id FROM credentials WHERE value = ?", PRINTED)[0][0]
    assert client.delete(f"/api/credentials/{card_id}", headers=admin).status_code == 204
    moved = client.post("/api/cards", json={"card": WIEGAND, "resident_id": other}, headers=admin)
    assert moved.status_code == 200, moved.text
