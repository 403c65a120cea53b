"""Review 63e: a guard registers a visitor whose phone he copied from a contact card, 138.1234.5678
with the card's dots, or (+86)139 1234 5678 as WeChat writes it. The lookup page takes both
(tests/test_lookup_fix51_phone_brackets.py), the visitor form refused them, and its 422 repeated the
whole number in clear (phone: '138.1234.5678' is not a phone number), where the other paths say
"the value is not repeated here". Now both forms are taken, hashed as the same person typed plainly,
and a phone that is refused is not repeated: the guard is told what form to type."""

# ruff: noqa: F811  (pytest fixtures imported, then named as arguments)
from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401

VISITOR = {"name": "王五", "host_building": "3栋", "host_unit": "2单元"}


@pytest.mark.parametrize(
    ("typed", "plainly"),
    [
        ("138.1234.5678", "13812345678"),
        ("(+86)139 1234 5678", "13912345678"),
        ("（+86）139 1234 5678", "13912345678"),
        ("139·1234·5678", "13912345678"),
        ("+852 9123 4567", "+852 9123 4567"),
    ],
)
def test_a_phone_copied_from_a_contact_card_is_taken_as_the_same_person(
    client: TestClient, site: Site, typed: str, plainly: str
) -> None:
    guard = bearer(site.guard_token)
    r = client.post("/api/visitors", json={**VISITOR, "phone": typed}, headers=guard)
    assert r.status_code == 201, r.text
    assert "1234" not in r.json()["phone"] and "9123" not in r.json()["phone"], r.json()["phone"]
    found = client.post("/api/visitors/find", json={"phone": plainly}, headers=guard).json()
    assert found["found"], f"{typed} should be found again as {plainly}"


@pytest.mark.parametrize("phone", ["138 1234 5678 王", "电话138.1234.5678", "138-1234-5678 ext"])
def test_a_refused_phone_is_not_repeated_in_clear(client: TestClient, site: Site, phone: str) -> None:
    r = client.post("/api/visitors", json={**VISITOR, "phone": phone}, headers=bearer(site.guard_token))
    assert r.status_code == 422, r.text
    assert "1234" not in r.text and "5678" not in r.text, (
        f"the refusal should not repeat the visitor's phone number in clear: {r.json()}"
    )
    assert r.json()["error"]["fields"] == ["phone"]
    assert "(+86)138 0013 8000" in r.json()["error"]["message"], "it says what form to type"


def test_a_refused_occupant_phone_is_not_repeated_in_clear(client: TestClient, site: Site) -> None:
    body = {**VISITOR, "plate": "皖A12345", "occupants": [{"name": "李四", "phone": "139.8765.4321 转"}]}
    r = client.post("/api/visitors", json=body, headers=bearer(site.guard_token))
    assert r.status_code == 422, r.text
    assert "8765" not in r.text, f"the refusal should not repeat the driver's phone in clear: {r.json()}"
    assert r.json()["error"]["fields"] == ["occupants.0.phone"]
