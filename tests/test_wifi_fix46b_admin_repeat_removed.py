"""ed8e489: an admin's addition sent again with its Idempotency-Key is answered from memory, what
the first made, even where that was deleted (a card) or revoked (a token) meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import Site, bearer, make_config, start_site, stored


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


def test_a_card_deleted_then_given_again_with_its_key_is_not_answered_saved(
    site: Site, client: TestClient
) -> None:
    """发卡's answer is lost; the admin finds the card in the register, deletes it (another admin,
    or himself on another tab), and taps 添加 again on the unchanged form (same key): he is told
    "已保存 #id" though no card is registered and the resident's card is refused at the door. The
    repeat should give the card again (or say it was deleted), never answer a card that is gone."""
    card = {"card": "80015678", "resident_id": site.resident_id}
    first = client.post("/api/cards", json=card, headers=_keyed(site, "card-gone-1"))
    assert first.status_code == 200, first.text
    gone = client.delete(f"/api/credentials/{first.json()['id']}", headers=bearer(site.admin_token))
    assert gone.status_code == 204, gone.text
    again = client.post("/api/cards", json=card, headers=_keyed(site, "card-gone-1"))
    held = stored(site, "SELECT count(*) FROM credentials WHERE kind = 'card' AND value = '80015678'")
    assert not (again.status_code == 200 and held == [(0,)]), (
        f"the repeat is answered {again.status_code} {again.text}, "
        f"and the register holds {held[0][0]} such card"
    )


def test_a_token_revoked_then_made_again_with_its_key_is_not_shown_as_new(
    site: Site, client: TestClient
) -> None:
    """添加令牌's answer is lost; the admin sees in the list a token he never saw and revokes it, then
    taps 添加令牌 again (same key): he is shown a token "once" that is revoked, stores it in the
    property company's tool, and every call it makes is 401. The repeat should say the token was
    revoked (409), not answer 201 with a dead secret."""
    body = {"name": "property-tools", "role": "guard", "days": 90}
    first = client.post("/api/tokens", json=body, headers=_keyed(site, "token-gone-1"))
    assert first.status_code == 201, first.text
    revoked = client.delete(f"/api/tokens/{first.json()['id']}", headers=bearer(site.admin_token))
    assert revoked.status_code == 204, revoked.text
    again = client.post("/api/tokens", json=body, headers=_keyed(site, "token-gone-1"))
    if again.status_code == 201:
        works = client.get("/api/lookup", params={"q": "R1"}, headers=bearer(again.json()["token"]))
        assert works.status_code == 200, (
            f"the repeat is answered 201 with a token that is refused {works.status_code}: {works.text}"
        )


def _code(answer: Any) -> str:
    return str(answer.json()["error"]["code"])


def test_the_repeat_of_a_deleted_card_is_deleted_since_and_the_form_sent_again_gives_it(
    site: Site, client: TestClient
) -> None:
    """The repeat says what happened (409 deleted_since), and its key names nothing since: the page
    sends the unchanged form with the same key again, and that gives the card anew."""
    card = {"card": "80015678", "resident_id": site.resident_id}
    first = client.post("/api/cards", json=card, headers=_keyed(site, "card-gone-2"))
    client.delete(f"/api/credentials/{first.json()['id']}", headers=bearer(site.admin_token))
    again = client.post("/api/cards", json=card, headers=_keyed(site, "card-gone-2"))
    assert again.status_code == 409 and _code(again) == "deleted_since", again.text
    anew = client.post("/api/cards", json=card, headers=_keyed(site, "card-gone-2"))
    assert anew.status_code == 200, anew.text
    held = stored(site, "SELECT count(*) FROM credentials WHERE kind = 'card' AND value = '80015678'")
    assert held == [(1,)]
    assert client.post("/api/cards", json=card, headers=_keyed(site, "card-gone-2")).json() == anew.json()


def test_a_card_deleted_then_another_given_is_not_answered_that_card(site: Site, client: TestClient) -> None:
    """The card deleted and another given: the repeat of the first must not be answered that one.
    (SQLite gave the last row deleted's id to the next row added; since schema migration 48 a card's
    id is never given again, and the second card has an id of its own.)"""
    first = client.post(
        "/api/cards", json={"card": "80015678", "resident_id": site.resident_id}, headers=_keyed(site, "c-3")
    )
    client.delete(f"/api/credentials/{first.json()['id']}", headers=bearer(site.admin_token))
    other = client.post(
        "/api/cards", json={"card": "80019999", "resident_id": site.resident_id}, headers=_keyed(site, "c-4")
    )
    assert other.json()["id"] > first.json()["id"], "a deleted card's id was given to another"
    again = client.post(
        "/api/cards", json={"card": "80015678", "resident_id": site.resident_id}, headers=_keyed(site, "c-3")
    )
    assert again.status_code == 409 and _code(again) == "deleted_since", again.text


@pytest.mark.parametrize(
    ("url", "body", "gone"),
    [
        ("/api/vehicles", {"plate": "粤B77821", "vehicle_class": "car"}, "/api/vehicles/{}"),
        ("/api/slots", {"zone": "main", "number": "B002"}, "/api/slots/{}"),
    ],
)
def test_a_vehicle_or_slot_deleted_then_added_again_with_its_key_is_deleted_since(
    site: Site, client: TestClient, url: str, body: dict[str, Any], gone: str
) -> None:
    body = {**body, "resident_id": site.resident_id}
    first = client.post(url, json=body, headers=_keyed(site, "gone-3"))
    assert first.status_code == 200, first.text
    deleted = client.delete(gone.format(first.json()["id"]), headers=bearer(site.admin_token))
    assert deleted.status_code == 204, deleted.text
    again = client.post(url, json=body, headers=_keyed(site, "gone-3"))
    assert again.status_code == 409 and _code(again) == "deleted_since", again.text
    assert client.post(url, json=body, headers=_keyed(site, "gone-3")).status_code == 200


def test_a_revoked_token_made_again_with_its_key_is_revoked_since(site: Site, client: TestClient) -> None:
    body = {"name": "property-tools", "role": "guard", "days": 90}
    first = client.post("/api/tokens", json=body, headers=_keyed(site, "token-gone-2"))
    client.delete(f"/api/tokens/{first.json()['id']}", headers=bearer(site.admin_token))
    again = client.post("/api/tokens", json=body, headers=_keyed(site, "token-gone-2"))
    assert again.status_code == 409 and _code(again) == "revoked_since", again.text
    assert "token" not in again.json()
    renamed = {**body, "name": "property-tools-2"}
    assert client.post("/api/tokens", json=renamed, headers=_keyed(site, "token-gone-3")).status_code == 201


def test_an_account_disabled_since_is_answered_as_it_stands(site: Site, client: TestClient) -> None:
    """An account is never deleted, only disabled: its repeat is answered the account as it is now."""
    body = {"username": "liming", "display_name": "李师傅", "role": "guard", "password": "Gate-Booth-2026"}
    first = client.post("/api/accounts", json=body, headers=_keyed(site, "account-gone-1"))
    assert first.status_code == 201, first.text
    off = client.patch(
        f"/api/accounts/{first.json()['id']}", json={"disabled": True}, headers=bearer(site.admin_token)
    )
    assert off.status_code == 200, off.text
    again = client.post("/api/accounts", json=body, headers=_keyed(site, "account-gone-1"))
    assert again.status_code == 201 and again.json() == {**first.json(), "disabled": True}, again.text


def test_the_new_codes_have_the_guards_words() -> None:
    from gateway.web.i18n import TEXTS

    for code in ("deleted_since", "revoked_since"):
        zh, en = TEXTS[f"err.{code}"]
        assert zh and en
