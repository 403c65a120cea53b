"""A card, a monthly car or a slot an admin adds at the booth keeps its hours, period, car and cars
once the central server, which owns the register, takes it in from the `registry` record (docs/
mqtt.md *registry*) and lists it in its next snapshot, which replaces the booth's row with what the
centre holds. The record used to carry the keys only: the card then opened at any hour, and the
monthly car was turned away as a car with no slot (review s38_i)."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from gateway.core import Presented
from tests.snapshot_helpers import apply_snapshot
from tests.ui.conftest import CARD, PLATE, Site, bearer

MONTHLY = "皖A77777"  # a car with no slot: it parks as a monthly car or not at all (no_slot = refuse)
# What a snapshot's entry of each kind may hold beside its keys (gateway/sync/entries.py FIELDS).
_SNAPSHOT_FIELDS = {
    "card": ("card", "resident", "plate", "valid_from", "valid_to", "hours"),
    "vehicle": ("plate", "resident", "class", "monthly_until", "valid_from", "valid_to"),
    "slot": ("zone", "number", "resident", "plates"),
}


def _centre(*more: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "kind": "resident",
            "ref": "R1",
            "building": "3栋",
            "unit": "2单元",
            "room": "301",
            "name": "张三丰",
        },
        {"kind": "vehicle", "plate": PLATE, "resident": "R1"},
        {"kind": "card", "card": CARD, "resident": "R1"},
        {"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": [PLATE]},
        *more,
    ]


def _taken_in(site: Site, entity: str) -> dict[str, Any]:
    """The centre's entry for the row the last `registry` record of `entity` told it of."""
    with sqlite3.connect(site.gw.db_path) as conn:
        (payload,) = conn.execute(
            "SELECT payload FROM outbox WHERE topic = 'registry' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    told = json.loads(payload)
    assert told["entity"] == entity, told
    return {"kind": entity} | {k: told[k] for k in _SNAPSHOT_FIELDS[entity] if k in told}


def _decide(site: Site, lane: str, kind: str, value: str) -> tuple[bool, str]:
    gw = site.gw
    p = Presented(lane, kind, value, 1.0, gw.now(), "test-dev")  # type: ignore[arg-type]
    ev = gw.on_worker(lambda c: gw.handle(p)).result(10)
    return ev.admitted, ev.reason


def _add(client: TestClient, site: Site, path: str, body: dict[str, Any]) -> None:
    r = client.post(path, json=body, headers=bearer(site.admin_token))
    assert r.status_code in (200, 201), r.text


def test_a_card_given_at_the_booth_with_daily_hours_keeps_them_once_the_centre_takes_it_in(
    client: TestClient, site: Site
) -> None:
    gw = site.gw
    apply_snapshot(gw, 1, _centre())
    later = gw.now() + timedelta(hours=2)
    hours = f"{later:%H:%M}-{later + timedelta(hours=1):%H:%M}"  # not now
    until = (gw.now() + timedelta(days=30)).date().isoformat()
    body = {"card": "0099887766", "resident_id": site.resident_id, "hours": [hours], "valid_to": until}
    _add(client, site, "/api/cards", {**body, "plate": PLATE})
    assert _decide(site, "door", "card", "0099887766") == (False, "outside_hours")
    entry = _taken_in(site, "card")
    apply_snapshot(gw, 2, _centre(entry))
    got = _decide(site, "door", "card", "0099887766")
    assert got == (False, "outside_hours"), (
        f"the card given for {hours} opens the door now ({got}): told {entry}"
    )
    # Its car and last day too, the day in the site's time (as a resident's edit sends it).
    assert (entry.get("plate"), entry.get("valid_to", "")[-6:]) == (PLATE, "+08:00"), entry


def test_a_monthly_car_added_at_the_booth_stays_monthly_once_the_centre_takes_it_in(
    client: TestClient, site: Site
) -> None:
    gw = site.gw
    apply_snapshot(gw, 1, _centre())
    until = (gw.now() + timedelta(days=60)).date().isoformat()
    _add(
        client,
        site,
        "/api/vehicles",
        {"plate": MONTHLY, "resident_id": site.resident_id, "monthly_until": until},
    )
    entry = _taken_in(site, "vehicle")
    apply_snapshot(gw, 2, _centre(entry))
    got = _decide(site, "car-in", "plate", MONTHLY)
    assert got == (True, "monthly"), f"the car paid up until {until} is now {got} at the gate: told {entry}"


def test_a_slot_added_at_the_booth_keeps_its_cars_once_the_centre_takes_it_in(
    client: TestClient, site: Site
) -> None:
    gw = site.gw
    apply_snapshot(gw, 1, _centre())
    _add(client, site, "/api/vehicles", {"plate": MONTHLY, "resident_id": site.resident_id})
    car = _taken_in(site, "vehicle")
    _add(
        client,
        site,
        "/api/slots",
        {"zone": "main", "number": "B002", "resident_id": site.resident_id, "plates": [MONTHLY]},
    )
    slot = _taken_in(site, "slot")
    apply_snapshot(gw, 2, _centre(car, slot))
    got = _decide(site, "car-in", "plate", MONTHLY)
    assert got[0], f"the car given slot B002 at the booth is now {got} at the gate: told {slot}"
