"""README: errors have one shape {code, message, fix}, and the fix says what to do. What an API
client is told for an address or a method the API does not have, and for a body it cannot read."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD, app, client, log_in, site  # noqa: F401


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [("GET", "/api/visitor", 404, "not_found"), ("PUT", "/api/visitors", 405, "method_not_allowed")],
)
def test_a_wrong_address_or_method_says_what_to_do(
    client: TestClient,  # noqa: F811
    method: str,
    path: str,
    status: int,
    code: str,
) -> None:
    """A typo in an address (/api/visitor for /api/visitors) or the wrong method came back with an
    empty fix: nothing told the client where to look."""
    answer = client.request(method, path)
    assert answer.status_code == status
    error = answer.json()["error"]
    assert error["code"] == code
    assert "/openapi.json" in error["fix"], f"{method} {path}: {error} gives no fix"


def test_a_body_the_api_cannot_read_points_to_a_schema_the_booth_can_load(
    client: TestClient,  # noqa: F811
) -> None:
    """docs/guard-app.md: /docs loads its script from the internet, which a booth often has not;
    /openapi.json is served by the gateway itself."""
    headers = log_in(client, GUARD)
    answer = client.post("/api/lanes/car-in/open", json={"reason": ["not", "a", "string"]}, headers=headers)
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert "/openapi.json" in error["fix"] and "/docs" not in error["fix"], error
    assert client.get("/openapi.json").status_code == 200
