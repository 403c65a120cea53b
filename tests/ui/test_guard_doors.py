"""A visitor at the pedestrian door through the guard app: the occupancy page after check-out, and
what the central server gets of the pass's QR token (the key to the door while the pass lasts)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer, decided


def _visitor(client: TestClient, site: Site) -> dict[str, object]:
    r = client.post(
        "/api/visitors",
        json={"name": "王五", "host_building": "3栋", "host_unit": "2单元", "destination": "3栋301"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code in (200, 201), r.text
    shown = client.get(f"/api/passes/{r.json()['id']}", headers=bearer(site.guard_token))
    return dict(shown.json())


def _people_inside(client: TestClient, site: Site) -> int:
    return int(client.get("/api/occupancy", headers=bearer(site.guard_token)).json()["people_inside"])


def _upstream(site: Site) -> list[str]:
    def payloads(conn):  # type: ignore[no-untyped-def]
        return [p for (p,) in conn.execute("SELECT payload FROM outbox ORDER BY seq")]

    return list(site.gw.on_worker(payloads).result(timeout=10))


def test_a_visitor_checked_out_at_the_booth_is_no_longer_counted_inside(
    client: TestClient, site: Site
) -> None:
    """占用 Occupancy shows the people inside on foot. A visitor who came in through the door on the
    pass's QR and was checked out by the guard has left: they are no longer counted."""
    visitor = _visitor(client, site)
    row = decided(site, "door-reader", "qr", str(visitor["qr"]))
    assert (row["admitted"], row["reason"]) == (1, "visitor")
    assert _people_inside(client, site) == 1
    r = client.post(f"/api/passes/{visitor['id']}/checkout", headers=bearer(site.guard_token))
    assert r.status_code == 200, r.text
    assert _people_inside(client, site) == 0


def test_the_qr_token_of_a_pass_is_not_sent_upstream(client: TestClient, site: Site) -> None:
    """docs/mqtt.md: personal data never goes up in clear, and a pass goes up without its QR token.
    Whoever holds the token opens the door with it while the pass lasts: the access record of the
    visitor's entry names the pass, not the token."""
    visitor = _visitor(client, site)
    decided(site, "door-reader", "qr", str(visitor["qr"]))
    sent = _upstream(site)
    assert any('"kind": "qr"' in p and f'"id": {visitor["id"]}' in p for p in sent), sent
    assert [p for p in sent if str(visitor["qr"]) in p] == []


def test_blocking_a_pass_qr_does_not_send_its_token_upstream(client: TestClient, site: Site) -> None:
    """The same for a guard blocking a lost pass at the booth ('Block now' on its QR)."""
    visitor = _visitor(client, site)
    r = client.post(
        "/api/credentials/block",
        json={"kind": "qr", "value": visitor["qr"], "reason": "访客报失"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 200, r.text
    sent = _upstream(site)
    assert any('"op": "block"' in p and '"kind": "qr"' in p for p in sent), sent
    assert [p for p in sent if str(visitor["qr"]) in p] == []
