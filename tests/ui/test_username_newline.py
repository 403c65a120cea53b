"""User names as the admin API takes them, through the real app (tests/ui fixtures)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from drivers.readers.frames import parse_card_line, parse_qr_line
from gateway.core.credentials import canonical
from tests.ui.conftest import Site, bearer


def test_a_user_name_ending_in_a_newline_is_refused_not_made_unusable(client: TestClient, site: Site) -> None:
    """The property company's tool (an admin API token) adds the new guard from a line of its staff
    list: {"username": "zhang\\n"}. The gateway answers 201 and the admin page lists zhang; the
    guard then types zhang and his password at the booth and is refused (用户名或密码错误) every
    time: the login reads the name stripped (`zhang`), which is not the account's name, and the
    name zhang is now taken for a new try. User names are "2-32 letters, digits, ., _ and -"
    (docs/guard-app.md): a name with a newline should be refused (422 bad_username), as one with a
    space is."""
    admin = bearer(site.admin_token)
    spaced = client.post(
        "/api/accounts", json={"username": "zhang ", "password": "zhang-long-pass"}, headers=admin
    )
    assert spaced.status_code == 422  # a trailing space is refused ...
    made = client.post(
        "/api/accounts", json={"username": "zhang\n", "password": "zhang-long-pass"}, headers=admin
    )
    if made.status_code == 201:
        login = client.post("/api/session", json={"username": "zhang", "password": "zhang-long-pass"})
        raise AssertionError(
            f"'zhang\\n' was made (201, listed as {made.json()['username']!r}); "
            f"its login as zhang then answered {login.status_code}"
        )
    assert made.status_code == 422, made.text


def test_a_reserved_name_with_a_newline_is_refused_too(client: TestClient, site: Site) -> None:
    """`gateway\\n` passed the reserved-name refusal (it is not `gateway`) and would have been made."""
    admin = bearer(site.admin_token)
    for name in ("gateway\n", "central\n", "ab\n", "zhang\r\n"):
        r = client.post(
            "/api/accounts", json={"username": name, "password": "some-long-pass-1"}, headers=admin
        )
        assert r.status_code == 422, (name, r.status_code, r.text)


def test_the_other_checked_values_never_keep_a_trailing_newline(client: TestClient, site: Site) -> None:
    """The same `$` before a final newline in the other checks: a token name is refused (its check
    is the API model's, which takes `$` as the very end), and cards, QR values and plates are
    stored stripped (each check reads the value with its white space dropped first)."""
    r = client.post(
        "/api/tokens", json={"name": "tools\n", "role": "guard"}, headers=bearer(site.admin_token)
    )
    assert r.status_code == 422, r.text
    assert canonical("card", "00AB12\n") == "00AB12"
    assert canonical("qr", "Abcdefgh_123\n") == "Abcdefgh_123"
    assert canonical("plate", "苏E12345\n") == "苏E12345"
    assert parse_card_line(b"00AB12\n") == "00AB12"
    assert parse_qr_line(b"Abcdefgh_123\r\n") == "Abcdefgh_123"
