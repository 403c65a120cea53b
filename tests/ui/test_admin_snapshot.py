"""What the central server's next snapshot does to the register an admin keeps at the booth, and
to the people and cars inside when it withdraws a resident or a slot."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.store.occupancy import people_inside
from tests.snapshot_helpers import apply_snapshot
from tests.ui.conftest import CARD, PLATE, Site, bearer


def resident(ref: str, **more: Any) -> dict[str, Any]:
    return {"kind": "resident", "ref": ref, "building": "1栋", "unit": "1单元", "name": "李四", **more}


def card(number: str, ref: str) -> dict[str, Any]:
    return {"kind": "card", "card": number, "resident": ref}


def vehicle(plate: str, ref: str) -> dict[str, Any]:
    return {"kind": "vehicle", "plate": plate, "resident": ref}


def _centre(card_numbers: list[str], slot: bool = True) -> list[dict[str, object]]:
    """The centre's register as it stands: R1 (the seeded resident), his car, these cards, his slot."""
    return [
        resident("R1", building="3栋", unit="2单元", room="301", name="张三丰"),
        vehicle(PLATE, "R1"),
        *[card(n, "R1") for n in card_numbers],
        *([{"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": [PLATE]}] * slot),
    ]


def _admitted(site: Site, lane: str, kind: str, value: str) -> bool:
    gw = site.gw
    p = Presented(lane, kind, value, 1.0, gw.now(), "test-dev")  # type: ignore[arg-type]
    return gw.on_worker(lambda c: gw.handle(p)).result(10).admitted


def test_a_card_an_admin_gives_at_the_booth_lasts_until_the_centre_lists_it_or_not(
    client: TestClient, site: Site
) -> None:
    """At the booth an admin gives R1 a second card. The record upstream names the card and R1's
    ref, so the centre can add it to its register; the next snapshot replaces what the booth
    made, as docs/mqtt.md says: a card the centre does not list is removed."""
    gw = site.gw
    apply_snapshot(gw, 1, _centre([CARD]))
    admin = bearer(site.admin_token)
    r = client.post("/api/cards", json={"card": "0099887766", "resident_id": site.resident_id}, headers=admin)
    assert r.status_code == 200, r.text
    with sqlite3.connect(gw.db_path) as conn:
        (payload,) = conn.execute(
            "SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    told = json.loads(payload)
    assert (told["op"], told["card"], told["resident"]) == ("add", "0099887766", "R1")
    apply_snapshot(gw, 2, _centre([CARD, "0099887766"]))  # the centre took it in
    assert _admitted(site, "door", "card", "0099887766")
    apply_snapshot(gw, 3, _centre([CARD]))  # the centre did not
    assert not _admitted(site, "door", "card", "0099887766")


def test_a_resident_the_centre_withdraws_while_inside_on_foot_is_not_counted_inside(
    client: TestClient, site: Site
) -> None:
    """R1 swipes in at the door; the next snapshot no longer lists him (moved out). No reader will
    see him leave, so the occupancy page must not count him inside on foot for ever."""
    gw = site.gw
    apply_snapshot(gw, 1, _centre([CARD]))
    assert _admitted(site, "door", "card", CARD)
    assert gw.on_worker(people_inside).result(10) == 1
    apply_snapshot(gw, 2, [resident("R9")])
    assert gw.on_worker(people_inside).result(10) == 0


def test_a_slot_the_centre_withdraws_while_a_car_is_parked_on_it_keeps_the_car_counted(
    client: TestClient, site: Site
) -> None:
    """R1's car is parked on its slot B001 (zone capacity 10: 1 fixed, 9 shared); the centre
    withdraws the slot. The car is still in the garage: only 9 more cars may come in."""
    gw = site.gw
    apply_snapshot(gw, 1, _centre([CARD]))
    assert _admitted(site, "car-in", "plate", PLATE)
    apply_snapshot(gw, 2, _centre([CARD], slot=False))
    admitted = [_admitted(site, "car-in", "plate", f"皖B1000{i}") for i in range(10)]
    assert admitted.count(True) == 9
