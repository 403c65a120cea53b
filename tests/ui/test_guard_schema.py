"""schemathesis against the OpenAPI schema: whatever a client sends, never a 500.

Requests carry an admin's API token, so they get past the login and reach every handler. Each
operation's cases come from schemathesis's Hypothesis strategy; the loop is ours because its
pytest plugin does not run on pytest 9 yet.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from gateway.api.app import create_app
from tests.ui.conftest import GUARD, Site, bearer, log_in

EXAMPLES = 20
# The live stream never ends by design; test_guard_lanes reads it over a real socket.
SKIP = {("GET", "/api/live/stream")}


def test_no_operation_answers_with_a_server_error(site: Site) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(site.gw))
    headers = bearer(site.admin_token)
    tried, failures = [], []
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        if (operation.method.upper(), operation.path) in SKIP:
            continue
        tried.append(f"{operation.method.upper()} {operation.path}")

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # collect every failing operation, then report them all
            failures.append(f"{tried[-1]}: {exc}")
    assert len(tried) > 40
    assert not failures, "\n\n".join(failures)


# Values at the edge of what Python holds, which random cases rarely hit: each was once a 500.
FAR = "9999-12-31T23:00:00"
EDGES: list[tuple[str, str, str, dict[str, Any] | None]] = [
    ("admin", "POST", "/api/visitors", {"name": "李四", "valid_from": FAR}),
    ("admin", "POST", "/api/contractors", {"name": "李四", "valid_to": FAR}),
    (
        "admin",
        "POST",
        "/api/residents",
        {"ref": "R9", "building": "1", "unit": "1", "name": "王", "valid_to": f"{FAR}-05:00"},
    ),
    (
        "admin",
        "POST",
        "/api/vehicles",
        {"plate": "皖A54321", "resident_id": 1, "monthly_until": f"{FAR}-05:00"},
    ),
    (
        "admin",
        "POST",
        "/api/cards",
        {"card": "99887766", "resident_id": 1, "valid_from": "0001-01-01T00:00:00+05:00"},
    ),
    ("admin", "POST", "/api/parking/reports/9999-12-31/build", None),
    ("page", "GET", "/passes/99999999999999999999", None),
    ("page", "GET", "/plates?before=99999999999999999999", None),
]


@pytest.mark.parametrize("who,method,path,body", EDGES)
def test_values_at_the_edge_are_a_422_in_the_one_error_shape(
    app: FastAPI, site: Site, who: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    with TestClient(app, raise_server_exceptions=False) as client:
        headers = bearer(site.admin_token) if who == "admin" else {}
        if who == "page":
            log_in(client, GUARD)
        r = client.request(method, path, json=body, headers=headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "invalid_request" and r.json()["error"]["fix"]


def test_every_error_status_in_the_schema_is_the_one_error_shape(app: FastAPI) -> None:
    """A client generated from /openapi.json reads `{"error": {...}}` for every 4xx: the parking
    routes and /api/health, /api/devices and /api/events documented FastAPI's HTTPValidationError
    (`{"detail": [...]}`), which the gateway never answers, or no error at all (review 47i)."""
    wrong = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            errors = {code: r for code, r in operation["responses"].items() if code.startswith("4")}
            if not errors:
                wrong.append(f"{method.upper()} {path}: no error documented")
            for code, response in errors.items():
                json_body = response.get("content", {}).get("application/json", {})
                ref = json_body.get("schema", {}).get("$ref", "")
                if not ref.endswith("/ErrorBody"):
                    wrong.append(f"{method.upper()} {path} {code}: {ref or 'no schema'}")
    assert not wrong, "\n".join(wrong)
