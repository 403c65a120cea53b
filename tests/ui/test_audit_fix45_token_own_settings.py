"""Every error says what to do (README: errors are {code, message, fix}; tests/ui/test_api_error_fixes)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer


@pytest.mark.parametrize(
    ("path", "body", "what"),
    [
        ("/api/me/password", {"current": "x", "new": "new-pass-456"}, "password"),
        ("/api/me/language", {"language": "en"}, "language"),
    ],
)
def test_a_token_told_it_has_no_password_or_language_is_told_what_to_do(
    client: TestClient, site: Site, path: str, body: dict[str, str], what: str
) -> None:
    """A machine client's token sent to the own-password or language endpoint is 400
    not_an_account, and its fix says what to do instead: log in as the person, or have an admin
    change the account; a token's own secret is replaced by making a new one."""
    r = client.post(path, json=body, headers=bearer(site.guard_token))
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "not_an_account"
    assert what in error["message"]
    assert "log in" in error["fix"] and "admin" in error["fix"], error
