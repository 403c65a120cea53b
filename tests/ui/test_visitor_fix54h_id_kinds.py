"""A visitor with no mainland ID card (a foreigner's passport, a Hong Kong or Macau resident's 回乡证,
a Taiwan resident's 台胞证, a foreign permanent residence ID) is registered with the number of the
document he carries, its kind given as `id_kind`: during closed management the ID number was
required and only an 18-character resident ID card number was taken (review 54h)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.snapshot_helpers import apply_snapshot
from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401
from tests.ui.test_guard_visitors import DRIVER, VISITOR, closed_site  # noqa: F401

# (kind, a number of its shape, one that is not, words of the refusal)
KINDS = [
    ("passport", "E12345678", "E12", "5 to 17 letters and digits"),
    ("hk_macau_permit", "H12345678", "H1234567", "H or M, then 8 or 10 digits"),
    ("hk_macau_permit", "M1234567890", "K12345678", "H or M, then 8 or 10 digits"),
    ("taiwan_permit", "12345678", "1234567", "8 digits"),
    ("foreign_permanent", "USA123456789012", "US1234567890123", "3 letters, 12 digits"),
    ("foreign_permanent", "936156199001010019", "936156199001010011", "last character does not match"),
    ("resident_id", "11010519491231002X", "E12345678", "18 characters"),
]


def _post(client: TestClient, site: Site, **changes: object) -> dict[str, object]:  # noqa: F811
    r = client.post("/api/visitors", json={**VISITOR, **changes}, headers=bearer(site.guard_token))
    return {"status": r.status_code, **r.json()}


@pytest.mark.parametrize(("kind", "good", "bad", "words"), KINDS)
def test_each_kind_takes_its_own_numbers_and_says_what_they_look_like(
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
    kind: str,
    good: str,
    bad: str,
    words: str,
) -> None:
    made = _post(client, site, id_kind=kind, id_number=good.lower())
    assert made["status"] == 201, made
    assert made["id_kind"] == kind and made["id_number"] == "*" * (len(good) - 4) + good[-4:]
    refused = _post(client, site, id_kind=kind, id_number=bad, plate="")
    assert refused["status"] == 422, refused
    error = refused["error"]
    assert error["code"] == "invalid_pass" and error["fields"] == ["id_number"]  # type: ignore[index]
    assert words in error["message"], error  # type: ignore[index]
    assert error["id_kinds"] == {"id_number": kind}  # type: ignore[index]


def test_a_person_in_the_car_gives_his_passport_and_a_bad_permit_is_named(
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    people = [DRIVER, {"name": "John Smith", "id_kind": "passport", "id_number": "E12345678"}]
    made = _post(client, site, passengers=None, occupants=people)
    assert made["status"] == 201, made
    assert [(o["id_kind"], o["id_number"]) for o in made["occupants"]] == [  # type: ignore[attr-defined]
        ("resident_id", "**************7774"),
        ("passport", "*****5678"),
    ]
    bad = [DRIVER, {"name": "陈大文", "id_kind": "hk_macau_permit", "id_number": "12345678"}]
    refused = _post(client, site, passengers=None, occupants=bad)
    error = refused["error"]
    assert error["fields"] == ["occupants.1.id_number"], error  # type: ignore[index]
    assert error["id_kinds"] == {"occupants.1.id_number": "hk_macau_permit"}  # type: ignore[index]
    assert "H or M" in error["message"]  # type: ignore[index]


def test_an_unknown_kind_is_refused(client: TestClient, site: Site) -> None:  # noqa: F811
    assert _post(client, site, id_kind="driving_licence", id_number="E12345678")["status"] == 422


def test_closed_management_takes_a_passport_for_the_id_number(closed_site: Site) -> None:  # noqa: F811
    with TestClient(create_app(closed_site.gw)) as c:
        body = {
            **VISITOR,
            "id_kind": "taiwan_permit",
            "id_number": "12345678",
            "destination": "3栋301",
            "passengers": None,
            # a phone too: each person in the car gives the numbers the visitor gives (Review 65 D1)
            "occupants": [
                {
                    "name": "林志明",
                    "id_kind": "taiwan_permit",
                    "id_number": "87654321",
                    "phone": "13700137000",
                }
            ],
        }
        r = c.post("/api/visitors", json=body, headers=bearer(closed_site.guard_token))
        assert r.status_code == 201, r.text
        assert "id_number" in r.json()["registered_fields"]


def test_stored_masked_hashed_with_its_kind_and_found_again_within_its_kind(
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
) -> None:
    """A foreign permanent residence ID of the 2023 kind passes the resident ID card's check: the
    same 18 characters given as an ID card find nobody, nor the reverse."""
    number = "936156199001010019"
    made = _post(client, site, id_kind="foreign_permanent", id_number=number, phone="")
    assert made["status"] == 201, made
    guard = bearer(site.guard_token)

    def found(**body: str) -> bool:
        r = client.post("/api/visitors/find", json=body, headers=guard)
        assert r.status_code == 200, r.text
        return bool(r.json()["found"])

    assert found(id_number=number, id_kind="foreign_permanent")
    assert not found(id_number=number)  # as an ID card's number: another document
    _post(client, site, id_kind="passport", id_number="E12345678", phone="", plate="苏E11111")
    assert found(id_number="e 1234 5678", id_kind="passport")
    assert not found(id_number="E12345678", id_kind="hk_macau_permit")
    with sqlite3.connect(site.gw.db_path) as conn:
        rows = conn.execute("SELECT id_kind, id_masked, id_hash FROM passes ORDER BY id").fetchall()
        payloads = [json.loads(p) for (p,) in conn.execute("SELECT payload FROM outbox WHERE topic = 'pass'")]
    assert [r[:2] for r in rows] == [
        ("foreign_permanent", "**************0019"),
        ("passport", "*****5678"),
    ]
    assert rows[0][2] != site.gw.secrets.id_digest("resident_id", number)
    site.gw.on_worker(lambda c: c.execute("PRAGMA wal_checkpoint(TRUNCATE)")).result()
    stored = b"".join(f.read_bytes() for f in Path(site.gw.db_path).parent.glob("gateway.db*"))
    assert number.encode() not in stored and b"E12345678" not in stored
    # Upstream as the pass is shown: masked, with its kind; no hash.
    sent = [p["pass"] for p in payloads]
    assert [(p["id_kind"], p["id_number"]) for p in sent] == [
        ("foreign_permanent", "**************0019"),
        ("passport", "*****5678"),
    ]
    assert all("id_hash" not in p and number not in json.dumps(p) for p in sent)


def test_a_visitor_without_an_id_number_has_no_kind_upstream(client: TestClient, site: Site) -> None:  # noqa: F811
    made = _post(client, site, id_number="", occupants=[{"name": "王驾驶"}], passengers=None)
    assert made["id_kind"] == "" and made["occupants"][0]["id_kind"] == ""  # type: ignore[index]
    with sqlite3.connect(site.gw.db_path) as conn:
        (payload,) = conn.execute("SELECT payload FROM outbox WHERE topic = 'pass'").fetchone()
    sent = json.loads(payload)["pass"]
    assert sent["id_kind"] == "" and sent["occupants"][0]["id_kind"] == ""


def test_a_centre_pass_entry_gives_its_id_kind(site: Site) -> None:  # noqa: F811
    entry = {
        "kind": "pass",
        "pass_kind": "visitor",
        "name": "Anna Müller",
        "valid_from": "2020-01-01",
        "valid_to": "2099-01-01",
    }
    apply_snapshot(
        site.gw,
        7,
        [
            {**entry, "ref": "P1", "id_kind": "passport", "id_number": "C01X00T47"},
            {**entry, "ref": "P2", "id_number": "11010519491231002X"},
        ],
    )
    with sqlite3.connect(site.gw.db_path) as conn:
        rows = conn.execute("SELECT ref, id_kind, id_masked, id_hash FROM passes ORDER BY ref").fetchall()
    assert [r[:3] for r in rows] == [
        ("P1", "passport", "*****0T47"),
        ("P2", "resident_id", "**************002X"),
    ]
    assert rows[0][3] == site.gw.secrets.id_digest("passport", "C01X00T47")
    with TestClient(create_app(site.gw)) as c:
        r = c.post(
            "/api/visitors/find",
            json={"id_number": "C01X00T47", "id_kind": "passport"},
            headers=bearer(site.guard_token),
        )
        assert r.json()["found"], r.text


def test_a_centre_pass_entry_with_an_unknown_kind_is_refused() -> None:
    from zoneinfo import ZoneInfo

    from gateway.privacy import Secrets
    from gateway.sync.entries import EntryError, parse_entry

    entry = {
        "kind": "pass",
        "ref": "P1",
        "pass_kind": "visitor",
        "name": "Anna",
        "valid_from": "2020-01-01",
        "valid_to": "2099-01-01",
        "id_kind": "licence",
        "id_number": "C01X00T47",
    }
    with pytest.raises(EntryError, match="id_kind"):
        parse_entry(entry, ZoneInfo("Asia/Shanghai"), Secrets(b"k" * 32))
