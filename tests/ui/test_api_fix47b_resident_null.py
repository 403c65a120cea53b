"""A resident changed by ref (POST /api/residents): `null` clears a field, as docs/guard-app.md
says; building, unit and name, which every resident has, are refused null, naming them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer, stored


def _resident(site: Site) -> list[tuple[str, str, str, str]]:
    return stored(site, "SELECT building, unit, room, name FROM residents WHERE ref = 'R1'")


def test_a_room_sent_as_null_clears_the_room(client: TestClient, site: Site) -> None:
    """The property company's tool sends {"ref": "R1", "room": null} for a resident whose room 301
    was wrong: it was refused 422 "body.room: Input should be a valid string", the room left 301;
    it is cleared, as {"room": ""} clears it, the rest kept, audited and sent up as any change."""
    r = client.post("/api/residents", json={"ref": "R1", "room": None}, headers=bearer(site.admin_token))
    assert r.status_code == 200, r.text
    assert _resident(site) == [("3栋", "2单元", "", "张三丰")]
    upsert = "SELECT payload FROM outbox WHERE payload LIKE '%\"upsert\"%' ORDER BY seq DESC LIMIT 1"
    sent = stored(site, upsert)
    assert sent and '"room": ""' in sent[0][0], sent


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"building": None}, ["building"]),
        ({"unit": None, "room": "302"}, ["unit"]),
        ({"name": None, "building": None}, ["building", "name"]),
    ],
)
def test_building_unit_or_name_sent_null_is_refused_naming_it(
    client: TestClient, site: Site, body: dict[str, None], fields: list[str]
) -> None:
    """Not pydantic's "Input should be a valid string": they cannot be cleared, the fix says what to
    send, nothing is changed."""
    before = _resident(site)
    r = client.post("/api/residents", json={"ref": "R1", **body}, headers=bearer(site.admin_token))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert (error["code"], error.get("fields")) == ("invalid_value", fields), error
    assert "cannot be cleared" in error["message"] and "valid string" not in error["message"], error
    assert "leave" in error["fix"], error
    assert _resident(site) == before


def test_a_phone_sent_null_still_removes_the_phone(client: TestClient, site: Site) -> None:
    r = client.post("/api/residents", json={"ref": "R1", "phone": None}, headers=bearer(site.admin_token))
    assert r.status_code == 200, r.text
    assert stored(site, "SELECT phone_masked, phone_hash FROM residents WHERE ref = 'R1'") == [("", "")]
    assert _resident(site) == [("3栋", "2单元", "301", "张三丰")]
