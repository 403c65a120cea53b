"""API token names and the audit trail's person filter, through the real app (tests/ui fixtures)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer


def test_a_revoked_tokens_name_in_other_case_is_not_a_new_name(client: TestClient, site: Site) -> None:
    """docs/guard-app.md: a revoked token's name stays its own, so that `token:NAME` in the audit
    trail names one token; its replacement gets a new name. And the audit page's person filter
    ignores case. The admin revokes `property-tools` (leaked) and makes its replacement
    `Property-Tools`: 201. The manager then filters the audit page by token:property-tools to see
    what the leaked token did, and gets the replacement's openings mixed in as the leaked one's.
    A name taken by a token, revoked or not, should be taken in any case (409), as user names are."""
    admin = bearer(site.admin_token)
    old = client.post("/api/tokens", json={"name": "property-tools", "role": "guard"}, headers=admin)
    assert old.status_code == 201, old.text
    r = client.post("/api/lanes/door/open", json={"reason": "旧令牌"}, headers=bearer(old.json()["token"]))
    assert r.status_code == 200, r.text
    assert client.delete(f"/api/tokens/{old.json()['id']}", headers=admin).status_code == 204
    new = client.post("/api/tokens", json={"name": "Property-Tools", "role": "guard"}, headers=admin)
    if new.status_code == 201:
        r = client.post(
            "/api/lanes/door/open", json={"reason": "新令牌"}, headers=bearer(new.json()["token"])
        )
        assert r.status_code == 200, r.text
    rows = client.get(
        "/api/audit", params={"actor": "token:property-tools", "action": "lane.open"}, headers=admin
    ).json()
    assert [row["detail"] for row in rows] == ["旧令牌"], (
        f"replacement made: {new.status_code}; the leaked token's filter lists "
        f"{[(row['actor'], row['detail']) for row in rows]}"
    )


def test_a_live_tokens_name_in_other_case_is_refused_and_named(client: TestClient, site: Site) -> None:
    """The same name in other letters while the first token is live: 409, naming the stored token."""
    admin = bearer(site.admin_token)
    made = client.post("/api/tokens", json={"name": "monitor", "role": "guard"}, headers=admin)
    assert made.status_code == 201, made.text
    again = client.post("/api/tokens", json={"name": "MONITOR", "role": "guard"}, headers=admin)
    assert again.status_code == 409, again.text
    assert "'monitor' exists" in again.json()["error"]["message"], again.json()
