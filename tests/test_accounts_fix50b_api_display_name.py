"""The API counts a display name's length before it drops a paste's invisible characters."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from tests.ui.conftest import Site, bearer, make_config, start_site

PASTED_40 = "\u200b" + "王" * 40 + " "  # 40 characters shown; a WeChat paste's U+200B and a space besides


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


def test_a_pasted_display_name_of_40_characters_is_taken_by_the_api_as_by_the_cli(site: Site) -> None:
    """docs/guard-app.md: a display name's invisible characters and the spaces round it are dropped
    and only one of more than 40 characters is refused, whichever way it comes; `gateway user add`
    takes this 40-character name. POST /api/accounts refuses it (422, 42 characters counted before
    cleaning); it should make the account with the 40 characters."""
    with TestClient(create_app(site.gw)) as client:
        made = client.post(
            "/api/accounts",
            json={"username": "wang40", "display_name": PASTED_40, "password": "a long passphrase"},
            headers=bearer(site.admin_token),
        )
        assert made.status_code == 201, f"a 40-character name pasted from WeChat refused: {made.text}"
        assert made.json()["display_name"] == "王" * 40


def test_renaming_to_a_pasted_display_name_of_40_characters_is_taken(site: Site) -> None:
    """The same name given to an existing account (PATCH, the store's update cleans it as the docs
    say) is refused 422 by the API's own check before cleaning; it should be stored as 40 characters."""
    with TestClient(create_app(site.gw)) as client:
        admin = bearer(site.admin_token)
        made = client.post(
            "/api/accounts",
            json={"username": "li40", "display_name": "李师傅", "password": "a long passphrase"},
            headers=admin,
        )
        assert made.status_code == 201, made.text
        changed = client.patch(
            f"/api/accounts/{made.json()['id']}", json={"display_name": PASTED_40}, headers=admin
        )
        assert changed.status_code == 200, f"a 40-character name pasted from WeChat refused: {changed.text}"
        assert changed.json()["display_name"] == "王" * 40
