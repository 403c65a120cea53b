"""Review 64F fault 2: a text field longer than the API takes was 422 `invalid_request` naming no
field, its fix the generic "see the OpenAPI schema". docs/guard-app.md (Roles) says a resident's ref,
building, unit, room and name, and a slot's zone and number, longer than the import's limit are 422
`invalid_value` naming the field; and (API and tokens) that such an error adds "fields"."""

# ruff: noqa: F811  (pytest fixtures imported, then named as arguments)
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401


@pytest.mark.parametrize(
    ("path", "body", "field", "longest"),
    [
        ("/api/residents", {"ref": "R1", "name": "王" * 41}, "name", 40),
        ("/api/residents", {"ref": "R1", "building": "3" * 21}, "building", 20),
        ("/api/residents", {"ref": "R" * 41, "building": "3", "unit": "2", "name": "王芳"}, "ref", 40),
        ("/api/residents", {"ref": "R1", "room": "1" * 21}, "room", 20),
        ("/api/slots", {"zone": "main", "number": "B" * 21}, "number", 20),
        ("/api/slots", {"zone": "z" * 41, "number": "B1"}, "zone", 40),
        # Every model's text limit answers so, not only the register's.
        ("/api/visitors", {"name": "李" * 41}, "name", 40),
        ("/api/visitors", {"name": "李四", "host_building": "3" * 21}, "host_building", 20),
        (
            "/api/visitors",
            {"name": "李四", "plate": "皖A54321", "occupants": [{"name": "张" * 41}]},
            "occupants.0.name",
            40,
        ),
    ],
)
def test_a_text_field_too_long_is_invalid_value_naming_it(
    client: TestClient, site: Site, path: str, body: dict[str, Any], field: str, longest: int
) -> None:
    r = client.post(path, json=body, headers=bearer(site.admin_token))
    error = r.json()["error"]
    assert (r.status_code, error["code"], error.get("fields")) == (422, "invalid_value", [field]), r.text
    # The fix says the limit, not "see the OpenAPI schema".
    assert f"at most {longest} characters" in error["fix"] and "openapi" not in error["fix"], error


def test_the_schema_still_gives_the_limit(client: TestClient) -> None:
    """An integrator reads the limit from /openapi.json before sending."""
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    name = schemas["ResidentIn"]["properties"]["name"]
    limits = [name.get("maxLength")] + [s.get("maxLength") for s in name.get("anyOf", [])]
    assert 40 in limits, name
    assert schemas["SlotIn"]["properties"]["number"]["maxLength"] == 20


def test_a_query_too_long_is_still_invalid_request(client: TestClient, site: Site) -> None:
    """Not a form's field: an address the pages never write so (docs/guard-app.md, API and tokens)."""
    r = client.get("/api/lookup", params={"q": "x" * 61}, headers=bearer(site.admin_token))
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_request"), r.text
