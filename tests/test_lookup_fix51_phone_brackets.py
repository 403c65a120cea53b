"""查询 lookup by a phone number written as contacts and WeChat write it: (+86)139... (reviewer 51f)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401  (fixtures)


@pytest.mark.parametrize(
    "typed",
    ["+86 139 1234 5678", "(+86)139 1234 5678", "（+86）139 1234 5678", "139·1234·5678", "139.1234.5678"],
)
def test_lookup_by_phone_written_with_brackets_or_dots_finds_the_resident(
    client: TestClient,  # noqa: F811
    site: Site,  # noqa: F811
    typed: str,
) -> None:
    """The resident 张三丰 is registered with 13912345678. A number pasted from a WeChat contact
    card reads (+86)139 1234 5678, or 139·1234·5678: typed into 查询 it found nobody."""
    found = client.get("/api/lookup", params={"q": typed}, headers=bearer(site.guard_token))
    assert found.status_code == 200, found.text
    assert [r["id"] for r in found.json()] == [site.resident_id], f"lookup of {typed}: {found.text}"
