"""A resident's lost car card replaced on the admin page: the new card names the car by its plate,
as the admin knows it, and opens the car barrier as the old one did (the browser test is
test_admin_card_car_browser.py)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.web.i18n import js_texts
from tests.ui.conftest import ADMIN, PLATE, Site, bearer, log_in, stored

OLD, NEW = "0011223344", "0055667788"


def at_the_barrier(site: Site, lane: str, card: str) -> tuple[bool, str]:
    """Whether `card` tapped at `lane` now is let through, and why."""
    gw = site.gw
    p = Presented(lane, "card", card, 1.0, gw.now(), "test-reader")
    event = gw.on_worker(lambda c: gw.handle(p)).result(10)
    return event.admitted, event.reason


def card_form_fields(client: TestClient) -> set[str]:
    form = re.search(r'data-api="/api/cards".*?</form>', client.get("/admin").text, re.S)
    assert form is not None
    return set(re.findall(r'name="([a-z_]+)"', form.group(0)))


def test_a_lost_car_card_replaced_on_the_admin_page_still_opens_the_car_barrier(
    client: TestClient, site: Site
) -> None:
    """R1's car card is lost and the guard blocks it; the admin gives R1 a new card on the admin page
    (管理 → 发卡), typing the car's plate. The new card opens the car barrier as the old one did
    (once, a card from that form named no car and was refused `no_slot` there)."""
    admin = bearer(site.admin_token)
    body = {"card": OLD, "resident_id": site.resident_id, "vehicle_id": site.vehicle_id}
    assert client.post("/api/cards", json=body, headers=admin).status_code == 200
    lost = {"kind": "card", "value": OLD, "reason": "业主报失"}
    assert client.post("/api/credentials/block", json=lost, headers=admin).status_code == 200

    csrf = log_in(client, ADMIN)
    fields = card_form_fields(client)
    body = {"card": NEW, "resident_id": site.resident_id, "plate": PLATE}
    assert set(body) <= fields, f"the card form offers only {sorted(fields)}"
    made = client.post("/api/cards", json=body, headers=csrf)
    assert made.status_code == 200, made.text

    assert stored(site, "SELECT vehicle_id FROM credentials WHERE value = ?", NEW) == [(site.vehicle_id,)]
    assert at_the_barrier(site, "car-in", NEW) == (True, "resident")
    assert at_the_barrier(site, "car-in", OLD) == (False, "blocked")


def test_a_plate_that_is_not_the_residents_car_is_refused_in_the_pages_words(
    client: TestClient, site: Site
) -> None:
    """A plate typed wrong, or another resident's car, gives no card: the admin is told, in the
    page's language, that this resident has no such car (a card tied to another's car would open
    the barrier for it)."""
    csrf = log_in(client, ADMIN)
    other = client.post(
        "/api/residents",
        json={"ref": "R2", "building": "5栋", "unit": "1单元", "name": "李四"},
        headers=csrf,
    ).json()["id"]
    car = {"plate": "皖B54321", "resident_id": other}
    assert client.post("/api/vehicles", json=car, headers=csrf).status_code == 200

    for plate in ("皖B54321", "皖A99999"):
        body = {"card": NEW, "resident_id": site.resident_id, "plate": plate}
        refused = client.post("/api/cards", json=body, headers=csrf)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "not_their_vehicle"
    assert stored(site, "SELECT count(*) FROM credentials WHERE value = ?", NEW) == [(0,)]
    assert "该业主名下没有这个车牌的车辆" in js_texts("zh")["err.not_their_vehicle"]
    assert "no car with this plate" in js_texts("en")["err.not_their_vehicle"]

    both = {"card": NEW, "resident_id": site.resident_id, "plate": PLATE, "vehicle_id": site.vehicle_id}
    twice = client.post("/api/cards", json=both, headers=csrf)
    assert twice.status_code == 422 and "not both" in twice.json()["error"]["fix"]
