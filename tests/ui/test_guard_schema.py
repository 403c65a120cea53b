"""schemathesis against the OpenAPI schema: whatever a client sends, never a 500.

Requests carry an admin's API token, so they get past the login and reach every handler. Each
operation's cases come from schemathesis's Hypothesis strategy; the loop is ours because its
pytest plugin does not run on pytest 9 yet.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from gateway.api.app import create_app
from tests.ui.conftest import Site, bearer

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
