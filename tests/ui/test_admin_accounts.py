"""Accounts and tokens an admin changes while they are in use take effect at once."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import ADMIN, GUARD, Site, bearer, log_in


def _id(client: TestClient, site: Site, username: str) -> int:
    accounts = client.get("/api/accounts", headers=bearer(site.admin_token)).json()
    return next(a["id"] for a in accounts if a["username"] == username)


def test_a_disabled_guard_logged_in_on_the_tablet_is_cut_off(app, site: Site) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as tablet, TestClient(app) as office:
        csrf = log_in(tablet, GUARD)
        assert tablet.get("/api/me").status_code == 200
        gid = _id(office, site, GUARD[0])
        r = office.patch(f"/api/accounts/{gid}", json={"disabled": True}, headers=bearer(site.admin_token))
        assert r.status_code == 200, r.text
        assert tablet.get("/api/me").status_code == 401
        r = tablet.post("/api/lanes/door/open", json={"reason": "x"}, headers=csrf)
        assert r.status_code == 401, r.text


def test_the_last_admin_cannot_demote_or_disable_themselves(client: TestClient, site: Site) -> None:
    csrf = log_in(client, ADMIN)
    aid = _id(client, site, ADMIN[0])
    for change in ({"role": "guard"}, {"disabled": True}):
        r = client.patch(f"/api/accounts/{aid}", json=change, headers=csrf)
        assert r.status_code in (409, 422), r.text
        assert r.json()["error"]["fix"]
    assert client.get("/api/me").json()["role"] == "admin"


def test_a_revoked_token_stops_at_once(client: TestClient, site: Site) -> None:
    admin = bearer(site.admin_token)
    made = client.post("/api/tokens", json={"name": "monitor", "role": "guard"}, headers=admin).json()
    assert client.get("/api/lookup", params={"q": "R1"}, headers=bearer(made["token"])).status_code == 200
    assert client.delete(f"/api/tokens/{made['id']}", headers=admin).status_code == 204
    r = client.get("/api/lookup", params={"q": "R1"}, headers=bearer(made["token"]))
    assert r.status_code == 401 and r.json()["error"]["fix"]
