"""A keyed repeat of an admin's addition whose row was deleted, its id taken since by the same card
number or slot given to another resident (SQLite reuses the last id deleted)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import PLATE, Site, bearer, make_config, start_site


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.gw)) as c:
        yield c


def _keyed(site: Site, key: str) -> dict[str, str]:
    return {**bearer(site.admin_token), "Idempotency-Key": key}


def _other_resident(client: TestClient, site: Site) -> int:
    body = {"ref": "R-0802", "name": "王芳", "building": "8栋", "unit": "1单元", "room": "502"}
    made = client.post("/api/residents", json=body, headers=bearer(site.admin_token))
    assert made.status_code == 200, made.text
    return int(made.json()["id"])


def _code(r: object) -> str:
    return str(r.json()["error"]["code"])  # type: ignore[attr-defined]


def test_a_card_repeat_is_not_answered_the_same_number_given_since_to_another_resident(
    site: Site, client: TestClient
) -> None:
    """发卡 for 张三丰 loses its answer; on another tablet the card is struck off and the same number
    given to 王芳 (it took the freed id till migration 48). 张三丰's form sent again (same key) was
    answered 已保存 #id, though that card is 王芳's and 张三丰 has none: it is 409 deleted_since, as
    for any card deleted since."""
    mine = {"card": "80015678", "resident_id": site.resident_id}
    first = client.post("/api/cards", json=mine, headers=_keyed(site, "card-k1"))
    assert first.status_code == 200, first.text
    cid = first.json()["id"]
    assert client.delete(f"/api/credentials/{cid}", headers=bearer(site.admin_token)).status_code == 204
    wang = _other_resident(client, site)
    theirs = client.post(
        "/api/cards", json={"card": "80015678", "resident_id": wang}, headers=_keyed(site, "card-k2")
    )
    assert theirs.status_code == 200 and theirs.json()["id"] > cid, "a deleted card's id was given again"
    again = client.post("/api/cards", json=mine, headers=_keyed(site, "card-k1"))
    assert again.status_code == 409 and _code(again) == "deleted_since", (
        f"张三丰's repeat is answered {again.status_code} {again.text}: the card is 王芳's now, "
        f"#{theirs.json()['id']}, not resident {site.resident_id}'s"
    )


def test_a_card_repeat_is_not_answered_the_same_card_given_since_for_no_car(
    site: Site, client: TestClient
) -> None:
    """The form gave 张三丰 the card for his car; on another tablet it was struck off and given again
    to him without the car (it took the freed id till migration 48). That card does not open the
    barrier for the car the form named: the repeat is 409 deleted_since, not 已保存."""
    mine = {"card": "80015678", "resident_id": site.resident_id, "plate": PLATE}
    first = client.post("/api/cards", json=mine, headers=_keyed(site, "card-car-1"))
    assert first.status_code == 200, first.text
    cid = first.json()["id"]
    assert client.delete(f"/api/credentials/{cid}", headers=bearer(site.admin_token)).status_code == 204
    bare = {"card": "80015678", "resident_id": site.resident_id}
    assert client.post("/api/cards", json=bare, headers=_keyed(site, "card-car-2")).json()["id"] > cid
    again = client.post("/api/cards", json=mine, headers=_keyed(site, "card-car-1"))
    assert again.status_code == 409 and _code(again) == "deleted_since", again.text
    assert client.post("/api/cards", json=mine, headers=_keyed(site, "card-car-1")).status_code == 409


def test_a_slot_repeat_is_not_answered_the_same_slot_added_since_for_another_resident(
    site: Site, client: TestClient
) -> None:
    """添加车位 main/B002 for 张三丰 loses its answer; the slot is deleted on another tablet and added
    again for 王芳 (it took the freed id till migration 48). 张三丰's form sent again was answered
    已保存 #id, a slot that is 王芳's: it is 409 deleted_since."""
    mine = {"zone": "main", "number": "B002", "resident_id": site.resident_id}
    first = client.post("/api/slots", json=mine, headers=_keyed(site, "slot-k1"))
    assert first.status_code == 200, first.text
    sid = first.json()["id"]
    assert client.delete(f"/api/slots/{sid}", headers=bearer(site.admin_token)).status_code == 204
    wang = _other_resident(client, site)
    theirs_body = {"zone": "main", "number": "B002", "resident_id": wang}
    theirs = client.post("/api/slots", json=theirs_body, headers=_keyed(site, "slot-k2"))
    assert theirs.status_code == 200 and theirs.json()["id"] > sid, "a deleted slot's id was given again"
    again = client.post("/api/slots", json=mine, headers=_keyed(site, "slot-k1"))
    assert again.status_code == 409 and _code(again) == "deleted_since", (
        f"张三丰's repeat is answered {again.status_code} {again.text}: the slot is 王芳's now, "
        f"#{theirs.json()['id']}, not resident {site.resident_id}'s"
    )


def test_a_repeat_whose_card_and_slot_are_still_there_is_answered_them(
    site: Site, client: TestClient
) -> None:
    """Not deleted, a repeat is answered the row it made, a card for a car and a slot for nobody too."""
    card = {"card": "80015678", "resident_id": site.resident_id, "plate": PLATE}
    made = client.post("/api/cards", json=card, headers=_keyed(site, "card-same"))
    assert client.post("/api/cards", json=card, headers=_keyed(site, "card-same")).json() == made.json()
    slot = {"zone": "main", "number": "B003"}
    made = client.post("/api/slots", json=slot, headers=_keyed(site, "slot-same"))
    assert client.post("/api/slots", json=slot, headers=_keyed(site, "slot-same")).json() == made.json()
