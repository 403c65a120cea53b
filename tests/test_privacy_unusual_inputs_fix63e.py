"""Review 63e: unusual but real inputs at the booth and in free text.

- An ID number read out (or forwarded by WeChat) in groups, 110105 1949 1231 002X, 21 characters: free
  text already read such groups as an ID number, but the visitor form's 20-character limit refused it.
  Now it is taken, and hashed as the number typed ungrouped, so the returning visitor is found again.
- A short passport number (5 to 7 characters are taken) was stored and sent up with 4 of them shown
  (AB1234 as **1234); mask_phone never shows more digits than it hides, and now neither does
  mask_id_number.
- A document's number in a note stayed in clear: a passport read out in groups (已核对护照 E 1234
  5678), a Taiwan permit's 8 digits that read as a date even right after its document word
  (台胞证19900307), a phone's after 电话 (电话20120315)."""

# ruff: noqa: F811  (pytest fixtures imported, then named as arguments)
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.privacy import mask_id_number, mask_numbers_in
from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401

VISITOR = {"name": "王五", "host_building": "3栋", "host_unit": "2单元"}


@pytest.mark.parametrize(
    "typed", ["110105 1949 1231 002X", "110105-19491231-002X ", "1101 0519 4912 3100 2x"]
)
def test_an_id_number_copied_in_groups_is_taken(client: TestClient, site: Site, typed: str) -> None:
    guard = bearer(site.guard_token)
    r = client.post("/api/visitors", json={**VISITOR, "id_number": typed}, headers=guard)
    assert r.status_code == 201, f"the ID number typed in groups should be taken: {r.text}"
    assert r.json()["id_number"] == "**************002X"
    found = client.post("/api/visitors/find", json={"id_number": "11010519491231002X"}, headers=guard)
    assert found.json()["found"], "the visitor is found again by the number typed ungrouped"
    again = client.post("/api/visitors/find", json={"id_number": typed}, headers=guard)
    assert again.json()["found"], "and by the number typed in groups"


def test_an_occupant_s_id_number_in_groups_is_taken(client: TestClient, site: Site) -> None:
    body = {
        **VISITOR,
        "plate": "皖B54321",
        "occupants": [{"name": "李四", "id_number": "110105 1949 1231 002X"}],
    }
    r = client.post("/api/visitors", json=body, headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    assert r.json()["occupants"][0]["id_number"] == "**************002X"


def test_an_id_number_in_groups_with_a_wrong_check_character_is_still_refused(
    client: TestClient, site: Site
) -> None:
    r = client.post(
        "/api/visitors",
        json={**VISITOR, "id_number": "110105 1949 1231 0021"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 422, r.text
    assert r.json()["error"]["fields"] == ["id_number"]


@pytest.mark.parametrize(
    ("number", "masked"),
    [("AB1234", "****34"), ("A123456", "****456"), ("12345", "****5"), ("E12345678", "*****5678")],
)
def test_a_short_passport_number_shows_fewer_characters_than_it_hides(number: str, masked: str) -> None:
    assert mask_id_number(number, "passport") == masked
    shown = sum(c != "*" for c in masked)
    assert shown <= len(number) - shown


def test_a_short_passport_number_is_stored_so(client: TestClient, site: Site) -> None:
    body = {**VISITOR, "id_number": "AB1234", "id_kind": "passport"}
    r = client.post("/api/visitors", json=body, headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    assert r.json()["id_number"] == "****34"


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("已核对护照 E 1234 5678", "已核对护照 E ****5678"),  # a passport number read out in groups
        ("护照号 E-1234-5678", "护照号 E-****5678"),
        ("台胞证 1990 0307", "台胞证 ****0307"),
        ("台胞证19900307", "台胞证****0307"),  # a Taiwan permit's 8 digits that read as a date
        ("台胞证号：19900307", "台胞证号：****0307"),
        ("电话20120315", "电话****0315"),
        ("手机号 20120315", "手机号 ****0315"),
    ],
)
def test_a_document_or_phone_number_in_a_note_is_masked(typed: str, sent: str) -> None:
    assert mask_numbers_in(typed) == sent


@pytest.mark.parametrize(
    "typed",
    [
        "交班 20261125",  # a date
        "证件 2026-11-25 到期",  # a date in its groups after a document word
        "凭身份证放行，冰箱 SN AB12345678",  # a code after its own word
        "2026-2027年度物业费已缴",
    ],
)
def test_dates_and_codes_are_kept(typed: str) -> None:
    assert mask_numbers_in(typed) == typed
