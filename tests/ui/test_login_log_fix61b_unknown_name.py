"""Review 61b: a guard who typed his password into the user-name box (the shared booth tablet, the
name box left focused) was told "wrong user name or password", and the gateway's log held his
password in clear, the line after his own login from that tablet. A name no account has is logged
without the name; a wrong password for an account names it, as docs/guard-app.md promises the admin
of a locked-out account."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import GUARD


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


def test_a_password_typed_as_the_user_name_is_not_written_to_the_log(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    password = GUARD[1]
    r = client.post("/api/session", json={"username": password, "password": "x"})
    assert r.status_code == 401
    assert password not in _logged(caplog)
    assert "no account has" in _logged(caplog)


def test_a_wrong_password_for_an_account_names_the_account(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    r = client.post("/api/session", json={"username": GUARD[0], "password": "not-his-password"})
    assert r.status_code == 401
    assert f"a wrong password for user {GUARD[0]!r}" in _logged(caplog)
