"""The admin page's forms sent again with their Idempotency-Key after an answer lost on the Wi-Fi
(app.js keyFor sends the same key for the same form sent again): the retry is answered what the
first made, never a duplicate, nor a refusal that reads as if the first one failed."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import Site, bearer, make_config, start_site, stored

RESIDENT = {"ref": "R-0802", "name": "王芳", "building": "8栋", "unit": "1单元", "room": "502"}
ACCOUNT = {"username": "liming", "display_name": "李师傅", "role": "guard", "password": "Gate-Booth-2026"}
TOKEN = {"name": "property-tools", "role": "guard", "days": 90}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


@pytest.fixture
def client(site: Site) -> Iterator[TestClient]:
    with TestClient(create_app(site.gw)) as c:
        yield c


def _with_key(site: Site, key: str) -> dict[str, str]:
    return {**bearer(site.admin_token), "Idempotency-Key": key}


def _sent_twice(client: TestClient, site: Site, url: str, body: dict[str, Any], key: str) -> tuple[Any, Any]:
    """The form sent, its answer lost, and sent again unchanged with the same key, as the page does."""
    first = client.post(url, json=body, headers=_with_key(site, key))
    assert first.status_code in (200, 201), first.text
    again = client.post(url, json=body, headers=_with_key(site, key))
    return first, again


def _audited(site: Site, action: str) -> int:
    """How many `action` rows the admin's requests wrote (not the site's seeding)."""
    sql = "SELECT count(*) FROM audit WHERE action = ? AND actor = 'token:admin-bot'"
    return int(stored(site, sql, action)[0][0])


def test_a_resident_saved_again_is_the_same_resident(site: Site, client: TestClient) -> None:
    """添加业主 saved again after a lost answer: the ref names the resident, so the repeat saves the
    same one again (one 王芳 in 8栋 1单元) and answers its id. Fine before the fix too."""
    first, again = _sent_twice(client, site, "/api/residents", RESIDENT, "resident-retry-1")
    assert again.status_code == 200 and again.json() == first.json(), again.text
    assert stored(site, "SELECT count(*) FROM residents WHERE name = '王芳'") == [(1,)]


def _other_car(site: Site) -> dict[str, Any]:
    return {"plate": "粤B77821", "resident_id": site.resident_id, "vehicle_class": "car"}


def test_a_vehicle_added_again_is_answered_the_vehicle_added(site: Site, client: TestClient) -> None:
    """添加车辆 sent again after a lost answer was refused 409 '粤B77821 is registered already',
    pointing the admin to change 'that vehicle' as if someone else's car held the plate: the
    retry is answered the vehicle the first request added."""
    first, again = _sent_twice(client, site, "/api/vehicles", _other_car(site), "vehicle-retry-1")
    assert again.status_code == 200, f"the vehicle added is answered {again.status_code}: {again.text}"
    assert again.json() == first.json()
    assert stored(site, "SELECT count(*) FROM vehicles WHERE plate = '粤B77821'") == [(1,)]
    assert _audited(site, "vehicle.add") == 1


def test_a_card_given_again_is_answered_the_card_given(site: Site, client: TestClient) -> None:
    """发卡 sent again after a lost answer was refused 409 'card ...5678 is registered already'
    ('delete the old card first'): the retry is answered the card the first request gave."""
    card = {"card": "80015678", "resident_id": site.resident_id, "hours": ["06:00-23:00"]}
    first, again = _sent_twice(client, site, "/api/cards", card, "card-retry-1")
    assert again.status_code == 200, f"the card given is answered {again.status_code}: {again.text}"
    assert again.json() == first.json()
    cards = stored(site, "SELECT count(*) FROM credentials WHERE kind = 'card' AND value = '80015678'")
    assert cards == [(1,)]
    assert _audited(site, "card.add") == 1


def test_a_slot_added_again_is_answered_the_slot_added(site: Site, client: TestClient) -> None:
    """添加车位 sent again after a lost answer was refused 409 'slot main/B002 exists' ('delete it
    first to reassign it'): the retry is answered the slot the first request added."""
    slot = {"zone": "main", "number": "B002", "resident_id": site.resident_id}
    first, again = _sent_twice(client, site, "/api/slots", slot, "slot-retry-1")
    assert again.status_code == 200, f"the slot added is answered {again.status_code}: {again.text}"
    assert again.json() == first.json()
    assert stored(site, "SELECT count(*) FROM slots WHERE number = 'B002'") == [(1,)]
    assert _audited(site, "slot.add") == 1


def test_an_account_added_again_is_answered_the_account_added(site: Site, client: TestClient) -> None:
    """添加账号 sent again after a lost answer was refused 409 "the user name 'liming' is taken,
    choose another user name": the admin, told so, made liming2 for the same guard. The retry is
    answered the account the first request made."""
    first, again = _sent_twice(client, site, "/api/accounts", ACCOUNT, "account-retry-1")
    assert again.status_code == 201, f"the account made is answered {again.status_code}: {again.text}"
    assert again.json() == first.json()
    assert stored(site, "SELECT count(*) FROM accounts WHERE username = 'liming'") == [(1,)]
    assert _audited(site, "account.create") == 1


def test_a_token_made_again_is_answered_the_same_token_and_never_logged(
    site: Site, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    """添加令牌 sent again after a lost answer was refused 409 "a token named 'property-tools'
    exists": a live token the admin never saw, its name taken for good (a revoked token keeps its
    name). The retry is answered the same token, which works, and no log line holds it."""
    caplog.set_level(logging.DEBUG)
    first, again = _sent_twice(client, site, "/api/tokens", TOKEN, "token-retry-1")
    assert again.status_code == 201, f"the token made is answered {again.status_code}: {again.text}"
    assert again.json() == first.json()
    assert stored(site, "SELECT count(*) FROM api_tokens WHERE name = 'property-tools'") == [(1,)]
    assert _audited(site, "token.create") == 1
    token = again.json()["token"]
    assert client.get("/api/lookup", params={"q": "R1"}, headers=bearer(token)).status_code == 200
    assert not [r for r in caplog.records if token in r.getMessage()], "the token was logged"


def test_a_token_made_again_by_another_admin_is_not_shown_to_him(site: Site, client: TestClient) -> None:
    """The key names one admin's token: another admin sending it (a key copied from a log, say)
    is not shown the secret: his request is his own, and the name is taken (409)."""
    client.post("/api/tokens", json=TOKEN, headers=_with_key(site, "token-retry-2"))
    second_admin = {"name": "other-admin", "role": "admin"}
    other = client.post("/api/tokens", json=second_admin, headers=bearer(site.admin_token))
    headers = {**bearer(other.json()["token"]), "Idempotency-Key": "token-retry-2"}
    r = client.post("/api/tokens", json=TOKEN, headers=headers)
    assert r.status_code == 409 and "token" not in r.json(), r.text


@pytest.mark.parametrize(
    ("url", "body", "changed"),
    [
        ("/api/vehicles", {"plate": "粤B77821", "vehicle_class": "car"}, {"plate": "粤B77822"}),
        ("/api/cards", {"card": "80015678"}, {"card": "80015679"}),
        ("/api/slots", {"zone": "main", "number": "B002"}, {"number": "B003"}),
        ("/api/accounts", ACCOUNT, {"username": "wangwu"}),
        ("/api/tokens", TOKEN, {"name": "monitor"}),
    ],
)
def test_the_same_key_with_another_form_is_a_mismatch(
    site: Site, client: TestClient, url: str, body: dict[str, Any], changed: dict[str, Any]
) -> None:
    """A key names one change: sent with another (a client that reuses keys), it is refused 422
    idempotency_mismatch, and nothing more is made."""
    if url in ("/api/vehicles", "/api/cards", "/api/slots"):
        body = {**body, "resident_id": site.resident_id}
    first = client.post(url, json=body, headers=_with_key(site, "mismatch-1"))
    assert first.status_code in (200, 201), first.text
    other = client.post(url, json={**body, **changed}, headers=_with_key(site, "mismatch-1"))
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_mismatch", other.text
