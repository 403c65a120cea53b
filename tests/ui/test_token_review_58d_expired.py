"""An API token made for a number of `days` (the admin page, `gateway token add --days`) stops
working when they are over: a token given to a kiosk or a contractor's integration "for 1 day"
no longer opens a lane two days later.

The auth tests covered unknown and revoked tokens only, never one that ran out (found by the
reviewer of round 58d)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer


def test_a_token_past_its_days_no_longer_opens_a_lane(client: TestClient, site: Site) -> None:
    made = client.post(
        "/api/tokens", json={"name": "kiosk", "role": "guard", "days": 1}, headers=bearer(site.admin_token)
    )
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert client.get("/api/me", headers=bearer(token)).status_code == 200
    later = site.gw.now() + timedelta(days=2)
    site.gw.now = lambda: later  # type: ignore[method-assign]
    me = client.get("/api/me", headers=bearer(token))
    assert me.status_code == 401 and me.json()["error"]["code"] == "bad_token", me.text
    opened = client.post("/api/lanes/door/open", json={"reason": "bot"}, headers=bearer(token))
    assert opened.status_code == 401, opened.text
